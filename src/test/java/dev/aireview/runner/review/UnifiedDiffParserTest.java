package dev.aireview.runner.review;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class UnifiedDiffParserTest {

    private final List<FileDiff> files = UnifiedDiffParser.parse(Fixtures.text("diff/git-multi.diff"));
    private final Map<String, FileDiff> byPath = files.stream().collect(Collectors.toMap(FileDiff::path, Function.identity()));

    @Test
    void readsEveryFileOfAGitDiffWithItsChangeType() {
        assertEquals(List.of("added.js", "app.txt", "dir with space/ünï.txt", "gone.md", "logo.png", "new.bin",
                "new_name.py", "sub/moved.txt"), files.stream().map(FileDiff::path).toList());
        assertEquals(FileDiff.ChangeType.ADDED, byPath.get("added.js").change());
        assertEquals(FileDiff.ChangeType.MODIFIED, byPath.get("app.txt").change());
        assertEquals(FileDiff.ChangeType.DELETED, byPath.get("gone.md").change());
        assertEquals(FileDiff.ChangeType.RENAMED, byPath.get("new_name.py").change());
        assertEquals("old_name.py", byPath.get("new_name.py").oldPath());
        assertEquals(FileDiff.ChangeType.RENAMED, byPath.get("sub/moved.txt").change());
        assertEquals("moved.txt", byPath.get("sub/moved.txt").oldPath());
        assertTrue(byPath.get("sub/moved.txt").hunks().isEmpty(), "a pure rename has no hunks");
    }

    @Test
    void marksBinaryFilesAndAddedBinaries() {
        assertTrue(byPath.get("logo.png").binary());
        assertEquals(FileDiff.ChangeType.MODIFIED, byPath.get("logo.png").change());
        assertTrue(byPath.get("new.bin").binary());
        assertEquals(FileDiff.ChangeType.ADDED, byPath.get("new.bin").change());
        assertFalse(byPath.get("app.txt").binary());
    }

    @Test
    void numbersLinesOnBothSidesAcrossHunks() {
        FileDiff app = byPath.get("app.txt");
        assertEquals(2, app.hunks().size());
        Hunk second = app.hunks().get(1);
        assertEquals(10, second.oldStart());
        assertEquals(6, second.oldCount());
        assertEquals(10, second.newStart());
        assertEquals(7, second.newCount());
        assertEquals("line9", second.section());
        List<DiffLine> added = app.addedLines();
        assertEquals(List.of(3, 13, 14), added.stream().map(DiffLine::newLine).toList());
        assertEquals(List.of("line3 changed", "line13 changed", "line13b added"), added.stream().map(DiffLine::text).toList());
        DiffLine removed = second.lines().stream().filter(l -> l.kind() == DiffLine.Kind.REMOVED).findFirst().orElseThrow();
        assertEquals(13, removed.oldLine());
        assertEquals(0, removed.newLine());
        DiffLine lastContext = second.lines().get(second.lines().size() - 1);
        assertEquals(DiffLine.Kind.CONTEXT, lastContext.kind());
        assertEquals(15, lastContext.oldLine());
        assertEquals(16, lastContext.newLine());
        assertEquals(4, app.additions() + app.deletions() - 1);
    }

    @Test
    void unquotesGitPathsAndReadsTheNoNewlineMarker() {
        FileDiff f = byPath.get("dir with space/ünï.txt");
        List<DiffLine> lines = f.hunks().get(0).lines();
        DiffLine last = lines.get(lines.size() - 1);
        assertEquals(DiffLine.Kind.ADDED, last.kind());
        assertEquals(8, last.newLine());
        assertTrue(last.noNewlineAtEnd(), "the marker applies to the added last line");
        DiffLine removedH = lines.get(lines.size() - 2);
        assertEquals(DiffLine.Kind.REMOVED, removedH.kind());
        assertFalse(removedH.noNewlineAtEnd(), "the old 'h' line had a newline");
    }

    @Test
    void deletedFileHasOnlyRemovedLinesAndKeepsItsPath() {
        FileDiff gone = byPath.get("gone.md");
        assertEquals(0, gone.additions());
        assertEquals(2, gone.deletions());
        assertEquals(0, gone.hunks().get(0).newStart());
    }

    @Test
    void parsesABarePatchAsSentInATask() {
        String patch = "@@ -1,3 +1,4 @@ class A\n a\n-b\n+B\n+C\n c\n@@ -20 +21 @@\n-x\n+y\n";
        FileDiff f = UnifiedDiffParser.parsePatch("src/A.java", null, FileDiff.ChangeType.MODIFIED, patch);
        assertEquals("src/A.java", f.path());
        assertEquals(2, f.hunks().size());
        assertEquals(List.of(2, 3, 21), f.addedLines().stream().map(DiffLine::newLine).toList());
        assertEquals(1, f.hunks().get(1).oldCount(), "a missing count means 1");
    }

    @Test
    void barePatchWithWrongCountsIsReadLeniently() {
        String patch = "@@ -1,1 +1,1 @@\n-old\n+new\n+extra line the header did not announce\n";
        FileDiff f = UnifiedDiffParser.parsePatch("x.txt", null, null, patch);
        assertEquals(List.of(1, 2), f.addedLines().stream().map(DiffLine::newLine).toList());
        assertEquals(FileDiff.ChangeType.MODIFIED, f.change());
    }

    @Test
    void patchWithFullHeadersTakesThePathsFromTheTask() {
        String patch = "diff --git a/old.txt b/new.txt\nsimilarity index 90%\nrename from old.txt\nrename to new.txt\n"
                + "--- a/old.txt\n+++ b/new.txt\n@@ -1,2 +1,2 @@\n keep\n-a\n+b\n";
        FileDiff f = UnifiedDiffParser.parsePatch("new.txt", "old.txt", FileDiff.ChangeType.RENAMED, patch);
        assertEquals("new.txt", f.path());
        assertEquals("old.txt", f.oldPath());
        assertEquals(List.of(2), f.addedLines().stream().map(DiffLine::newLine).toList());
    }

    @Test
    void plainUnifiedDiffWithTimestampsIsRead() {
        String diff = "--- a/x.c\t2024-01-01 10:00:00\n+++ b/x.c\t2024-01-02 10:00:00\n@@ -1,2 +1,3 @@\n int a;\n+int b;\n int c;\n"
                + "--- /dev/null\n+++ b/y.c\n@@ -0,0 +1 @@\n+new\n";
        List<FileDiff> parsed = UnifiedDiffParser.parse(diff);
        assertEquals(List.of("x.c", "y.c"), parsed.stream().map(FileDiff::path).toList());
        assertEquals(FileDiff.ChangeType.ADDED, parsed.get(1).change());
        assertEquals(List.of(2), parsed.get(0).addedLines().stream().map(DiffLine::newLine).toList());
    }

    @Test
    void crlfLinesAndBlankContextLinesAreHandled() {
        String patch = "@@ -1,3 +1,3 @@\r\n first\r\n\r\n-old\r\n+new\r\n";
        FileDiff f = UnifiedDiffParser.parsePatch("w.txt", null, null, patch);
        assertEquals(List.of(3), f.addedLines().stream().map(DiffLine::newLine).toList());
        assertEquals("new", f.addedLines().get(0).text());
    }

    @Test
    void unquotesOctalEscapes() {
        assertEquals("dir/naïve \"x\".txt", UnifiedDiffParser.unquote("\"dir/na\\303\\257ve \\\"x\\\".txt\""));
        assertEquals("plain", UnifiedDiffParser.unquote("plain"));
    }
}

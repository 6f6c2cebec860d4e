package dev.aireview.runner.review.ai;

import dev.aireview.runner.review.DiffLine;
import dev.aireview.runner.review.FileDiff;
import dev.aireview.runner.review.Hunk;
import dev.aireview.runner.review.UnifiedDiffParser;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Context around hunks from the file at head: up to the enclosing function, a few lines otherwise, never overlapping. */
class HunkContextTest {

    /** Head: line 5 opens a function, line 21 is the changed line (old line 20 was replaced by new 21, one line added at 2). */
    private static List<String> head() {
        List<String> lines = new ArrayList<>();
        for (int i = 1; i <= 40; i++) {
            lines.add(i == 5 ? "function discount(cart) {" : i == 21 ? "  const d = cart.discount ?? 0;" : "  line" + i + ";");
        }
        return lines;
    }

    @Test
    void widensUpToTheEnclosingFunctionAndAFewLinesAfter() {
        FileDiff f = UnifiedDiffParser.parsePatch("src/cart.js", null, FileDiff.ChangeType.MODIFIED,
                "@@ -19,3 +20,3 @@\n   line20;\n-  const d = cart.discount;\n+  const d = cart.discount ?? 0;\n   line22;\n");
        FileDiff wide = HunkContext.expand(f, head());
        Hunk h = wide.hunks().get(0);
        assertEquals(5, h.newStart());
        assertEquals("function discount(cart) {", h.lines().get(0).text());
        assertEquals(DiffLine.Kind.CONTEXT, h.lines().get(0).kind());
        assertEquals(4, h.lines().get(0).oldLine(), "old side shifted by the line added above");
        DiffLine last = h.lines().get(h.lines().size() - 1);
        assertEquals(22 + HunkContext.AFTER, last.newLine());
        assertEquals(h.newCount(), h.lines().stream().filter(l -> l.kind() != DiffLine.Kind.REMOVED).count());
        assertEquals(h.oldCount(), h.lines().stream().filter(l -> l.kind() != DiffLine.Kind.ADDED).count());
        assertEquals(f.addedLines(), wide.addedLines(), "what counts as changed is unchanged");
    }

    @Test
    void withoutADeclarationNearbyAddsAFewLinesAndNeverOverlapsTheNeighbour() {
        List<String> plain = new ArrayList<>();
        for (int i = 1; i <= 60; i++) {
            plain.add("  x" + i + ";");
        }
        FileDiff f = UnifiedDiffParser.parsePatch("a.js", null, FileDiff.ChangeType.MODIFIED,
                "@@ -10,1 +10,2 @@\n   x10;\n+  x11;\n@@ -14,1 +15,2 @@\n   x15;\n+  x16;\n");
        FileDiff wide = HunkContext.expand(f, plain);
        Hunk first = wide.hunks().get(0);
        Hunk second = wide.hunks().get(1);
        assertEquals(10 - HunkContext.BEFORE, first.newStart());
        assertTrue(first.newEnd() < second.newStart(), first.newEnd() + " overlaps " + second.newStart());
        assertEquals(first.newEnd() + 1, second.newStart(), "the gap is filled, each line once");
    }

    @Test
    void addedFilesAndUnknownContentAreLeftAlone() {
        FileDiff added = UnifiedDiffParser.parsePatch("n.js", null, FileDiff.ChangeType.ADDED, "@@ -0,0 +1,1 @@\n+x\n");
        assertSame(added, HunkContext.expand(added, List.of("x")));
        FileDiff mod = UnifiedDiffParser.parsePatch("m.js", null, FileDiff.ChangeType.MODIFIED, "@@ -1,1 +1,2 @@\n x\n+y\n");
        assertSame(mod, HunkContext.expand(mod, null));
    }

    @Test
    void aChangeThatEmptiesTheFileIsLeftAsItIs() {
        FileDiff emptied = UnifiedDiffParser.parsePatch("gone.js", null, FileDiff.ChangeType.MODIFIED, "@@ -1,2 +0,0 @@\n-a\n-b\n");
        FileDiff wide = HunkContext.expand(emptied, List.of());
        assertEquals(emptied.hunks(), wide.hunks());
    }

    @Test
    void aDeletionAtTheEndOfTheFileGetsContextAboveIt() {
        List<String> head = List.of("  a1;", "  a2;", "  a3;", "  a4;", "  a5;", "  a6;", "  a7;");
        FileDiff f = UnifiedDiffParser.parsePatch("end.js", null, FileDiff.ChangeType.MODIFIED, "@@ -8,2 +7,0 @@\n-  a8;\n-  a9;\n");
        Hunk h = HunkContext.expand(f, head).hunks().get(0);
        assertEquals(7 - HunkContext.BEFORE + 1, h.newStart());
        assertEquals("  a7;", h.lines().get(HunkContext.BEFORE - 1).text());
        assertEquals(DiffLine.Kind.REMOVED, h.lines().get(h.lines().size() - 1).kind());
    }

    @Test
    void tokenEstimateIsNearCharsOverFourForProseAndHigherForCode() {
        String prose = "The quick brown fox jumps over the lazy dog and keeps running through the field.";
        int t = TokenEstimate.of(prose);
        assertTrue(t >= prose.length() / 6 && t <= prose.length() / 3, "prose " + t);
        String code = "if (a[i] != b[j]) { return -1; }";
        assertTrue(TokenEstimate.of(code) > code.length() / 4, "code " + TokenEstimate.of(code));
    }
}

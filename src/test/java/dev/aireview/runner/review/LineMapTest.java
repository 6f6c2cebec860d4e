package dev.aireview.runner.review;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LineMapTest {

    private final LineMap map = new LineMap(UnifiedDiffParser.parse(Fixtures.text("diff/git-multi.diff")));

    @Test
    void keepsACommentOnAnAddedLine() {
        LineMap.Mapping m = map.map("app.txt", 13);
        assertEquals(new LineMap.Mapping("app.txt", 13, false), m);
    }

    @Test
    void movesACommentOnAContextLineToTheNearestAddedLine() {
        assertTrue(map.isVisible("app.txt", 11));
        assertFalse(map.isAdded("app.txt", 11));
        assertEquals(new LineMap.Mapping("app.txt", 13, true), map.map("app.txt", 11));
        assertEquals(new LineMap.Mapping("app.txt", 3, true), map.map("app.txt", 1));
        // Equal distance: the line above wins.
        assertEquals(new LineMap.Mapping("app.txt", 3, true), map.map("app.txt", 8));
    }

    @Test
    void dropsACommentFarFromAnyChange() {
        assertNull(map.map("app.txt", 14 + LineMap.MAX_MOVE_DISTANCE + 1));
        assertEquals(14, map.map("app.txt", 14 + LineMap.MAX_MOVE_DISTANCE).line());
    }

    @Test
    void dropsCommentsOnFilesOutsideTheDiffOrWithoutAddedLines() {
        assertNull(map.map("not/in/diff.txt", 1));
        assertNull(map.map("gone.md", 1), "a deleted file has no new lines");
        assertNull(map.map("sub/moved.txt", 1), "a pure rename has no added lines");
    }

    @Test
    void normalisesPathsAsModelsWriteThem() {
        assertEquals("app.txt", map.map("./app.txt", 3).path());
        assertEquals("app.txt", map.map("b/app.txt", 3).path());
        assertEquals("app.txt", map.map("/app.txt", 3).path());
        assertEquals("dir with space/ünï.txt", map.map("dir with space/ünï.txt", 4).path());
    }

    @Test
    void keepsAnEndLineOnlyInsideTheDiff() {
        assertEquals(14, map.mapEndLine("app.txt", 13, 14));
        assertNull(map.mapEndLine("app.txt", 13, 12), "end before start");
        assertNull(map.mapEndLine("app.txt", 13, 40), "end outside every hunk");
    }

    @Test
    void worksOnTaskPatches() {
        FileDiff f = UnifiedDiffParser.parsePatch("src/a.ts", null, FileDiff.ChangeType.MODIFIED,
                "@@ -10,3 +10,4 @@\n a\n+b\n c\n d\n");
        LineMap m = new LineMap(List.of(f));
        assertTrue(m.isAdded("src/a.ts", 11));
        assertEquals(11, m.map("src/a.ts", 12).line());
    }
}

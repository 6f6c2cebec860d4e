package dev.aireview.runner.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aireview.runner.model.Json;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The structural scanner that splits a poll answer into task entries (no network: its bytes, fed in pieces). */
class TaskListScannerTest {

    /** Feeds the answer in pieces of {@code piece} bytes, so tokens and entries straddle chunk boundaries. */
    private static TaskListScanner.Result scan(String body, int piece) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        TaskListScanner s = new TaskListScanner();
        for (int off = 0; off < b.length; off += piece) {
            s.feed(b, off, Math.min(piece, b.length - off));
        }
        return s.finish();
    }

    private static List<String> ids(TaskListScanner.Result r) {
        return r.entries().stream().map(TaskListScanner.Entry::id).toList();
    }

    private static JsonNode tree(TaskListScanner.Entry e) throws Exception {
        return Json.mapper().readTree(e.json());
    }

    @Test
    void shouldSplitAListIntoEntriesWhoseBytesAreExactlyEachElementWhateverTheChunking() throws Exception {
        String a = "{\"id\":\"a\",\"s\":\"q\\\"}],{\\\\\",\"n\":{\"x\":[1,{\"y\":\"]\"}]},\"u\":\"\\u00e9\\ud83d\\ude00 é 😀\"}";
        String b = "{\"nested\":{\"id\":\"not-me\"},\"taskId\":\"b\",\"arr\":[[],{},[{\"id\":\"deep\"}]],\"t\":true,\"f\":-1.5e+3}";
        String body = " {\"meta\":{\"id\":\"envelope\"},\"data\":[ " + a + " ,\n" + b + ",\"str\",12,null,[{\"id\":\"in-array\"}]] } ";
        for (int piece : new int[]{1, 2, 3, 7, 64, 1 << 16}) {
            TaskListScanner.Result r = scan(body, piece);
            assertTrue(r.complete(), piece + ": " + r.error());
            assertTrue(r.readable());
            assertEquals(6, r.entries().size(), "piece " + piece);
            assertEquals(Json.mapper().readTree(a), tree(r.entries().get(0)), "the bytes of entry a, piece " + piece);
            assertEquals(Json.mapper().readTree(b), tree(r.entries().get(1)), "piece " + piece);
            assertEquals("a", r.entries().get(0).id());
            assertEquals("b", r.entries().get(1).id(), "an id at depth 2 is not taken, the depth-1 taskId after it is");
            assertEquals(List.of("string", "number", "null", "array"),
                    r.entries().subList(2, 6).stream().map(TaskListScanner.Entry::kind).toList());
            assertNull(r.entries().get(5).id(), "an id inside a list entry is not that entry's id");
        }
    }

    @Test
    void shouldReadIdsAsReviewTaskIdOfDoesEscapesNumbersNullsAndContainers() {
        TaskListScanner.Result r = scan("[{\"\\u0069d\":\"t\\/1\\u00e9\"},{\"id\":null,\"task_id\":42},{\"id\":{\"x\":1},\"taskId\":\"no\"},"
                + "{\"task_id\":\"  \"},{\"x\":{\"id\":\"deep\"}},{\"taskId\":\"late\",\"id\":\"first-by-name\"}]", 5);
        assertTrue(r.complete(), r.error());
        assertEquals(java.util.Arrays.asList("t/1é", "42", null, null, null, "first-by-name"), ids(r));
    }

    @Test
    void shouldSkipAnEntryOverTheCapInConstantMemoryAndStillFindItsIdBeforeOrAfterTheBigField() {
        String big = "x".repeat(TaskListScanner.MAX_TASK_BYTES + 10);
        String body = "{\"data\":[{\"id\":\"ok-1\"},{\"id\":\"big-before\",\"p\":\"" + big + "\"},{\"p\":\"" + big
                + "\",\"x\":{\"id\":\"deep\"},\"task_id\":\"big-after\"},{\"p\":\"" + big + "\"},{\"id\":\"ok-2\"}]}";
        TaskListScanner.Result r = scan(body, 1 << 16);
        assertTrue(r.complete(), r.error());
        assertEquals(java.util.Arrays.asList("ok-1", "big-before", "big-after", null, "ok-2"), ids(r));
        TaskListScanner.Entry before = r.entries().get(1);
        assertNull(before.json(), "not kept");
        assertEquals(TaskListScanner.Skip.TOO_LARGE, before.skip());
        assertTrue(before.size() > TaskListScanner.MAX_TASK_BYTES, "its size is counted: " + before.size());
        assertEquals(List.of("p", "x", "task_id"), r.entries().get(2).fields());
        assertNotNull(r.entries().get(4).json(), "the task after the big ones is kept whole");
    }

    @Test
    void shouldFindTheListInEveryShapePollAnswerReads() {
        assertEquals(List.of("b1"), ids(scan("[{\"id\":\"b1\"}]", 3)));
        assertEquals(List.of("t1"), ids(scan("{\"data\":{\"tasks\":[{\"id\":\"t1\"}],\"items\":[{\"id\":\"i1\"}]}}", 3)));
        assertEquals(List.of("i1"), ids(scan("{\"data\":{\"tasks\":null,\"items\":[{\"id\":\"i1\"}]}}", 3)));
        assertEquals(List.of("r1"), ids(scan("{\"tasks\":[{\"id\":\"r1\"}]}", 3)));
        assertEquals(List.of("one"), ids(scan("{\"meta\":{},\"data\":{\"id\":\"one\",\"x\":[1]}}", 3)));
        assertEquals(List.of("bare"), ids(scan("{\"id\":\"bare\",\"headSha\":\"s\"}", 3)));
        assertNull(scan("{\"data\":null}", 3).entries());
        assertNull(scan("{\"data\":{}}", 3).entries());
        assertNull(scan("{\"data\":{\"tasks\":{\"id\":\"x\"}}}", 3).entries(), "tasks that is no list: no task");
        assertEquals(List.of(), scan("", 3).entries());
    }

    @Test
    void shouldStopAtABreakAndKeepWhatCameBeforeIt() {
        TaskListScanner.Result cut = scan("{\"data\":[{\"id\":\"whole\"},{\"id\":\"cut\",\"files\":[{\"path\":", 4);
        assertFalse(cut.complete());
        assertTrue(cut.error().contains("ends early"), cut.error());
        assertEquals(List.of("whole", "cut"), ids(cut));
        assertTrue(cut.entries().get(0).complete());
        assertFalse(cut.entries().get(1).complete());

        for (String broken : List.of("[{\"id\":\"a\"},{\"id\":\"b\" \"x\":1},{\"id\":\"c\"}]", "[{\"id\":\"a\"},{\"id\":\"b\",\"x\":tru},{\"id\":\"c\"}]",
                "[{\"id\":\"a\"},{\"id\":\"b\",\"x\":\"\\q\"},{\"id\":\"c\"}]", "[{\"id\":\"a\"},{\"id\":\"b\",\"x\":\"\t\"},{\"id\":\"c\"}]",
                "[{\"id\":\"a\"},{\"id\":\"b\",\"x\":[1}},{\"id\":\"c\"}]")) {
            TaskListScanner.Result r = scan(broken, 2);
            assertNotNull(r.error(), broken);
            assertEquals(List.of("a", "b"), ids(r), broken + ": " + r.error());
            assertFalse(r.entries().get(1).complete(), broken);
        }

        TaskListScanner.Result html = scan("<!DOCTYPE html><html>", 4);
        assertFalse(html.readable());
        assertTrue(new String(html.head(), StandardCharsets.UTF_8).startsWith("<!DOCTYPE"));
        assertFalse(scan("{\"meta\":{\"x\":", 4).readable(), "an object cut before naming a list or a task");
        assertTrue(scan("{\"id\":\"x\",\"repo", 4).readable(), "a single task cut off is still that task");
    }

    @Test
    void shouldStopAtTheScanBoundWithTheTasksReadSoFar() {
        TaskListScanner s = new TaskListScanner();
        // strings of 1 MiB, not one string to the bound: Jackson holds a string whole (see the test after this)
        byte[] start = "[{\"id\":\"a\"},{\"id\":\"b\",\"p\":[\"".getBytes(StandardCharsets.UTF_8);
        s.feed(start, 0, start.length);
        byte[] mib = ("x".repeat((1 << 20) - 3) + "\",\"").getBytes(StandardCharsets.US_ASCII);
        long fed = start.length;
        while (!s.stopped() && fed < 2L * TaskListScanner.MAX_SCAN_BYTES) {
            s.feed(mib, 0, mib.length);
            fed += mib.length;
        }
        assertTrue(s.stopped(), "stops at the bound");
        TaskListScanner.Result r = s.finish();
        assertTrue(r.truncated());
        assertEquals(TaskListScanner.MAX_SCAN_BYTES, r.size());
        assertEquals(List.of("a", "b"), ids(r));
        assertFalse(r.entries().get(1).complete());
        assertEquals(TaskListScanner.Skip.TOO_LARGE, r.entries().get(1).skip());

        String many = "[" + "{},".repeat(TaskListScanner.MAX_ENTRIES) + "{\"id\":\"one-too-many\"}]";
        TaskListScanner.Result over = scan(many, 1 << 16);
        assertTrue(over.error().contains("more than " + TaskListScanner.MAX_ENTRIES + " entries"), over.error());
        assertEquals(TaskListScanner.MAX_ENTRIES, over.entries().size());
    }

    // Where the scanner on Jackson's parser differs from the hand-written one it replaced (see the class javadoc).

    @Test
    void shouldStopAtAStringOverJacksonsStringLimitAndReportTheEntryItIsInByItsId() {
        String body = "[{\"id\":\"a\"},{\"id\":\"b\",\"p\":\"" + "x".repeat(TaskListScanner.MAX_STRING_CHARS + (1 << 20)) /* checked per buffer segment */ + "\"},{\"id\":\"c\"}]";
        TaskListScanner.Result r = scan(body, 1 << 16);
        assertNotNull(r.error(), "the hand-written scanner skipped the string and read c");
        assertTrue(r.error().contains("String value length"), r.error());
        assertEquals(List.of("a", "b"), ids(r));
        assertTrue(r.entries().get(0).complete());
        assertFalse(r.entries().get(1).complete(), "cut off there, so reported bad_task by its id");
        assertEquals(TaskListScanner.Skip.TOO_LARGE, r.entries().get(1).skip());
    }

    @Test
    void shouldStopAtInvalidUtf8AndKeepTheEntriesBeforeIt() {
        byte[] prefix = "[{\"id\":\"a\",\"u\":\"\u00e9\"},{\"id\":\"b\",\"x\":\"".getBytes(StandardCharsets.UTF_8);
        byte[] suffix = "\"},{\"id\":\"c\"}]".getBytes(StandardCharsets.UTF_8);
        byte[] body = new byte[prefix.length + 2 + suffix.length];
        System.arraycopy(prefix, 0, body, 0, prefix.length);
        body[prefix.length] = (byte) 0xC3;   // a lead byte ...
        body[prefix.length + 1] = (byte) 'z'; // ... not followed by a continuation byte
        System.arraycopy(suffix, 0, body, prefix.length + 2, suffix.length);
        TaskListScanner.Result r = TaskListScanner.scan(body);
        assertNotNull(r.error(), "the hand-written scanner kept b's bytes (Jackson failed them later) and read c");
        assertEquals(List.of("a", "b"), ids(r));
        assertTrue(r.entries().get(0).complete());
        assertFalse(r.entries().get(1).complete());
    }

    @Test
    void shouldStopAtNestingDeeperThanTheDepthBound() {
        int deep = TaskListScanner.MAX_DEPTH;
        String body = "[{\"id\":\"a\"},{\"id\":\"b\",\"x\":" + "[".repeat(deep) + "]".repeat(deep) + "},{\"id\":\"c\"}]";
        TaskListScanner.Result r = scan(body, 7);
        assertNotNull(r.error(), "there was no depth bound");
        assertTrue(r.error().contains("nesting depth"), r.error());
        assertEquals(List.of("a", "b"), ids(r));
        assertFalse(r.entries().get(1).complete());

        String ok = "[{\"id\":\"a\",\"x\":" + "[".repeat(deep - 3) + "]".repeat(deep - 3) + "}]";
        assertTrue(scan(ok, 7).complete(), "nesting to the bound is read");
    }

    @Test
    void shouldFindEntryOffsetsAfterAByteOrderMark() throws Exception {
        byte[] json = "[ {\"id\":\"a\"},{\"id\":\"b\"}]".getBytes(StandardCharsets.UTF_8);
        byte[] body = new byte[json.length + 3];
        body[0] = (byte) 0xEF;
        body[1] = (byte) 0xBB;
        body[2] = (byte) 0xBF;
        System.arraycopy(json, 0, body, 3, json.length);
        TaskListScanner.Result r = TaskListScanner.scan(body);
        assertTrue(r.complete(), r.error());
        assertEquals("b", tree(r.entries().get(1)).get("id").asText());
        assertEquals(json.length + 3, r.size());
    }
}

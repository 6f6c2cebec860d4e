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
        byte[] start = "[{\"id\":\"a\"},{\"id\":\"b\",\"p\":\"".getBytes(StandardCharsets.UTF_8);
        s.feed(start, 0, start.length);
        byte[] mib = "x".repeat(1 << 20).getBytes(StandardCharsets.US_ASCII);
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

    // On Jackson's non-blocking parser: what the parser is fed is filtered (invalid UTF-8, long strings), the entries
    // are the original bytes, and there is a depth bound.

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            o.writeBytes(p);
        }
        return o.toByteArray();
    }

    private static TaskListScanner.Result scan(byte[] b, int piece) {
        TaskListScanner s = new TaskListScanner();
        for (int off = 0; off < b.length; off += piece) {
            s.feed(b, off, Math.min(piece, b.length - off));
        }
        return s.finish();
    }

    @Test
    void shouldKeepAnEntryWithInvalidUtf8AsItsOriginalBytesAndReadTheEntriesAfterIt() throws Exception {
        byte[][] invalid = {{(byte) 0xC3, 'z'}, {(byte) 0x80}, {(byte) 0xFF, (byte) 0xFE}, {(byte) 0xF0, (byte) 0x9F, (byte) 0x98},
                {(byte) 0xE2, (byte) 0x82}, {(byte) 0xC0, (byte) 0xAF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
                {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0xC3, (byte) 0xA9, (byte) 0xC3}};
        byte[] a = "{\"id\":\"a\",\"u\":\"\u00e9\ud83d\ude00\"}".getBytes(StandardCharsets.UTF_8);
        byte[] c = "{\"id\":\"c\"}".getBytes(StandardCharsets.UTF_8);
        for (byte[] bad : invalid) {
            byte[] b = concat("{\"id\":\"b\",\"x\":\"\u00e9".getBytes(StandardCharsets.UTF_8), bad, "\u00e9\"}".getBytes(StandardCharsets.UTF_8));
            byte[] body = concat("[".getBytes(StandardCharsets.UTF_8), a, ",".getBytes(StandardCharsets.UTF_8), b, ",".getBytes(StandardCharsets.UTF_8), c, "]".getBytes(StandardCharsets.UTF_8));
            for (int piece : new int[]{1, 2, 3, 5, 64, 1 << 16}) {
                String what = java.util.HexFormat.of().formatHex(bad) + ", piece " + piece;
                TaskListScanner.Result r = scan(body, piece);
                assertTrue(r.complete(), what + ": " + r.error());
                assertEquals(List.of("a", "b", "c"), ids(r), what);
                assertArrayEquals(a, r.entries().get(0).json(), what);
                assertArrayEquals(b, r.entries().get(1).json(), "the original bytes, " + what);
                assertArrayEquals(c, r.entries().get(2).json(), what);
            }
        }
        // an id with invalid UTF-8 reads as before: U+FFFD for each bad sequence, not the parser's placeholder
        byte[] ids = concat("[{\"id\":\"b".getBytes(StandardCharsets.UTF_8), new byte[]{(byte) 0xC3, 'z', (byte) 0xFF},
                "\"},{\"id\":\"\\u0062".getBytes(StandardCharsets.UTF_8), new byte[]{(byte) 0xE2, (byte) 0x82},
                "\",\"x\":\"".getBytes(StandardCharsets.UTF_8), new byte[]{(byte) 0x80}, "\"},{\"id\":\"b?z?\"}]".getBytes(StandardCharsets.UTF_8));
        for (int piece : new int[]{1, 2, 3, 64}) {
            assertEquals(List.of(new String(new byte[]{'b', (byte) 0xC3, 'z', (byte) 0xFF}, StandardCharsets.UTF_8),
                    new String(new byte[]{'b', (byte) 0xE2, (byte) 0x82}, StandardCharsets.UTF_8), "b?z?"), ids(scan(ids, piece)), "piece " + piece);
        }
        // so it is Jackson, on that entry alone, that fails it (and PollAnswer reports it bad_task by its id)
        byte[] broken = concat("{\"id\":\"b\",\"x\":\"".getBytes(StandardCharsets.UTF_8), new byte[]{(byte) 0xC3, 'z'}, "\"}".getBytes(StandardCharsets.UTF_8));
        assertThrows(java.io.IOException.class, () -> Json.mapper().readTree(broken));
        assertFalse(scan(concat("[{\"id\":\"a\"},".getBytes(StandardCharsets.UTF_8), new byte[]{(byte) 0xFF}, "{\"id\":\"b\"}]".getBytes(StandardCharsets.UTF_8)), 1).complete(),
                "outside a string it is a syntax error, as before");
    }

    @Test
    void shouldFeedTheParserOnlyTheStartOfALongStringAndStillCheckItsEscapes() throws Exception {
        String text = "x\\\"\\\\\\u00e9\u00e9\ud83d\ude00\\n".repeat(20_000); // ~380 KiB: escapes and multi-byte characters
        String b = "{\"id\":\"b\",\"p\":\"" + text + "\",\"q\":[1,{\"r\":\"" + text + "\"}]}";
        String longKey = "k".repeat(TaskListScanner.MAX_FED_STRING_BYTES * 2);
        String body = "[{\"id\":\"a\"}," + b + ",{\"" + longKey + "\":1,\"id\":\"c\"},{\"id\":\"" + longKey + "\"},{\"id\":\"e\"}]";
        for (int piece : new int[]{7, 4096, 1 << 16, 1 << 20}) {
            TaskListScanner.Result r = scan(body, piece);
            assertTrue(r.complete(), piece + ": " + r.error());
            assertEquals(java.util.Arrays.asList("a", "b", "c", null, "e"), ids(r), "piece " + piece);
            assertEquals(b, new String(r.entries().get(1).json(), StandardCharsets.UTF_8), "piece " + piece);
            assertEquals(Json.mapper().readTree(b).get("p").asText(), tree(r.entries().get(1)).get("p").asText());
            assertEquals(List.of("(a long name)", "id"), r.entries().get(2).fields());
        }
        String start = "[{\"id\":\"a\"},{\"id\":\"b\",\"p\":\"" + "y".repeat(3 * TaskListScanner.MAX_FED_STRING_BYTES);
        for (String broken : List.of("\\q", "\t", "\\u12x4")) {
            String s = start + broken + "\"},{\"id\":\"c\"}]";
            TaskListScanner.Result r = scan(s, 5000);
            assertNotNull(r.error(), broken);
            int at = start.length() + broken.indexOf(broken.equals("\t") ? '\t' : broken.equals("\\q") ? 'q' : 'x');
            assertTrue(r.error().endsWith(" in a string at byte " + at), r.error());
            assertEquals(List.of("a", "b"), ids(r), broken + ": " + r.error());
            assertFalse(r.entries().get(1).complete(), broken);
        }
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
        for (int piece : new int[]{1, 2, 4, 64}) {
            TaskListScanner.Result r = scan(body, piece);
            assertTrue(r.complete(), r.error());
            assertEquals("b", tree(r.entries().get(1)).get("id").asText());
            assertEquals(json.length + 3, r.size());
        }
    }
}

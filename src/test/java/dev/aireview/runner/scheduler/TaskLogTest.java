package dev.aireview.runner.scheduler;

import dev.aireview.runner.model.LogStream;
import dev.aireview.runner.observability.SecretMasker;
import dev.aireview.runner.server.LogLine;
import org.junit.jupiter.api.Test;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class TaskLogTest {
    private final Clock clock = Clock.systemUTC();

    private static List<LogLine> drain(TaskLog log, long batchBytes, List<Long> offsets) {
        List<LogLine> all = new ArrayList<>();
        TaskLog.Batch b;
        while ((b = log.take(batchBytes)) != null) {
            assertEquals(all.size(), b.offset(), "offset is the index of the batch's first line");
            offsets.add(b.offset());
            all.addAll(b.lines());
        }
        return all;
    }

    @Test
    void shouldMaskSecretsAndTheirUrlEncodedForms() {
        String token = "ghs_clone/token+1";
        TaskLog log = new TaskLog(1 << 20, SecretMasker.of(List.of(token, "sk-ai-key-9")), clock);
        log.append(LogStream.STDOUT, "cloning https://x-access-token:" + URLEncoder.encode(token, StandardCharsets.UTF_8) + "@git.example/a.git\n");
        log.append(LogStream.STDERR, "key=sk-ai-key-9 token=" + token);
        log.close();
        List<LogLine> lines = drain(log, 1 << 20, new ArrayList<>());
        assertEquals("cloning https://x-access-token:****@git.example/a.git", lines.get(0).text());
        assertEquals("key=**** token=****", lines.get(1).text());
        assertEquals(LogStream.STDERR, lines.get(1).stream());
    }

    @Test
    void shouldTruncateVeryLongLines() {
        TaskLog log = new TaskLog(1 << 20, SecretMasker.none(), clock);
        log.append(LogStream.STDOUT, "x".repeat(100_000));
        log.close();
        String text = drain(log, 1 << 20, new ArrayList<>()).get(0).text();
        assertTrue(text.startsWith("x".repeat(TaskLog.MAX_LINE_BYTES)));
        assertTrue(text.endsWith("[line truncated, " + (100_000 - TaskLog.MAX_LINE_BYTES) + " more bytes]"), text.substring(text.length() - 60));
        assertTrue(text.length() < TaskLog.MAX_LINE_BYTES + 100);
    }

    @Test
    void shouldKeepHeadAndTailAndSayWhatWasDroppedWithBoundedMemory() {
        long limit = 10_000;
        TaskLog log = new TaskLog(limit, SecretMasker.none(), clock);
        int total = 100_000;
        long maxBuffered = 0;
        List<Long> offsets = new ArrayList<>();
        List<LogLine> sent = new ArrayList<>();
        for (int i = 0; i < total; i++) {
            log.append(LogStream.STDOUT, String.format("line %06d", i)); // 11 bytes
            maxBuffered = Math.max(maxBuffered, log.bufferedBytes());
            if (i % 1000 == 0) {
                TaskLog.Batch b;
                while ((b = log.take(2048)) != null) {
                    assertEquals(sent.size(), b.offset());
                    offsets.add(b.offset());
                    sent.addAll(b.lines());
                }
            }
        }
        assertTrue(maxBuffered <= limit, "memory bounded by the limit: " + maxBuffered);
        log.close();
        TaskLog.Batch b;
        while ((b = log.take(2048)) != null) {
            assertEquals(sent.size(), b.offset());
            sent.addAll(b.lines());
        }
        long headLines = 5_000 / (11 + TaskLog.LINE_OVERHEAD_BYTES);
        assertEquals("line 000000", sent.get(0).text());
        assertEquals(String.format("line %06d", headLines - 1), sent.get((int) headLines - 1).text());
        LogLine notice = sent.get((int) headLines);
        assertEquals(LogStream.SYSTEM, notice.stream());
        long tailLines = 5_000 / (11 + TaskLog.LINE_OVERHEAD_BYTES);
        long dropped = total - headLines - tailLines;
        assertEquals(dropped, log.droppedLines());
        assertEquals(dropped * 11, log.droppedBytes());
        assertTrue(notice.text().startsWith(dropped + " line(s) (" + dropped * 11 + " bytes) of output dropped"), notice.text());
        assertEquals(String.format("line %06d", total - 1), sent.get(sent.size() - 1).text());
        assertEquals(String.format("line %06d", total - tailLines), sent.get((int) headLines + 1).text());
        assertEquals(headLines + 1 + tailLines, sent.size());
        long bytes = sent.stream().filter(l -> l.stream() != LogStream.SYSTEM).mapToLong(l -> l.text().length()).sum();
        assertTrue(bytes <= limit, "sent bytes within the cap: " + bytes);
    }

    @Test
    void shouldCutBatchesBySizeWithContiguousOffsetsAndNoNoticeWhenNothingDropped() {
        TaskLog log = new TaskLog(1 << 20, SecretMasker.none(), clock);
        for (int i = 0; i < 100; i++) {
            log.append(LogStream.STDOUT, "0123456789");
        }
        log.close();
        List<Long> offsets = new ArrayList<>();
        List<LogLine> lines = drain(log, 100, offsets);
        assertEquals(100, lines.size());
        assertEquals(List.of(0L, 10L, 20L, 30L, 40L, 50L, 60L, 70L, 80L, 90L), offsets);
        assertTrue(lines.stream().noneMatch(l -> l.stream() == LogStream.SYSTEM));
        log.append(LogStream.STDOUT, "after close");
        assertNull(log.take(100));
    }

    @Test
    void shouldMaskBeforeCuttingALongLine() {
        String secret = "ghs_LongLineSecret_0123456789";
        TaskLog log = new TaskLog(1 << 20, SecretMasker.of(List.of(secret)), clock);
        for (int before : List.of(TaskLog.MAX_LINE_BYTES + 10, TaskLog.MAX_LINE_BYTES - 10, TaskLog.MAX_LINE_BYTES - secret.length() / 2)) {
            log.append(LogStream.STDOUT, "a".repeat(before) + secret + " tail");
        }
        log.close();
        TaskLog.Batch batch = log.take(1 << 20);
        assertEquals(3, batch.lines().size());
        assertTrue(batch.lines().get(0).text().contains("…[line truncated, "), "masked, then cut");
        assertTrue(batch.lines().get(1).text().endsWith("**** tail"), "masked whole, then short enough");
        assertTrue(batch.lines().get(2).text().endsWith("**** tail"), "masked whole across the cut, then short enough");
        for (var line : batch.lines()) {
            for (int n = 4; n < secret.length(); n++) {
                assertFalse(line.text().contains(secret.substring(0, n)), "a piece of the secret after the cut: " + n);
            }
        }
    }

    @Test
    void shouldChargeEveryLineAFixedCostSoEmptyAndOneByteLinesAreCapped() {
        long limit = 64 * 1024;
        for (String text : List.of("", "x")) {
            TaskLog log = new TaskLog(limit, SecretMasker.none(), clock);
            for (int i = 0; i < 200_000; i++) {
                log.append(LogStream.STDOUT, text);
                log.append(LogStream.STDERR, text); // alternating streams: no run to coalesce
                assertTrue(log.bufferedBytes() <= limit, "held cost within the limit: " + log.bufferedBytes());
            }
            log.close();
            List<LogLine> sent = drain(log, 1 << 20, new ArrayList<>());
            long perLine = text.length() + TaskLog.LINE_OVERHEAD_BYTES;
            assertTrue(sent.size() <= limit / perLine + 1, "lines kept bounded by the limit: " + sent.size());
            assertEquals(400_000 - (sent.size() - 1), log.droppedLines(), "the rest dropped and counted");
        }
    }

    @Test
    void shouldCapLinesPerPartWhateverTheByteLimit() {
        TaskLog log = new TaskLog(1L << 40, SecretMasker.none(), clock);
        for (int i = 0; i < 3 * TaskLog.MAX_PART_LINES; i++) {
            log.append(i % 2 == 0 ? LogStream.STDOUT : LogStream.STDERR, "y");
        }
        log.close();
        List<LogLine> sent = drain(log, Long.MAX_VALUE, new ArrayList<>());
        assertEquals(2L * TaskLog.MAX_PART_LINES + 1, sent.size(), "head, notice, tail");
        assertEquals(TaskLog.MAX_PART_LINES, log.droppedLines());
    }

    @Test
    void shouldCoalesceRunsOfEmptyLinesAndCountThem() {
        TaskLog log = new TaskLog(1 << 20, SecretMasker.none(), clock);
        log.append(LogStream.STDOUT, "start");
        for (int i = 0; i < 1_000_000; i++) {
            log.append(LogStream.STDOUT, "\n");
        }
        log.append(LogStream.STDOUT, "middle");
        log.append(LogStream.STDOUT, "");
        log.append(LogStream.STDOUT, "one");
        log.append(LogStream.STDERR, "");
        log.append(LogStream.STDERR, "");
        log.close();
        List<LogLine> sent = drain(log, 1 << 20, new ArrayList<>());
        assertEquals(List.of("start", "[1000000 empty lines]", "middle", "", "one", "[2 empty lines]"),
                sent.stream().map(LogLine::text).toList());
        assertEquals(LogStream.STDERR, sent.get(5).stream());
        assertEquals(999_999 + 1, log.coalescedLines());
        assertEquals(1_000_006, log.acceptedLines());
    }

    @Test
    void shouldCapLinesPerBatch() {
        TaskLog log = new TaskLog(1 << 20, SecretMasker.none(), clock);
        for (int i = 0; i < 2_500; i++) {
            log.append(LogStream.STDOUT, Integer.toString(i));
        }
        log.close();
        List<Long> offsets = new ArrayList<>();
        List<LogLine> sent = drain(log, Long.MAX_VALUE, offsets);
        assertEquals(2_500, sent.size());
        assertEquals(List.of(0L, (long) TaskLog.MAX_BATCH_LINES, 2L * TaskLog.MAX_BATCH_LINES), offsets);
    }
}

package dev.aireview.runner.scheduler;

import dev.aireview.runner.model.LogStream;
import dev.aireview.runner.observability.SecretMasker;
import dev.aireview.runner.server.LogLine;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * One task's log on its way to the server: masks secrets, truncates long lines, caps the volume and cuts
 * batches with their {@code offset}. Memory stays bounded whatever the executor prints:
 * <ul>
 *   <li>the first half of {@code limitBytes} (the head) is sent as it comes;</li>
 *   <li>after that, lines go to a ring buffer holding at most the other half (the tail); older tail lines are
 *       dropped and counted;</li>
 *   <li>{@link #close()} appends one {@code system} line saying how many lines/bytes were dropped (if any), then
 *       the tail.</li>
 * </ul>
 * Thread-safe.
 */
public final class TaskLog {
    /** Longer lines are cut to this many bytes (UTF-8, roughly) plus a marker. */
    public static final int MAX_LINE_BYTES = 16 * 1024;

    /** A batch of consecutive lines; {@code offset} is the index of its first line in the task's log. */
    public record Batch(long offset, List<LogLine> lines, long bytes) {
    }

    private record Entry(LogLine line, int bytes) {
    }

    private final long limitBytes;
    private final long headBudget;
    private final long tailBudget;
    private final SecretMasker masker;
    private final Clock clock;

    private final Deque<Entry> pending = new ArrayDeque<>();
    private final Deque<Entry> tail = new ArrayDeque<>();
    private long pendingBytes;
    private long headBytes;
    private long tailBytes;
    private boolean tailMode;
    private boolean closed;
    private long nextOffset;
    private long droppedLines;
    private long droppedBytes;
    private long acceptedLines;

    public TaskLog(long limitBytes, SecretMasker masker, Clock clock) {
        this.limitBytes = limitBytes;
        this.headBudget = limitBytes / 2;
        this.tailBudget = limitBytes - headBudget;
        this.masker = masker;
        this.clock = clock;
    }

    /** Adds one line (masked, truncated, capped). Ignored after {@link #close()}. */
    public synchronized void append(LogStream stream, String text) {
        if (closed) {
            return;
        }
        String line = truncate(masker.mask(stripEol(text == null ? "" : text)));
        int bytes = utf8Length(line);
        Entry e = new Entry(new LogLine(clock.instant(), stream == null ? LogStream.SYSTEM : stream, line), bytes);
        acceptedLines++;
        if (!tailMode && headBytes + bytes <= headBudget) {
            headBytes += bytes;
            pending.addLast(e);
            pendingBytes += bytes;
            return;
        }
        tailMode = true;
        tail.addLast(e);
        tailBytes += bytes;
        while (tailBytes > tailBudget && !tail.isEmpty()) {
            Entry dropped = tail.removeFirst();
            tailBytes -= dropped.bytes();
            droppedLines++;
            droppedBytes += dropped.bytes();
        }
    }

    /** Ends the log: the drop notice (if anything was dropped) and the tail become sendable. Idempotent. */
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (droppedLines > 0) {
            String notice = droppedLines + " line(s) (" + droppedBytes + " bytes) of output dropped: over the per-task log limit of "
                    + limitBytes + " bytes; the first and the last part are kept";
            Entry n = new Entry(new LogLine(clock.instant(), LogStream.SYSTEM, notice), utf8Length(notice));
            pending.addLast(n);
            pendingBytes += n.bytes();
        }
        while (!tail.isEmpty()) {
            Entry e = tail.removeFirst();
            pending.addLast(e);
            pendingBytes += e.bytes();
        }
        tailBytes = 0;
    }

    /** Takes the next batch of at most {@code maxBytes} (but at least one line); null when nothing is pending. */
    public synchronized Batch take(long maxBytes) {
        if (pending.isEmpty()) {
            return null;
        }
        List<LogLine> lines = new ArrayList<>();
        long bytes = 0;
        while (!pending.isEmpty() && (lines.isEmpty() || bytes + pending.peekFirst().bytes() <= maxBytes)) {
            Entry e = pending.removeFirst();
            lines.add(e.line());
            bytes += e.bytes();
        }
        pendingBytes -= bytes;
        Batch batch = new Batch(nextOffset, List.copyOf(lines), bytes);
        nextOffset += lines.size();
        return batch;
    }

    public synchronized long pendingBytes() {
        return pendingBytes;
    }

    public synchronized boolean hasPending() {
        return !pending.isEmpty();
    }

    public synchronized long droppedLines() {
        return droppedLines;
    }

    public synchronized long droppedBytes() {
        return droppedBytes;
    }

    public synchronized long acceptedLines() {
        return acceptedLines;
    }

    /** Bytes held in memory right now (pending + tail). */
    public synchronized long bufferedBytes() {
        return pendingBytes + tailBytes;
    }

    private static String stripEol(String s) {
        int end = s.length();
        while (end > 0 && (s.charAt(end - 1) == '\n' || s.charAt(end - 1) == '\r')) {
            end--;
        }
        return end == s.length() ? s : s.substring(0, end);
    }

    private static String truncate(String s) {
        if (s.length() <= MAX_LINE_BYTES / 4) {
            return s;
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length <= MAX_LINE_BYTES) {
            return s;
        }
        // cut on a character boundary
        int cut = MAX_LINE_BYTES;
        while (cut > 0 && (b[cut] & 0xC0) == 0x80) {
            cut--;
        }
        return new String(b, 0, cut, StandardCharsets.UTF_8) + " …[line truncated, " + (b.length - cut) + " more bytes]";
    }

    static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(c)) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }
}

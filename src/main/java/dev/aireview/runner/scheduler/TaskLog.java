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
 * batches with their {@code offset}. Memory stays bounded whatever the executor prints, by shape as well as by
 * bytes:
 * <ul>
 *   <li>every line costs its UTF-8 bytes plus {@link #LINE_OVERHEAD_BYTES} (what holding it costs on the heap), so
 *       empty and 1-byte lines cannot pile up for free;</li>
 *   <li>the first half of {@code limitBytes} (the head, at most {@link #MAX_PART_LINES} lines) is sent as it
 *       comes;</li>
 *   <li>after that, lines go to a ring buffer holding at most the other half (the tail, at most
 *       {@link #MAX_PART_LINES} lines); older tail lines are dropped and counted;</li>
 *   <li>a run of empty lines of one stream is kept as one line saying how many there were;</li>
 *   <li>a batch holds at most {@link #MAX_BATCH_LINES} lines;</li>
 *   <li>{@link #close()} appends one {@code system} line saying how many lines/bytes were dropped (if any), then
 *       the tail.</li>
 * </ul>
 * Thread-safe.
 */
public final class TaskLog {
    /** Longer lines are cut to this many bytes (UTF-8, roughly) plus a marker. */
    public static final int MAX_LINE_BYTES = 16 * 1024;
    /**
     * What a held line costs besides its text, charged against the head and the tail budgets: the heap a line takes
     * besides its characters (entry, line record, instant, string header, queue slot: about 120 bytes).
     */
    public static final int LINE_OVERHEAD_BYTES = 128;
    /** At most this many lines in the head, and as many in the tail, whatever the byte limit. */
    public static final int MAX_PART_LINES = 50_000;
    /** At most this many lines in one batch. */
    public static final int MAX_BATCH_LINES = 1_000;

    /**
     * The heap one running task's output may hold, whatever its container prints: the log's held lines (at most
     * {@code limitBytes} of cost; a held character takes at most 2 bytes, the rest is in the per-line overhead), plus
     * 1 MiB for the follower's partial lines and last-lines ring and the batch in flight. 9 MiB at the default 4m.
     */
    public static long heapBytesPerSlot(long limitBytes) {
        return 2 * limitBytes + (1L << 20);
    }

    /** A batch of consecutive lines; {@code offset} is the index of its first line in the task's log. */
    public record Batch(long offset, List<LogLine> lines, long bytes) {
    }

    private record Entry(LogLine line, int bytes) {
        long cost() {
            return (long) bytes + LINE_OVERHEAD_BYTES;
        }
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
    private int headLines;
    private long tailBytes;
    private boolean tailMode;
    private boolean closed;
    private long nextOffset;
    private long droppedLines;
    private long droppedBytes;
    private long acceptedLines;
    private LogStream emptyRunStream;
    private long emptyRun;
    private long coalescedLines;

    public TaskLog(long limitBytes, SecretMasker masker, Clock clock) {
        this.limitBytes = limitBytes;
        this.headBudget = limitBytes / 2;
        this.tailBudget = limitBytes - headBudget;
        this.masker = masker;
        this.clock = clock;
    }

    /** Adds one line (masked, truncated, capped; a run of empty lines is counted and kept as one). Ignored after {@link #close()}. */
    public synchronized void append(LogStream stream, String text) {
        if (closed) {
            return;
        }
        LogStream s = stream == null ? LogStream.SYSTEM : stream;
        String raw = stripEol(text == null ? "" : text);
        acceptedLines++;
        if (raw.isEmpty()) {
            if (emptyRun > 0 && emptyRunStream != s) {
                flushEmptyRun();
            }
            emptyRunStream = s;
            emptyRun++;
            return;
        }
        flushEmptyRun();
        keep(s, truncate(masker.mask(raw)));
    }

    /** Keeps the pending run of empty lines: one empty line as itself, a longer run as one line with its count. */
    private void flushEmptyRun() {
        if (emptyRun == 0) {
            return;
        }
        long run = emptyRun;
        emptyRun = 0;
        if (run > 1) {
            coalescedLines += run - 1;
        }
        keep(emptyRunStream, run == 1 ? "" : "[" + run + " empty lines]");
    }

    private void keep(LogStream stream, String line) {
        Entry e = new Entry(new LogLine(clock.instant(), stream, line), utf8Length(line));
        if (!tailMode && headBytes + e.cost() <= headBudget && headLines < MAX_PART_LINES) {
            headBytes += e.cost();
            headLines++;
            pending.addLast(e);
            pendingBytes += e.cost();
            return;
        }
        tailMode = true;
        tail.addLast(e);
        tailBytes += e.cost();
        while ((tailBytes > tailBudget || tail.size() > MAX_PART_LINES) && !tail.isEmpty()) {
            Entry dropped = tail.removeFirst();
            tailBytes -= dropped.cost();
            droppedLines++;
            droppedBytes += dropped.bytes();
        }
    }

    /** Ends the log: the drop notice (if anything was dropped) and the tail become sendable. Idempotent. */
    public synchronized void close() {
        if (closed) {
            return;
        }
        flushEmptyRun();
        closed = true;
        if (droppedLines > 0) {
            String notice = droppedLines + " line(s) (" + droppedBytes + " bytes) of output dropped: over the per-task log limit of "
                    + limitBytes + " bytes (each line counting " + LINE_OVERHEAD_BYTES + " bytes more than its text, at most "
                    + MAX_PART_LINES + " lines in each part); the first and the last part are kept";
            Entry n = new Entry(new LogLine(clock.instant(), LogStream.SYSTEM, notice), utf8Length(notice));
            pending.addLast(n);
            pendingBytes += n.cost();
        }
        while (!tail.isEmpty()) {
            Entry e = tail.removeFirst();
            pending.addLast(e);
            pendingBytes += e.cost();
        }
        tailBytes = 0;
    }

    /**
     * Takes the next batch of at most {@code maxBytes} of text and {@link #MAX_BATCH_LINES} lines (but at least one
     * line); null when nothing is pending.
     */
    public synchronized Batch take(long maxBytes) {
        if (pending.isEmpty()) {
            return null;
        }
        List<LogLine> lines = new ArrayList<>();
        long bytes = 0;
        long cost = 0;
        while (!pending.isEmpty() && lines.size() < MAX_BATCH_LINES
                && (lines.isEmpty() || bytes + pending.peekFirst().bytes() <= maxBytes)) {
            Entry e = pending.removeFirst();
            lines.add(e.line());
            bytes += e.bytes();
            cost += e.cost();
        }
        pendingBytes -= cost;
        Batch batch = new Batch(nextOffset, List.copyOf(lines), bytes);
        nextOffset += lines.size();
        return batch;
    }

    /** Empty lines not kept as lines of their own: counted in a run's one line. */
    public synchronized long coalescedLines() {
        return coalescedLines;
    }

    /** What the pending lines cost (text bytes plus {@link #LINE_OVERHEAD_BYTES} each). */
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

    /** What the lines held right now cost (pending + tail; text bytes plus {@link #LINE_OVERHEAD_BYTES} each). */
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

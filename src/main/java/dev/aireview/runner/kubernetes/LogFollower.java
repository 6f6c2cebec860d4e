package dev.aireview.runner.kubernetes;

import dev.aireview.runner.model.LogStream;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The bookkeeping of a followed container log ({@code pods/log?follow=true&timestamps=true}), without any I/O or
 * timing, so that it can be fed by a test: cuts the stream into lines, strips the kubelet's RFC 3339 timestamp,
 * drops what an earlier stream already delivered, says a gap once, and decides whether to resume.
 *
 * <p>Resuming: a stream that closes while the container still runs is reopened with {@code sinceTime} = the last
 * timestamp delivered, truncated to the second (the API server passes {@code sinceTime} to the kubelet with second
 * precision), so the kubelet sends again everything from the start of that second. Lines before the last timestamp
 * are dropped; lines at exactly the last timestamp are dropped as often as a line of identical text was delivered at
 * that timestamp (identical timestamp + identical text = duplicate; two genuinely equal lines at one nanosecond stay
 * two).
 *
 * <p>The gap rule: the resumed stream must contain the last line already delivered (it asks from the start of its
 * second). If its first line is <em>later</em> than that, the kubelet no longer has it (its log file was rotated
 * away, or the container's log was otherwise cut), so lines between the two may be lost: one
 * {@link LogStream#SYSTEM} line says so, with both timestamps. A resumed stream without any line proves nothing and
 * says nothing.
 *
 * <p>The end: a stream opened after the container ended holds everything (the kubelet sends the whole file and
 * closes). A stream that was open while the container ended may have been closed by the kubelet before its last
 * lines (the stream closes as the container ends, racing the last writes), so once the container is seen ended one
 * final read follows at once, from the last timestamp delivered, under the same rules ({@link Next#FINAL}); it is
 * one of the {@link #MAX_RESUMES}, so the API budget stays.
 *
 * <p>Bounded: at most {@link #MAX_RESUMES} resumes per container, after back-off {@code base}, 2×, 4×…; lines are at
 * most {@link #MAX_LINE_BYTES} (the rest of a longer line passes on in pieces); at most {@link #MAX_BOUNDARY_LINES}
 * texts are remembered at the last timestamp.
 */
final class LogFollower {
    /** Reopenings of one container's log after its stream closed early (1 + this many log calls at most). */
    static final int MAX_RESUMES = 3;
    static final int MAX_LINE_BYTES = 64 * 1024;
    static final int MAX_BOUNDARY_LINES = 1000;
    /** Longest timestamp prefix looked for ("2006-01-02T15:04:05.999999999+07:00" is 35). */
    private static final int MAX_PREFIX = 40;

    /** What to do after a stream ended: stop, reopen after {@link #backoff()}, reopen at once (the final read), give up. */
    enum Next { STOP, RESUME, FINAL, GIVE_UP }

    private final String container;
    /** Receives the lines' text (timestamp stripped), '\n'-terminated, as bytes (a LogPump cuts, masks and keeps the tail). */
    private final BiConsumer<byte[], Integer> text;
    /** The task log (for the follower's own notes). */
    private final BiConsumer<LogStream, String> note;
    private final Duration backoffBase;

    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    /** Inside an overlong line: true = passing the rest on, false = dropping it, null = at a line start. */
    private Boolean continuing;
    private Instant last;
    private Map<String, Integer> deliveredAtLast = new HashMap<>();
    private Map<String, Integer> toSkip = new HashMap<>();
    private boolean checkGap;
    /** A resumed stream still sending what was delivered before (until its first line after the last timestamp). */
    private boolean overlap;
    private int opens;
    /** The open stream was opened after the container had ended (it holds everything). */
    private boolean openedAfterEnd;
    private int resumes;
    private int gaps;
    private long delivered;
    private long duplicates;

    LogFollower(String container, BiConsumer<byte[], Integer> text, BiConsumer<LogStream, String> note, Duration backoffBase) {
        this.container = container;
        this.text = text;
        this.note = note;
        this.backoffBase = backoffBase;
    }

    /** The {@code sinceTime} of the next open (null for the first, or while nothing was delivered yet). */
    String sinceTime() {
        return last == null ? null : last.truncatedTo(ChronoUnit.SECONDS).toString();
    }

    /** A stream (re)opened while the container may still run. */
    void opened() {
        opened(false);
    }

    /**
     * A stream (re)opened: from now on, what it sends is checked against what was delivered.
     * {@code containerEnded}: the container had already ended when it was opened.
     */
    void opened(boolean containerEnded) {
        openedAfterEnd = containerEnded;
        line.reset();
        continuing = null;
        if (opens++ > 0 && last != null) {
            toSkip = new HashMap<>(deliveredAtLast);
            checkGap = true;
            overlap = true;
        }
    }

    /** Bytes of the open stream. */
    void accept(byte[] b, int off, int len) {
        int start = off;
        int end = off + len;
        for (int i = off; i < end; i++) {
            if (b[i] == '\n') {
                chunk(b, start, i - start);
                endLine();
                start = i + 1;
            }
        }
        chunk(b, start, end - start);
    }

    private void chunk(byte[] b, int off, int len) {
        if (len <= 0) {
            return;
        }
        if (continuing != null) {
            if (continuing) {
                text.accept(java.util.Arrays.copyOfRange(b, off, off + len), len);
            }
            return;
        }
        int room = MAX_LINE_BYTES - line.size();
        if (len < room) {
            line.write(b, off, len);
            return;
        }
        line.write(b, off, room);
        continuing = decide(false);
        chunk(b, off + room, len - room);
    }

    private void endLine() {
        if (continuing != null) {
            if (continuing) {
                text.accept(new byte[]{'\n'}, 1);
            }
            continuing = null;
            return;
        }
        decide(true);
    }

    /** Judges the buffered line (or the head of an overlong one): delivered or dropped. */
    private boolean decide(boolean complete) {
        byte[] raw = line.toByteArray();
        line.reset();
        int space = -1;
        for (int i = 0; i < Math.min(raw.length, MAX_PREFIX); i++) {
            if (raw[i] == ' ') {
                space = i;
                break;
            }
        }
        Instant ts = null;
        if (space > 0) {
            try {
                ts = OffsetDateTime.parse(new String(raw, 0, space, StandardCharsets.US_ASCII)).toInstant();
            } catch (DateTimeParseException e) {
                ts = null;
            }
        }
        if (ts == null) { // not what the kubelet sends with timestamps=true: passed on as it is
            deliver(raw, 0, raw.length, complete);
            return true;
        }
        String body = new String(raw, space + 1, raw.length - space - 1, StandardCharsets.UTF_8);
        if (checkGap) {
            checkGap = false;
            if (last != null && ts.isAfter(last)) {
                gaps++;
                note.accept(LogStream.SYSTEM, "log gap: the " + container + " container's log was resumed at " + ts
                        + " but no longer holds its last line delivered (" + last + "); lines in between may be missing"
                        + " (the kubelet rotated or cut the log)");
            }
        }
        if (overlap && ts.isBefore(last)) {
            duplicates++;
            return false;
        }
        if (overlap && ts.equals(last)) {
            Integer skip = toSkip.get(body);
            if (skip != null && skip > 0) {
                toSkip.put(body, skip - 1);
                duplicates++;
                return false;
            }
        }
        if (last == null || ts.isAfter(last)) {
            overlap = false;
            last = ts;
            deliveredAtLast = new HashMap<>();
            toSkip = new HashMap<>();
        }
        // a line out of order within one stream (earlier than the last) is delivered and not remembered
        if (ts.equals(last) && (deliveredAtLast.size() < MAX_BOUNDARY_LINES || deliveredAtLast.containsKey(body))) {
            deliveredAtLast.merge(body, 1, Integer::sum);
        }
        deliver(raw, space + 1, raw.length - space - 1, complete);
        return true;
    }

    private void deliver(byte[] raw, int off, int len, boolean complete) {
        delivered++;
        byte[] out = java.util.Arrays.copyOfRange(raw, off, off + len + (complete ? 1 : 0));
        if (complete) {
            out[len] = '\n';
        }
        text.accept(out, out.length);
    }

    /**
     * The open stream ended (closed, or failed). {@code containerEnded}: the container had ended when it did (then
     * the kubelet has sent everything, and a last line without '\n' is delivered). Otherwise the partial line is
     * dropped (the resumed stream sends it again) and the follower resumes, at most {@link #MAX_RESUMES} times.
     */
    Next ended(boolean containerEnded) {
        if (containerEnded) {
            if (continuing == null && line.size() > 0) {
                decide(true);
            } else if (Boolean.TRUE.equals(continuing)) {
                text.accept(new byte[]{'\n'}, 1);
            }
            line.reset();
            continuing = null;
            return Next.STOP;
        }
        line.reset();
        continuing = null;
        if (resumes >= MAX_RESUMES) {
            note.accept(LogStream.SYSTEM, "stopped following the " + container + " container's log after " + MAX_RESUMES
                    + " resumes" + (last == null ? "" : "; lines after " + last + " are not in the task log"));
            return Next.GIVE_UP;
        }
        resumes++;
        return Next.RESUME;
    }

    /**
     * The open stream ended; {@code clean}: at its end of file (not failed), {@code containerEnded}: the container
     * is seen ended now. A clean stream opened after the end: {@link Next#STOP}. A stream that was open while the
     * container ended: {@link Next#FINAL} (one more read at once, counted as a resume). While the container runs:
     * as {@link #ended(boolean) ended(false)}.
     */
    Next closed(boolean clean, boolean containerEnded) {
        if (containerEnded && clean && openedAfterEnd) {
            return ended(true);
        }
        if (containerEnded && !openedAfterEnd && resumes < MAX_RESUMES) {
            line.reset(); // the final read sends the partial line again
            continuing = null;
            resumes++;
            return Next.FINAL;
        }
        return ended(false);
    }

    /** The wait before the current resume: base, 2×base, 4×base… */
    Duration backoff() {
        return backoffBase.multipliedBy(1L << Math.max(0, resumes - 1));
    }

    int resumes() {
        return resumes;
    }

    int gaps() {
        return gaps;
    }

    long delivered() {
        return delivered;
    }

    long duplicates() {
        return duplicates;
    }

    Instant last() {
        return last;
    }
}

package dev.aireview.runner.docker;

import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.StreamType;
import dev.aireview.runner.model.LogStream;
import dev.aireview.runner.observability.SecretMasker;
import dev.aireview.runner.observability.Secrets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * Follows a container's demultiplexed stdout/stderr and hands it on line by line. Memory is bounded whatever the
 * container prints: only one partial line per stream (at most {@code maxLineBytes}, longer lines are cut into
 * pieces) and a ring of the last {@code tailLines} lines (for an {@code executor_failed} message) are held.
 *
 * <p>Cutting a line is the one place where a secret could be split in two, each half passing every masker
 * unnoticed. So a piece is masked here, with the registered secrets ({@link Secrets}), before it is handed on, and
 * its end that may be the beginning of a secret is held back into the next piece ({@link SecretMasker#maskForCut});
 * pieces also end on a UTF-8 character boundary. Masking whole lines, capping and batching are the sink's business.
 */
public final class LogPump extends ResultCallback.Adapter<Frame> {
    private static final Logger LOG = LoggerFactory.getLogger(LogPump.class);
    public static final int DEFAULT_MAX_LINE_BYTES = 16 * 1024;
    public static final int DEFAULT_TAIL_LINES = 20;

    private final BiConsumer<LogStream, String> sink;
    private final Supplier<SecretMasker> masker;
    private final int maxLineBytes;
    private final int tailLines;
    private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    private final Deque<String> tail = new ArrayDeque<>();
    private long lines;
    private int bufferedHighWater;
    private long bytes;
    private boolean flushed;
    private final java.util.concurrent.CompletableFuture<Void> ended = new java.util.concurrent.CompletableFuture<>();
    private final java.util.concurrent.CompletableFuture<Void> started = new java.util.concurrent.CompletableFuture<>();
    private volatile Throwable failure;

    public LogPump(BiConsumer<LogStream, String> sink) {
        this(sink, DEFAULT_MAX_LINE_BYTES, DEFAULT_TAIL_LINES);
    }

    public LogPump(BiConsumer<LogStream, String> sink, int maxLineBytes, int tailLines) {
        this(sink, maxLineBytes, tailLines, Secrets::masker);
    }

    /** As above, masking cut pieces with {@code masker} (the registered secrets by default). */
    LogPump(BiConsumer<LogStream, String> sink, int maxLineBytes, int tailLines, Supplier<SecretMasker> masker) {
        this.sink = sink;
        this.masker = masker;
        this.maxLineBytes = maxLineBytes;
        this.tailLines = tailLines;
    }

    @Override
    public synchronized void onNext(Frame frame) {
        if (frame == null || frame.getPayload() == null || flushed) {
            return;
        }
        LogStream stream = frame.getStreamType() == StreamType.STDERR ? LogStream.STDERR : LogStream.STDOUT;
        ByteArrayOutputStream buffer = stream == LogStream.STDERR ? stderr : stdout;
        byte[] payload = frame.getPayload();
        bytes += payload.length;
        int start = 0;
        for (int i = 0; i < payload.length; i++) {
            if (payload[i] == '\n') {
                append(stream, buffer, payload, start, i - start);
                emit(stream, buffer);
                start = i + 1;
            }
        }
        append(stream, buffer, payload, start, payload.length - start);
    }

    private void append(LogStream stream, ByteArrayOutputStream buffer, byte[] data, int offset, int length) {
        while (length > 0) {
            int room = maxLineBytes - buffer.size();
            int n = Math.min(room, length);
            buffer.write(data, offset, n);
            bufferedHighWater = Math.max(bufferedHighWater, stdout.size() + stderr.size());
            offset += n;
            length -= n;
            if (buffer.size() >= maxLineBytes) {
                emitPiece(stream, buffer);
            }
        }
    }

    /** Hands on the start of an overlong line, masked, keeping back a possible secret start and a partial character. */
    private void emitPiece(LogStream stream, ByteArrayOutputStream buffer) {
        byte[] b = buffer.toByteArray();
        int end = completeUtf8(b);
        SecretMasker.Cut cut = masker.get().maskForCut(new String(b, 0, end, StandardCharsets.UTF_8));
        buffer.reset();
        buffer.writeBytes(cut.held().getBytes(StandardCharsets.UTF_8));
        buffer.write(b, end, b.length - end);
        deliver(stream, cut.masked());
    }

    /** The length of the longest prefix of {@code b} that does not end inside a UTF-8 sequence. */
    static int completeUtf8(byte[] b) {
        for (int back = 1; back <= Math.min(3, b.length); back++) {
            int lead = b[b.length - back] & 0xff;
            if ((lead & 0xC0) == 0x80) {
                continue;
            }
            int need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
            return need > back && b.length - back > 0 ? b.length - back : b.length;
        }
        return b.length;
    }

    private void emit(LogStream stream, ByteArrayOutputStream buffer) {
        int size = buffer.size();
        if (size > 0 && buffer.toByteArray()[size - 1] == '\r') {
            size--;
        }
        String line = new String(buffer.toByteArray(), 0, size, StandardCharsets.UTF_8);
        buffer.reset();
        deliver(stream, line);
    }

    private void deliver(LogStream stream, String line) {
        lines++;
        tail.addLast(line);
        if (tail.size() > tailLines) {
            tail.removeFirst();
        }
        try {
            sink.accept(stream, line);
        } catch (RuntimeException e) {
            LOG.warn("log sink failed: {}", e.toString());
        }
    }

    @Override
    public void onStart(java.io.Closeable stream) {
        super.onStart(stream);
        started.complete(null);
    }

    /**
     * Waits at most {@code timeoutMillis} until the stream is established (true) or has ended without being
     * established (false).
     */
    public boolean awaitFollowing(long timeoutMillis) throws InterruptedException {
        try {
            java.util.concurrent.CompletableFuture.anyOf(started, ended).get(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            return started.isDone();
        }
        return started.isDone();
    }

    @Override
    public void onComplete() {
        super.onComplete();
        ended.complete(null);
    }

    @Override
    public void onError(Throwable throwable) {
        failure = throwable;
        super.onError(throwable);
        ended.complete(null);
    }

    /** What ended the stream with an error, or null. */
    public Throwable failure() {
        return failure;
    }

    /** Completes when the followed stream ends (normally or with an error). */
    public java.util.concurrent.CompletableFuture<Void> ended() {
        return ended;
    }

    /**
     * Waits (bounded) for the log stream to end, then hands on any unterminated last line. Call after the container
     * has exited and before reporting the result, so every line is delivered first.
     */
    public void drain(long timeoutMillis) {
        try {
            if (!awaitCompletion(timeoutMillis, TimeUnit.MILLISECONDS)) {
                LOG.debug("log stream did not end within {} ms; closing it", timeoutMillis);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.debug("log stream ended with an error: {}", e.toString());
        }
        try {
            close();
        } catch (Exception ignored) {
            // closing a finished stream
        }
        synchronized (this) {
            if (stdout.size() > 0) {
                emit(LogStream.STDOUT, stdout);
            }
            if (stderr.size() > 0) {
                emit(LogStream.STDERR, stderr);
            }
            flushed = true;
        }
    }

    /** The last lines seen (at most {@code tailLines}), oldest first. */
    public synchronized List<String> tail() {
        return new ArrayList<>(tail);
    }

    /** The most bytes of unterminated lines ever held at once (at most two streams × maxLineBytes). */
    public synchronized int bufferedHighWater() {
        return bufferedHighWater;
    }

    public synchronized long lines() {
        return lines;
    }

    public synchronized long bytes() {
        return bytes;
    }
}

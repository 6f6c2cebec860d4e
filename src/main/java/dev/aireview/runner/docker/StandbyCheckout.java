package dev.aireview.runner.docker;

import dev.aireview.runner.execution.CancelSignal;
import dev.aireview.runner.model.LogStream;
import dev.aireview.runner.source.CachedCheckout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.SequenceInputStream;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.BiConsumer;

/**
 * A pre-warmed container's checkout process, started with the container and waiting for its task: the checkout script
 * ({@link CachedCheckout#SCRIPT} with {@code GIT_ENV_STDIN=1}) runs by {@code docker exec} as soon as the pooled
 * container runs, and waits on its standard input. The task that takes the container writes there its settings (the
 * script's environment, a {@code NAME=value} a line, then an empty line) and then the stream {@link StreamedCheckout}
 * would send (the shallow list and the pack). The exec's start — on runc ~100 ms from the start call to a running
 * process — is then paid while the container warms, not on the task's path.
 *
 * <p>Nothing of a task is in the container before the task takes it: the process is started without any task value
 * and reads nothing until then. A settings value holding a line break cannot be sent this way
 * ({@link CachedCheckout#settings} answers null): the caller then runs the checkout by an exec of its own. The process
 * ends when its input ends ({@link #close}: the container was not used, or is destroyed) and with its container.
 */
final class StandbyCheckout implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StandbyCheckout.class);

    private final ContainerRunner runner;
    private final String containerId;
    private final Handoff input = new Handoff();
    private final Relay relay = new Relay();
    private final LogPump pump = new LogPump(relay);
    private volatile String execId;

    private StandbyCheckout(ContainerRunner runner, String containerId) {
        this.runner = runner;
        this.containerId = containerId;
    }

    /**
     * Starts the waiting checkout process in the running container {@code containerId} as {@code user}; null when the
     * engine refused (the task then runs its checkout by an exec of its own, which reports why).
     */
    static StandbyCheckout start(ContainerRunner runner, String containerId, String user) {
        StandbyCheckout s = new StandbyCheckout(runner, containerId);
        try {
            s.execId = runner.startExec(containerId, user, CachedCheckout.SCRIPT, CachedCheckout.waitingEnv(), s.pump, s.input);
            return s;
        } catch (RuntimeException e) {
            LOG.debug("no waiting checkout in pre-warmed container {}: {}", ContainerRunner.shortId(containerId), e.getMessage());
            s.close();
            return null;
        }
    }

    /**
     * True while the process waits for a task: nothing was handed to it, its stream is up and the engine says it runs
     * (a process the container killed is then not fed; the task gets an exec of its own).
     */
    boolean waiting() {
        return execId != null && !input.isSupplied() && !pump.ended().isDone() && runner.execRunning(execId);
    }

    /**
     * Runs the checkout with {@code settings} ({@link CachedCheckout#settings}) and then {@code stream} on its input, its
     * output into {@code log}: as {@link ContainerRunner#awaitExec}, the deadline kills the container and a cancel stops it.
     */
    ContainerRunner.Outcome run(byte[] settings, InputStream stream, BiConsumer<LogStream, String> log, Instant deadline,
                                CancelSignal cancel) {
        relay.target = log;
        input.supply(new SequenceInputStream(new ByteArrayInputStream(settings), stream));
        return runner.awaitExec(containerId, execId, pump, deadline, cancel);
    }

    /** Ends the process's input: a process still waiting exits; the Docker client's copying thread ends. */
    @Override
    public void close() {
        input.supply(InputStream.nullInputStream());
    }

    /** The process's output: the task's log once a task has taken it, before that the runner's debug log. */
    private static final class Relay implements BiConsumer<LogStream, String> {
        volatile BiConsumer<LogStream, String> target;

        @Override
        public void accept(LogStream stream, String line) {
            BiConsumer<LogStream, String> t = target;
            if (t != null) {
                t.accept(stream, line);
            } else {
                LOG.debug("waiting checkout printed before its task: {}", line);
            }
        }
    }

    /** The process's standard input: blocks until a stream is handed over, then reads it. */
    private static final class Handoff extends InputStream {
        private final CompletableFuture<InputStream> source = new CompletableFuture<>();

        void supply(InputStream in) {
            source.complete(in);
        }

        boolean isSupplied() {
            return source.isDone();
        }

        private InputStream source() throws IOException {
            try {
                return source.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for a task");
            } catch (ExecutionException e) {
                throw new IOException(e.getCause());
            }
        }

        @Override
        public int read() throws IOException {
            return source().read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return source().read(b, off, len);
        }

        @Override
        public void close() {
            supply(InputStream.nullInputStream());
        }
    }
}

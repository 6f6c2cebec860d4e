package dev.aireview.runner.docker;

import com.github.dockerjava.transport.DockerHttpClient;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Docker transport with a deadline on every call. docker-java has none of its own: an engine (or socket proxy)
 * that accepts a request and then stalls would hang the calling thread for ever, start-up included.
 *
 * <p>Two underlying clients. <b>Ordinary calls</b> (inspect, create, start, remove, list, …) go to one with a
 * response timeout (the longest silence between two packets) and, on top, a <b>whole-call deadline</b> checked
 * on every read of the body, so an engine that dribbles bytes cannot stretch a call either: the call fails with
 * an {@link IOException} naming DOCKER_HOST, the request and the limit, which docker-java wraps in a
 * RuntimeException. <b>Streaming and waiting calls</b> ({@code wait}, {@code attach}, {@code logs} (followed or not: a log may be long),
 * exec {@code start}, image pulls, events, and a {@code stop} whose grace outlasts the response timeout) are
 * silent for as long as a container runs, so they go to a client without response timeout: their deadline is the
 * caller's (the task deadline in {@link ContainerRunner}, which stops the container and closes the stream).
 */
final class TimedDockerHttpClient implements DockerHttpClient {
    /** Requests that stay open while a container runs (path after the optional /vX.Y prefix). */
    private static final Pattern STREAMING = Pattern.compile(
            "^(?:/v[0-9.]+)?(?:/containers/[^/]+/(?:wait|attach|logs)|/exec/[^/]+/start|/images/create|/events|/containers/[^/]+/stats)(?:[/?].*)?$");
    private static final Pattern STOP = Pattern.compile("^(?:/v[0-9.]+)?/containers/[^/]+/(?:stop|restart)(?:\\?(?:.*&)?t=([0-9]+).*)?$");

    private final DockerHttpClient ordinary;
    private final DockerHttpClient streaming;
    private final String host;
    private final Duration responseTimeout;
    private final Duration callTimeout;
    /** Free connections of each client (null: not counted, the probe); a call waits {@link #leaseWait} for one. */
    private final java.util.concurrent.Semaphore ordinaryLeases;
    private final java.util.concurrent.Semaphore streamingLeases;
    private final Duration leaseWait;

    /**
     * @param ordinary        a client with {@code responseTimeout} set
     * @param streaming       a client without response timeout (may be {@code ordinary} when nothing streams, e.g. a probe)
     * @param host            DOCKER_HOST, for messages
     * @param responseTimeout the ordinary client's response timeout (a stop with a longer grace is routed to streaming)
     * @param callTimeout     whole-call deadline of an ordinary call
     */
    TimedDockerHttpClient(DockerHttpClient ordinary, DockerHttpClient streaming, String host, Duration responseTimeout, Duration callTimeout) {
        this(ordinary, streaming, host, responseTimeout, callTimeout, null);
    }

    /**
     * As above, each client allowed {@code budget}'s connections (the clients' pools must be sized the same): a call
     * that finds none free waits {@link ConnectionBudget#leaseWait()} and then fails with an {@link UncheckedIOException}
     * naming the pool, an infrastructure error.
     */
    TimedDockerHttpClient(DockerHttpClient ordinary, DockerHttpClient streaming, String host, Duration responseTimeout,
                          Duration callTimeout, ConnectionBudget budget) {
        this.ordinary = ordinary;
        this.streaming = streaming;
        this.host = host;
        this.responseTimeout = responseTimeout;
        this.callTimeout = callTimeout;
        this.ordinaryLeases = budget == null ? null : new java.util.concurrent.Semaphore(budget.ordinary(), true);
        this.streamingLeases = budget == null ? null : new java.util.concurrent.Semaphore(budget.streaming(), true);
        this.leaseWait = budget == null ? null : budget.leaseWait();
    }

    /** Takes a connection of {@code leases} (null: none counted); fails after {@link #leaseWait}. */
    private void lease(java.util.concurrent.Semaphore leases, Request request, String pool) {
        if (leases == null) {
            return;
        }
        boolean got;
        try {
            got = leases.tryAcquire(leaseWait.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedIOException(new java.io.InterruptedIOException("interrupted waiting for a Docker connection"));
        }
        if (!got) {
            throw new UncheckedIOException(new IOException("no " + pool + " connection to the Docker engine at DOCKER_HOST '" + host
                    + "' came free within " + leaseWait.toSeconds() + " s for " + request.method() + " " + stripQuery(request.path())
                    + " (all " + (leases.availablePermits() + leases.getQueueLength()) + " in use; an infrastructure failure, not the task's)"));
        }
    }

    /** {@code response}, giving its connection back to {@code leases} once closed. */
    private static Response leased(Response response, java.util.concurrent.Semaphore leases) {
        if (leases == null) {
            return response;
        }
        java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();
        return new Response() {
            @Override
            public int getStatusCode() {
                return response.getStatusCode();
            }

            @Override
            public Map<String, List<String>> getHeaders() {
                return response.getHeaders();
            }

            @Override
            public String getHeader(String name) {
                return response.getHeader(name);
            }

            @Override
            public InputStream getBody() {
                return response.getBody();
            }

            @Override
            public void close() {
                try {
                    response.close();
                } finally {
                    if (released.compareAndSet(false, true)) {
                        leases.release();
                    }
                }
            }
        };
    }

    private Response executeLeased(DockerHttpClient client, java.util.concurrent.Semaphore leases, Request request, String pool) {
        lease(leases, request, pool);
        try {
            return leased(client.execute(request), leases);
        } catch (RuntimeException | Error e) {
            if (leases != null) {
                leases.release();
            }
            throw e;
        }
    }

    /** True for calls that legitimately stay silent while a container runs. */
    boolean isStreaming(Request request) {
        String path = request.path();
        if (STREAMING.matcher(path).matches()) {
            return true;
        }
        Matcher stop = STOP.matcher(path);
        if (stop.matches() && stop.group(1) != null) {
            long grace = Long.parseLong(stop.group(1));
            return Duration.ofSeconds(grace).plusSeconds(30).compareTo(responseTimeout) > 0;
        }
        return false;
    }

    @Override
    public Response execute(Request request) {
        if (isStreaming(request)) {
            return executeLeased(streaming, streamingLeases, request, "streaming");
        }
        long deadline = System.nanoTime() + callTimeout.toNanos();
        Response response;
        try {
            response = executeLeased(ordinary, ordinaryLeases, request, "short-call");
        } catch (RuntimeException e) {
            if (isTimeout(e)) {
                IOException io = timeout(request, "no answer within the response timeout of " + responseTimeout.toSeconds() + " s");
                io.initCause(e);
                throw new UncheckedIOException(io);
            }
            throw e;
        }
        return new Timed(response, request, deadline);
    }

    private IOException timeout(Request request, String what) {
        return new IOException("Docker engine at DOCKER_HOST '" + host + "' stalled on " + request.method() + " "
                + stripQuery(request.path()) + ": " + what);
    }

    private static String stripQuery(String path) {
        int q = path.indexOf('?');
        return q < 0 ? path : path.substring(0, q);
    }

    private static boolean isTimeout(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof java.net.SocketTimeoutException || t instanceof java.util.concurrent.TimeoutException) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() throws IOException {
        try {
            ordinary.close();
        } finally {
            if (streaming != ordinary) {
                streaming.close();
            }
        }
    }

    /** A response whose body reads fail once the whole-call deadline has passed or the engine went silent. */
    private final class Timed implements Response {
        private final Response delegate;
        private final Request request;
        private final long deadline;

        Timed(Response delegate, Request request, long deadline) {
            this.delegate = delegate;
            this.request = request;
            this.deadline = deadline;
        }

        @Override
        public int getStatusCode() {
            return delegate.getStatusCode();
        }

        @Override
        public Map<String, List<String>> getHeaders() {
            return delegate.getHeaders();
        }

        @Override
        public String getHeader(String name) {
            return delegate.getHeader(name);
        }

        @Override
        public InputStream getBody() {
            return new FilterInputStream(delegate.getBody()) {
                @Override
                public int read() throws IOException {
                    check();
                    int b = guard(() -> super.read());
                    check();
                    return b;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    check();
                    int n = guard(() -> super.read(b, off, len));
                    check();
                    return n;
                }
            };
        }

        private void check() throws IOException {
            if (System.nanoTime() - deadline > 0) {
                delegate.close();
                throw timeout(request, "no complete answer within " + callTimeout.toSeconds() + " s");
            }
        }

        private int guard(IoRead read) throws IOException {
            try {
                return read.read();
            } catch (java.net.SocketTimeoutException e) {
                IOException io = timeout(request, "silent for the response timeout of " + responseTimeout.toSeconds() + " s");
                io.initCause(e);
                throw io;
            }
        }

        @Override
        public void close() {
            delegate.close();
        }
    }

    @FunctionalInterface
    private interface IoRead {
        int read() throws IOException;
    }
}

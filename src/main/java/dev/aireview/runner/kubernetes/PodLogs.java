package dev.aireview.runner.kubernetes;

import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.StreamType;
import dev.aireview.runner.docker.LogPump;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

import io.fabric8.kubernetes.client.http.AsyncBody;
import io.fabric8.kubernetes.client.http.HttpClient;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;

import java.io.IOException;
import java.net.URL;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiConsumer;

import dev.aireview.runner.model.LogStream;

/**
 * Reads a task container's log once it ended (one {@code pods/log} call, at most {@link #MAX_BYTES}), or follows it
 * while it runs ({@link #follow}, resumed by {@link LogFollower}), through the Docker path's {@link LogPump}: same
 * line cutting, masking of cut pieces and tail. The task log's sink masks and caps as for Docker. All requests are raw
 * gets through the client's HTTP client (same credentials, user agent, timeouts), so that no read costs a hidden pod
 * list.
 */
final class PodLogs {
    /** Most bytes read of one container's log (the kubelet keeps about 10 MiB per container by default). */
    static final int MAX_BYTES = 8 << 20;

    private final KubernetesClient client;
    private final String namespace;
    private final ApiGate gate;

    PodLogs(KubernetesClient client, String namespace, ApiGate gate) {
        this.client = client;
        this.namespace = namespace;
        this.gate = gate;
    }

    /** Hands the log of {@code container} line by line to {@code sink}; the last lines, or a note why there are none. */
    List<String> pump(String pod, String container, BiConsumer<LogStream, String> sink) {
        LogPump pump = new LogPump(sink);
        try (InputStream in = get(pod, container, MAX_BYTES)) {
            byte[] buf = new byte[8192];
            int n;
            while (in != null && (n = in.read(buf)) > 0) {
                pump.onNext(new Frame(StreamType.STDOUT, Arrays.copyOf(buf, n)));
            }
        } catch (IOException | KubernetesClientException e) {
            sink.accept(LogStream.SYSTEM, "the log of the " + container + " container could not be read: " + e.getMessage());
        }
        pump.onComplete();
        pump.drain(1_000);
        return pump.tail();
    }

    /**
     * Starts following the log of {@code container} while it runs ({@code follow=true&timestamps=true}, one raw
     * {@code pods/log} get per stream, resumed by {@link LogFollower}'s rules), on a thread of its own; its lines go
     * through a {@link LogPump} to {@code sink}. {@code containerEnded} is the watch cache's word (costs no call).
     */
    Following follow(String pod, String container, BiConsumer<LogStream, String> sink, BooleanSupplier containerEnded,
                     Duration backoffBase) {
        Following f = new Following(pod, container, sink, containerEnded, backoffBase);
        Thread t = new Thread(f::run, "log-" + pod);
        t.setDaemon(true);
        t.start();
        return f;
    }

    /** One followed container log: its thread, its current stream, and how it ends. */
    final class Following {
        private final String pod;
        private final String container;
        private final BiConsumer<LogStream, String> sink;
        private final BooleanSupplier containerEnded;
        private final LogPump pump;
        private final LogFollower follower;
        private final Object lock = new Object();
        private final CountDownLatch done = new CountDownLatch(1);
        private boolean stopped;
        private boolean ended;
        private AsyncBody body;
        private CompletableFuture<?> request;
        private volatile int calls;

        Following(String pod, String container, BiConsumer<LogStream, String> sink, BooleanSupplier containerEnded,
                  Duration backoffBase) {
            this.pod = pod;
            this.container = container;
            this.sink = sink;
            this.containerEnded = containerEnded;
            this.pump = new LogPump(sink);
            this.follower = new LogFollower(container,
                    (bytes, n) -> pump.onNext(new Frame(StreamType.STDOUT, bytes)), sink, backoffBase);
        }

        private void run() {
            try {
                while (!isStopped()) {
                    boolean clean = stream();
                    if (isStopped()) {
                        break;
                    }
                    LogFollower.Next next;
                    synchronized (follower) {
                        next = follower.closed(clean, containerEnded.getAsBoolean() || endedSaid());
                    }
                    if (next == LogFollower.Next.FINAL) {
                        continue; // the container ended while this stream ran: its last lines, read at once
                    }
                    if (next != LogFollower.Next.RESUME) {
                        break;
                    }
                    synchronized (lock) {
                        long until = System.nanoTime() + follower.backoff().toNanos();
                        while (!stopped && !ended) {
                            long ms = (until - System.nanoTime()) / 1_000_000;
                            if (ms <= 0) {
                                break;
                            }
                            lock.wait(ms);
                        }
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                sink.accept(LogStream.SYSTEM, "following the " + container + " container's log failed: " + e);
            } finally {
                pump.onComplete();
                pump.drain(1_000);
                done.countDown();
            }
        }

        /** One stream, to its end; true when it ended cleanly (EOF), false when it failed or could not be opened. */
        private boolean stream() throws InterruptedException {
            StringBuilder url = new StringBuilder(client.getMasterUrl().toString().replaceAll("/$", ""))
                    .append("/api/v1/namespaces/").append(namespace).append("/pods/").append(pod)
                    .append("/log?container=").append(container).append("&follow=true&timestamps=true");
            String since;
            boolean endedBefore = containerEnded.getAsBoolean() || endedSaid();
            synchronized (follower) {
                since = follower.sinceTime();
                follower.opened(endedBefore);
            }
            if (since != null) {
                url.append("&sinceTime=").append(since);
            }
            HttpClient http = client.getHttpClient();
            HttpRequest req;
            try {
                req = http.newHttpRequestBuilder().url(new URL(url.toString())).build();
            } catch (java.net.MalformedURLException e) {
                throw new IllegalStateException(e);
            }
            CompletableFuture<HttpResponse<AsyncBody>> opening = http.consumeBytes(req, (buffers, b) -> {
                synchronized (follower) {
                    for (ByteBuffer buf : buffers) {
                        byte[] a = new byte[buf.remaining()];
                        buf.get(a);
                        follower.accept(a, 0, a.length);
                    }
                }
                b.consume();
            });
            calls++;
            synchronized (lock) {
                if (stopped) {
                    opening.cancel(true);
                    return false;
                }
                request = opening;
            }
            HttpResponse<AsyncBody> response;
            try {
                // the whole-call deadline of the package, for the answer's head; the body lasts as long as the container
                response = opening.get(KubernetesTaskExecutor.API_REQUEST_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException | TimeoutException | java.util.concurrent.CancellationException e) {
                opening.cancel(true);
                if (!isStopped()) {
                    sink.accept(LogStream.SYSTEM, "the log of the " + container + " container could not be followed: "
                            + (e instanceof TimeoutException ? "no answer within " + KubernetesTaskExecutor.API_REQUEST_TIMEOUT.toSeconds()
                            + " s" : String.valueOf(e.getCause())));
                }
                return false;
            }
            AsyncBody b = response.body();
            if (!response.isSuccessful()) {
                if (b != null) {
                    b.cancel();
                }
                sink.accept(LogStream.SYSTEM, "the log of the " + container + " container could not be followed: HTTP "
                        + response.code());
                return false;
            }
            synchronized (lock) {
                body = b;
                if (stopped) {
                    b.cancel();
                    return false;
                }
            }
            b.consume();
            try {
                b.done().get();
                return true;
            } catch (ExecutionException | java.util.concurrent.CancellationException e) {
                return false;
            } finally {
                synchronized (lock) {
                    body = null;
                    request = null;
                }
            }
        }

        private boolean isStopped() {
            synchronized (lock) {
                return stopped;
            }
        }

        private boolean endedSaid() {
            synchronized (lock) {
                return ended;
            }
        }

        /**
         * The container has ended (the watch says so): a follower waiting to resume does so at once, and the one
         * still streaming gets {@code within} to finish; then it is stopped. The last lines delivered (for failure
         * messages).
         */
        List<String> finish(Duration within) throws InterruptedException {
            synchronized (lock) {
                ended = true;
                lock.notifyAll();
            }
            if (!done.await(within.toMillis(), TimeUnit.MILLISECONDS)) {
                sink.accept(LogStream.SYSTEM, "the " + container + " container's log stream was still open "
                        + within.toSeconds() + " s after the container ended; closed");
                stop();
                done.await(1, TimeUnit.SECONDS);
            }
            return pump.tail();
        }

        /** Stops following now (cancel, wall time, the task's end). */
        void stop() {
            synchronized (lock) {
                stopped = true;
                lock.notifyAll();
                if (body != null) {
                    body.cancel();
                }
                if (request != null) {
                    request.cancel(true);
                }
            }
        }

        /** Log requests made so far. */
        int calls() {
            return calls;
        }

        LogFollower follower() {
            return follower;
        }
    }

    /** The report container's whole log as text (at most {@code maxBytes}). */
    String read(String pod, String container, int maxBytes) {
        try (InputStream in = get(pod, container, maxBytes)) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new KubernetesClientException("the log of the " + container + " container could not be read: " + e, e);
        }
    }

    /**
     * One {@code pods/log} get of an ended container, as a raw request: fabric8's {@code getLog}/{@code getLogInputStream}
     * first wait for the pod to be ready or terminal, which costs a pod list per read. The package's deadline
     * ({@link KubernetesTaskExecutor#API_REQUEST_TIMEOUT}) bounds the whole call.
     */
    private InputStream get(String pod, String container, int limitBytes) throws IOException {
        try {
            return gate.call("read the " + container + " container's log", () -> {
                try {
                    return getOnce(pod, container, limitBytes);
                } catch (IOException e) {
                    throw new KubernetesClientException(e.getMessage(), 0, null);
                }
            });
        } catch (KubernetesClientException e) {
            if (e.getCode() <= 0) {
                throw new IOException(e.getMessage(), e);
            }
            throw e;
        }
    }

    /** One attempt of {@link #get}. */
    private InputStream getOnce(String pod, String container, int limitBytes) throws IOException {
        String url = client.getMasterUrl().toString().replaceAll("/$", "") + "/api/v1/namespaces/" + namespace + "/pods/" + pod
                + "/log?pretty=false&container=" + container + "&limitBytes=" + limitBytes;
        HttpClient http = client.getHttpClient();
        HttpRequest req = http.newHttpRequestBuilder().url(new URL(url))
                .timeout(KubernetesTaskExecutor.API_REQUEST_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).build();
        CompletableFuture<HttpResponse<byte[]>> answer = http.sendAsync(req, byte[].class);
        HttpResponse<byte[]> response;
        try {
            response = answer.get(KubernetesTaskExecutor.API_REQUEST_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            answer.cancel(true);
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            throw new IOException(String.valueOf(e.getCause()), e.getCause());
        } catch (TimeoutException e) {
            answer.cancel(true);
            throw new IOException("no answer within " + KubernetesTaskExecutor.API_REQUEST_TIMEOUT.toSeconds() + " s");
        }
        if (!response.isSuccessful()) {
            byte[] b = response.body();
            String text = b == null ? "" : new String(b, 0, Math.min(b.length, 300), java.nio.charset.StandardCharsets.UTF_8);
            throw new KubernetesClientException("HTTP " + response.code() + " " + text, response.code(), null);
        }
        byte[] body = response.body();
        return new java.io.ByteArrayInputStream(body == null ? new byte[0] : body);
    }
}

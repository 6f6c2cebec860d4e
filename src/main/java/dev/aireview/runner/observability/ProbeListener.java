package dev.aireview.runner.observability;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The socket side of the probe endpoint: one request per connection ({@code Connection: close}), answered by a
 * {@link Handler} that only sees the method and path. Built so that no client can wedge it (a liveness probe that
 * hangs gets a healthy runner restarted):
 * <ul>
 *   <li>every connection has one deadline ({@code requestTimeout}) covering reading the request head and writing
 *       the answer: a watchdog closes the socket when it passes (a client that sends one byte and waits, or never
 *       reads the answer, holds a worker at most that long);</li>
 *   <li>the request head is capped ({@link #MAX_HEAD_BYTES}); a body is never read;</li>
 *   <li>a small fixed pool of workers with a bounded queue; a connection that finds both full is closed at once
 *       rather than queued without bound.</li>
 * </ul>
 */
final class ProbeListener implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProbeListener.class);
    static final int MAX_HEAD_BYTES = 8 * 1024;

    /** An answer: status, content type and body (sent without the body for HEAD), extra headers. */
    record Response(int status, String contentType, byte[] body, Map<String, String> headers) {
        Response(int status, String contentType, String body) {
            this(status, contentType, body.getBytes(StandardCharsets.UTF_8), Map.of());
        }
    }

    interface Handler {
        Response handle(String method, String path);
    }

    private final ServerSocket socket;
    private final Handler handler;
    private final Duration requestTimeout;
    private final ThreadPoolExecutor workers;
    private final ScheduledThreadPoolExecutor watchdog;
    private final Thread acceptor;
    private volatile boolean closed;

    ProbeListener(InetSocketAddress bind, Handler handler, Duration requestTimeout, int threads, int queued) throws IOException {
        this.handler = handler;
        this.requestTimeout = requestTimeout;
        this.socket = new ServerSocket();
        try {
            socket.setReuseAddress(true);
            socket.bind(bind, 50);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
        AtomicInteger n = new AtomicInteger();
        this.workers = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(queued), r -> {
            Thread t = new Thread(r, "health-http-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.watchdog = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "health-http-deadline");
            t.setDaemon(true);
            return t;
        });
        watchdog.setRemoveOnCancelPolicy(true);
        this.acceptor = new Thread(this::acceptLoop, "health-http-accept");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return socket.getLocalPort();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket s;
            try {
                s = socket.accept();
            } catch (IOException e) {
                if (!closed) {
                    log.warn("health endpoint: accept failed: {}", e.toString());
                }
                continue;
            }
            ScheduledFuture<?> deadline = watchdog.schedule(() -> closeQuietly(s), requestTimeout.toMillis(), TimeUnit.MILLISECONDS);
            try {
                workers.execute(() -> {
                    try {
                        serve(s);
                    } finally {
                        deadline.cancel(false);
                        closeQuietly(s);
                    }
                });
            } catch (RejectedExecutionException e) {
                deadline.cancel(false);
                closeQuietly(s);
                if (!closed) {
                    log.debug("health endpoint busy: connection closed unanswered");
                }
            }
        }
    }

    private void serve(Socket s) {
        try {
            s.setSoTimeout((int) Math.max(1, requestTimeout.toMillis()));
            String head = readHead(new java.io.BufferedInputStream(s.getInputStream(), 1024));
            Response r;
            String method = null;
            String[] line = head == null ? null : head.split("\r?\n", 2)[0].split(" ");
            if (line == null || line.length != 3 || !line[2].startsWith("HTTP/")) {
                r = new Response(400, "application/json; charset=utf-8", "{\"error\":\"bad request\"}");
            } else {
                method = line[0];
                String target = line[1];
                int q = target.indexOf('?');
                String path = q < 0 ? target : target.substring(0, q);
                try {
                    r = handler.handle(method, path);
                } catch (RuntimeException e) {
                    log.warn("health endpoint: answer failed: {}", e.toString());
                    r = new Response(500, "application/json; charset=utf-8", "{\"error\":\"internal error\"}");
                }
            }
            write(s.getOutputStream(), r, !"HEAD".equals(method));
        } catch (SocketException e) {
            log.debug("health endpoint: connection ended: {}", e.toString()); // closed at its deadline, or by the client
        } catch (IOException e) {
            log.debug("health endpoint: request not answered: {}", e.toString());
        }
    }

    /** The request line and headers, up to the blank line; null when they are larger than the cap or cut off. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int last4 = 0; // the last four bytes read: the head ends at CR LF CR LF (or a bare LF LF)
        while (head.size() < MAX_HEAD_BYTES) {
            int b = in.read();
            if (b < 0) {
                return null;
            }
            head.write(b);
            last4 = (last4 << 8) | b;
            if (last4 == 0x0D0A0D0A || (last4 & 0xFFFF) == 0x0A0A) {
                return head.toString(StandardCharsets.ISO_8859_1);
            }
        }
        return null;
    }

    private static void write(OutputStream out, Response r, boolean withBody) throws IOException {
        StringBuilder h = new StringBuilder("HTTP/1.1 ").append(r.status()).append(' ').append(reason(r.status())).append("\r\n");
        h.append("Content-Type: ").append(r.contentType()).append("\r\n");
        h.append("Content-Length: ").append(r.body().length).append("\r\n");
        h.append("Cache-Control: no-store\r\n");
        r.headers().forEach((k, v) -> h.append(k).append(": ").append(v).append("\r\n"));
        h.append("Connection: close\r\n\r\n");
        out.write(h.toString().getBytes(StandardCharsets.ISO_8859_1));
        if (withBody) {
            out.write(r.body());
        }
        out.flush();
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 503 -> "Service Unavailable";
            default -> "Internal Server Error";
        };
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // nothing to do
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            socket.close();
        } catch (IOException ignored) {
            // nothing to do
        }
        workers.shutdownNow();
        watchdog.shutdownNow();
    }
}

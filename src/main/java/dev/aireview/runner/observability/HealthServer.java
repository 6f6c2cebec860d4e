package dev.aireview.runner.observability;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * A small HTTP endpoint for probes (JDK {@link HttpServer}, one thread): {@code GET /health} answers the current
 * {@link HealthReport} as JSON, with status 200 when it is healthy and 503 otherwise (a compose or Kubernetes
 * health check needs nothing else). {@code HEAD /health} answers the status only. {@code GET /metrics} answers
 * the Prometheus text exposition when a metrics source was given ({@link PrometheusMetrics#scrape()}). Any other
 * path is 404, any other method 405. Neither answer carries a secret.
 */
public final class HealthServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HealthServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final ExecutorService thread;

    private HealthServer(HttpServer server, ExecutorService thread) {
        this.server = server;
        this.thread = thread;
    }

    /**
     * Starts listening on {@code bindAddress:port} ({@code port} 0 = a free port, for tests).
     *
     * @throws IOException when the port cannot be bound (e.g. already in use)
     */
    public static HealthServer start(String bindAddress, int port, Supplier<HealthReport> report) throws IOException {
        return start(bindAddress, port, report, null);
    }

    /**
     * Like {@link #start(String, int, Supplier)}, and serves {@code GET /metrics} from {@code metrics}
     * (Prometheus text format); null leaves {@code /metrics} a 404.
     */
    public static HealthServer start(String bindAddress, int port, Supplier<HealthReport> report,
                                     Supplier<String> metrics) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(bindAddress, port), 16);
        ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "health-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(thread);
        server.createContext("/", exchange -> handle(exchange, report, metrics));
        server.start();
        log.info("health endpoint listening on http://{}:{}/health{}", bindAddress, server.getAddress().getPort(),
                metrics == null ? "" : " (and /metrics)");
        return new HealthServer(server, thread);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        thread.shutdownNow();
    }

    private static void handle(HttpExchange exchange, Supplier<HealthReport> report, Supplier<String> metrics) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            boolean metricsPath = metrics != null && (path.equals("/metrics") || path.equals("/metrics/"));
            if (!metricsPath && !path.equals("/health") && !path.equals("/health/")) {
                send(exchange, 404, "{\"error\":\"not found: use GET /health" + (metrics == null ? "" : " or GET /metrics") + "\"}", true);
                return;
            }
            String method = exchange.getRequestMethod();
            boolean head = method.equals("HEAD");
            if (!head && !method.equals("GET")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                send(exchange, 405, "{\"error\":\"method not allowed\"}", true);
                return;
            }
            if (metricsPath) {
                serveMetrics(exchange, metrics, !head);
                return;
            }
            HealthReport r;
            try {
                r = report.get();
            } catch (RuntimeException e) {
                log.warn("health report failed: {}", e.toString());
                send(exchange, 500, "{\"healthy\":false,\"reason\":\"health report failed\"}", !head);
                return;
            }
            send(exchange, r.healthy() ? 200 : 503, toJson(r), !head);
        }
    }

    public static String toJson(HealthReport r) {
        ObjectNode n = JSON.createObjectNode();
        n.put("healthy", r.healthy());
        n.put("status", r.status());
        n.put("runnerId", r.runnerId());
        n.put("name", r.name());
        n.put("version", r.version());
        n.put("lastHeartbeat", r.lastHeartbeat() == null ? null : r.lastHeartbeat().toString());
        if (r.heartbeatAgeMs() >= 0) {
            n.put("lastHeartbeatAgeMs", r.heartbeatAgeMs());
        } else {
            n.putNull("lastHeartbeatAgeMs");
        }
        n.put("slots", r.slots());
        n.put("busySlots", r.busySlots());
        n.put("freeSlots", Math.max(0, r.slots() - r.busySlots()));
        ArrayNode tasks = n.putArray("runningTasks");
        r.runningTasks().forEach(tasks::add);
        if (r.reason() != null) {
            n.put("reason", r.reason());
        }
        if (r.claimsPaused() != null) {
            n.put("claimsPaused", r.claimsPaused());
        }
        n.put("unreportedLeftovers", r.unreportedLeftovers());
        return n.toString();
    }

    private static void serveMetrics(HttpExchange exchange, Supplier<String> metrics, boolean withBody) throws IOException {
        String body;
        try {
            body = metrics.get();
        } catch (RuntimeException e) {
            log.warn("metrics scrape failed: {}", e.toString());
            send(exchange, 500, "{\"error\":\"metrics scrape failed\"}", withBody);
            return;
        }
        send(exchange, 200, body, withBody, PrometheusMetrics.CONTENT_TYPE);
    }

    private static void send(HttpExchange exchange, int status, String body, boolean withBody) throws IOException {
        send(exchange, status, body, withBody, "application/json; charset=utf-8");
    }

    private static void send(HttpExchange exchange, int status, String body, boolean withBody, String contentType) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        if (!withBody) {
            exchange.sendResponseHeaders(status, -1);
            return;
        }
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }
}

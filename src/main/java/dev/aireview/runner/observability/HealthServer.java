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
 * health check needs nothing else). {@code HEAD /health} answers the status only. Any other path is 404, any
 * other method 405. The report carries no secret.
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
        HttpServer server = HttpServer.create(new InetSocketAddress(bindAddress, port), 16);
        ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "health-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(thread);
        server.createContext("/", exchange -> handle(exchange, report));
        server.start();
        log.info("health endpoint listening on http://{}:{}/health", bindAddress, server.getAddress().getPort());
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

    private static void handle(HttpExchange exchange, Supplier<HealthReport> report) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            if (!path.equals("/health") && !path.equals("/health/")) {
                send(exchange, 404, "{\"error\":\"not found: use GET /health\"}", true);
                return;
            }
            String method = exchange.getRequestMethod();
            boolean head = method.equals("HEAD");
            if (!head && !method.equals("GET")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                send(exchange, 405, "{\"error\":\"method not allowed\"}", true);
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

    static String toJson(HealthReport r) {
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
        return n.toString();
    }

    private static void send(HttpExchange exchange, int status, String body, boolean withBody) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
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

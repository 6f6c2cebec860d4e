package dev.aireview.runner.observability;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.function.Supplier;

/**
 * A small HTTP endpoint for probes ({@link ProbeListener}: a few workers, one deadline per connection, so a client
 * that sends one byte and waits cannot wedge it): {@code GET /health} answers the current {@link HealthReport} as
 * JSON, with status 200 when it is healthy and 503 otherwise (a compose or Kubernetes health check needs nothing
 * else). {@code HEAD /health} answers the status only. {@code GET /metrics} answers the Prometheus text exposition
 * when a metrics source was given ({@link PrometheusMetrics#scrape()}). Any other path is 404, any other method 405.
 * Neither answer carries a secret. RUNNER_HEALTH_PORT without an address binds loopback only.
 */
public final class HealthServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HealthServer.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Deadline of one connection: reading the request and writing the answer. */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);
    /** Workers answering at the same time, and connections that may wait for one. */
    static final int THREADS = 4;
    static final int QUEUED = 32;
    private static final String JSON_TYPE = "application/json; charset=utf-8";

    private final ProbeListener listener;

    private HealthServer(ProbeListener listener) {
        this.listener = listener;
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
        return start(bindAddress, port, report, metrics, REQUEST_TIMEOUT, THREADS);
    }

    /** With another connection deadline and pool size (tests). */
    static HealthServer start(String bindAddress, int port, Supplier<HealthReport> report, Supplier<String> metrics,
                              Duration requestTimeout, int threads) throws IOException {
        ProbeListener listener = new ProbeListener(new InetSocketAddress(bindAddress, port),
                (method, path) -> handle(method, path, report, metrics), requestTimeout, threads, QUEUED);
        log.info("health endpoint listening on http://{}:{}/health{}", bindAddress, listener.port(),
                metrics == null ? "" : " (and /metrics)");
        return new HealthServer(listener);
    }

    public int port() {
        return listener.port();
    }

    @Override
    public void close() {
        listener.close();
    }

    private static ProbeListener.Response handle(String method, String path, Supplier<HealthReport> report, Supplier<String> metrics) {
        boolean metricsPath = metrics != null && (path.equals("/metrics") || path.equals("/metrics/"));
        if (!metricsPath && !path.equals("/health") && !path.equals("/health/")) {
            return new ProbeListener.Response(404, JSON_TYPE,
                    "{\"error\":\"not found: use GET /health" + (metrics == null ? "" : " or GET /metrics") + "\"}");
        }
        if (!method.equals("HEAD") && !method.equals("GET")) {
            return new ProbeListener.Response(405, JSON_TYPE, "{\"error\":\"method not allowed\"}".getBytes(StandardCharsets.UTF_8),
                    Map.of("Allow", "GET, HEAD"));
        }
        if (metricsPath) {
            try {
                return new ProbeListener.Response(200, PrometheusMetrics.CONTENT_TYPE, metrics.get());
            } catch (RuntimeException e) {
                log.warn("metrics scrape failed: {}", e.toString());
                return new ProbeListener.Response(500, JSON_TYPE, "{\"error\":\"metrics scrape failed\"}");
            }
        }
        HealthReport r;
        try {
            r = report.get();
        } catch (RuntimeException e) {
            log.warn("health report failed: {}", e.toString());
            return new ProbeListener.Response(500, JSON_TYPE, "{\"healthy\":false,\"reason\":\"health report failed\"}");
        }
        return new ProbeListener.Response(r.healthy() ? 200 : 503, JSON_TYPE, toJson(r));
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
}

package dev.aireview.runner.observability;

import dev.aireview.runner.model.Json;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/** The HTTP side of /health over a real socket: status codes follow the report, other paths and methods are refused. */
class HealthServerTest {
    final HttpClient http = HttpClient.newHttpClient();

    HttpResponse<String> call(HealthServer server, String method, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldAnswer200WhenHealthyAnd503OtherwiseWithTheReportAsJson() throws Exception {
        Instant beat = Instant.parse("2026-01-02T03:04:05Z");
        AtomicReference<HealthReport> report = new AtomicReference<>(new HealthReport(true, "busy", "r-1", "runner-a", "1.0",
                beat, 1200, 2, 2, List.of("t1", "t2"), null));
        try (HealthServer server = HealthServer.start("127.0.0.1", 0, report::get)) {
            HttpResponse<String> ok = call(server, "GET", "/health");
            assertEquals(200, ok.statusCode());
            assertTrue(ok.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
            JsonNode body = Json.mapper().readTree(ok.body());
            assertTrue(body.get("healthy").asBoolean());
            assertEquals("busy", body.get("status").asText());
            assertEquals("2026-01-02T03:04:05Z", body.get("lastHeartbeat").asText());
            assertEquals(1200, body.get("lastHeartbeatAgeMs").asLong());
            assertEquals(0, body.get("freeSlots").asInt());
            assertEquals(List.of("t1", "t2"), List.of(body.get("runningTasks").get(0).asText(), body.get("runningTasks").get(1).asText()));
            assertFalse(body.has("reason"));

            report.set(new HealthReport(false, "starting", null, "runner-a", "1.0", null, -1, 2, 0, List.of(), "not registered with the server yet"));
            HttpResponse<String> down = call(server, "GET", "/health");
            assertEquals(503, down.statusCode());
            JsonNode d = Json.mapper().readTree(down.body());
            assertTrue(d.get("lastHeartbeat").isNull());
            assertTrue(d.get("lastHeartbeatAgeMs").isNull());
            assertEquals("not registered with the server yet", d.get("reason").asText());

            assertEquals(503, call(server, "HEAD", "/health").statusCode());
            assertEquals(404, call(server, "GET", "/metrics").statusCode());
            HttpResponse<String> post = call(server, "POST", "/health");
            assertEquals(405, post.statusCode());
            assertEquals("GET, HEAD", post.headers().firstValue("Allow").orElse(""));
        }
    }

    @Test
    void shouldAnswer500WhenTheReportFailsAndKeepServing() throws Exception {
        AtomicReference<Boolean> fail = new AtomicReference<>(true);
        try (HealthServer server = HealthServer.start("127.0.0.1", 0, () -> {
            if (fail.get()) {
                throw new IllegalStateException("boom");
            }
            return new HealthReport(true, "online", "r", "n", "v", Instant.now(), 0, 1, 0, List.of(), null);
        })) {
            assertEquals(500, call(server, "GET", "/health").statusCode());
            fail.set(false);
            assertEquals(200, call(server, "GET", "/health").statusCode());
        }
    }
}

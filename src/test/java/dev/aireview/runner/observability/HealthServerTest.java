package dev.aireview.runner.observability;

import dev.aireview.runner.model.Json;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import dev.aireview.runner.config.HealthAddress;

import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
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

    private static Socket slowClient(HealthServer server, String partial) throws Exception {
        Socket s = new Socket("127.0.0.1", server.port());
        s.setSoTimeout(30_000); // a safety net only: the server's deadline ends the wait
        s.getOutputStream().write(partial.getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        return s;
    }

    @Test
    void shouldKeepAnsweringEveryoneElseWhileOneClientSendsOneByteAndWaits() throws Exception {
        HealthReport healthy = new HealthReport(true, "online", "r", "n", "v", Instant.now(), 0, 1, 0, List.of(), null);
        try (HealthServer server = HealthServer.start("127.0.0.1", 0, () -> healthy, () -> "# metrics\n");
             Socket wedge = slowClient(server, "G")) {
            HttpClient bounded = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
            for (int i = 0; i < 10; i++) {
                for (String path : List.of("/health", "/metrics")) {
                    HttpResponse<String> r = bounded.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                            .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
                    assertEquals(200, r.statusCode(), path);
                }
            }
            assertFalse(wedge.isClosed());
        }
    }

    @Test
    void shouldCloseConnectionsThatOutliveTheirDeadlineAndServeAfterThem() throws Exception {
        HealthReport healthy = new HealthReport(true, "online", "r", "n", "v", Instant.now(), 0, 1, 0, List.of(), null);
        try (HealthServer server = HealthServer.start("127.0.0.1", 0, () -> healthy, null, Duration.ofMillis(300), 2)) {
            List<Socket> slow = new ArrayList<>();
            for (int i = 0; i < 6; i++) { // more than the workers: all of them held at once
                slow.add(slowClient(server, "GET /hea"));
            }
            for (Socket s : slow) {
                try (s) {
                    // the server closes it at its deadline: end of stream (or a reset), never an answer
                    int b;
                    try {
                        b = s.getInputStream().read();
                    } catch (java.net.SocketException reset) {
                        b = -1;
                    }
                    assertEquals(-1, b, "closed without an answer");
                }
            }
            assertEquals(200, call(server, "GET", "/health").statusCode());
        }
    }

    @Test
    void shouldRefuseAMalformedOrOversizedRequestHead() throws Exception {
        HealthReport healthy = new HealthReport(true, "online", "r", "n", "v", Instant.now(), 0, 1, 0, List.of(), null);
        try (HealthServer server = HealthServer.start("127.0.0.1", 0, () -> healthy)) {
            try (Socket s = slowClient(server, "NONSENSE\r\n\r\n")) {
                String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                assertTrue(answer.startsWith("HTTP/1.1 400 "), answer);
            }
            try (Socket s = slowClient(server, "GET /health HTTP/1.1\r\nX: " + "a".repeat(ProbeListener.MAX_HEAD_BYTES))) {
                String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                assertTrue(answer.startsWith("HTTP/1.1 400 "), answer);
            }
            assertEquals(200, call(server, "GET", "/health").statusCode());
        }
    }

    @Test
    void shouldListenOnLoopbackOnlyWhenThePortNamesNoAddress() {
        assertEquals(new HealthAddress("127.0.0.1", 8081), HealthAddress.parse("8081"));
        assertEquals(new HealthAddress("0.0.0.0", 8081), HealthAddress.parse("0.0.0.0:8081"));
    }
}

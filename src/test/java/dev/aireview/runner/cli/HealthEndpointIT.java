package dev.aireview.runner.cli;

import dev.aireview.runner.testsupport.TestJvm;
import com.fasterxml.jackson.databind.JsonNode;
import dev.aireview.runner.devserver.DevServer;
import dev.aireview.runner.devserver.DevServerOptions;
import dev.aireview.runner.docker.DockerConnection;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.observability.PromText;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The packaged jar's {@code run} with RUNNER_HEALTH_PORT, against the dev server and the real Docker engine (no task
 * is run, so the executor image only has to exist: debian:bookworm-slim): /health turns 200 once registered,
 * /metrics answers the Prometheus exposition on the same port, SIGTERM stops the runner (exit 0) and closes the
 * endpoint; a port in use is a start-up error (exit 1).
 */
class HealthEndpointIT {
    static final String TOKEN = "it-health-SECRET-4242";
    final HttpClient http = HttpClient.newHttpClient();

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static Process startJar(Map<String, String> env, Path log) throws IOException {
        String jar = System.getProperty("runner.jar");
        assertNotNull(jar, "runner.jar system property (set by failsafe)");
        assertTrue(new File(jar).isFile(), jar);
        ProcessBuilder pb = new ProcessBuilder(TestJvm.command("-jar", jar, "run"));
        pb.environment().keySet().removeIf(k -> k.startsWith("RUNNER_") || (k.startsWith("DOCKER_") && !k.equals("DOCKER_HOST")));
        pb.environment().putAll(env);
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        return pb.start();
    }

    Map<String, String> env(DevServer server, String name, Path workspaces, String health) {
        return Map.of("RUNNER_SERVER_URL", server.baseUrl(), "RUNNER_TOKEN", TOKEN, "RUNNER_NAME", name,
                "DOCKER_EXECUTOR_IMAGE", "debian:bookworm-slim", "DOCKER_PULL_POLICY", "never",
                "DOCKER_WORKSPACE_BASE", workspaces.toString(), "RUNNER_HEARTBEAT_INTERVAL_MS", "300",
                "RUNNER_POLL_TIMEOUT_MS", "2000", "RUNNER_HEALTH_PORT", health);
    }

    HttpResponse<String> health(int port) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldServeHealthWhileRunningAndCloseItAfterSigterm() throws Exception {
        String name = "it-health-" + UUID.randomUUID().toString().substring(0, 8);
        Path workspaces = Files.createTempDirectory("ai-review-health-it");
        Path log = Files.createTempFile("health-it", ".log");
        int port = freePort();
        try (DevServer server = DevServer.start(DevServerOptions.builder(TOKEN).port(0).build())) {
            Process p = startJar(env(server, name, workspaces, "127.0.0.1:" + port), log);
            try {
                await().atMost(Duration.ofSeconds(60)).ignoreExceptionsInstanceOf(IOException.class)
                        .until(() -> health(port).statusCode() == 200);
                JsonNode body = Json.mapper().readTree(health(port).body());
                assertEquals(name, body.get("runnerId").asText());
                assertEquals("online", body.get("status").asText());
                assertEquals(2, body.get("slots").asInt());
                assertEquals(0, body.get("busySlots").asInt());
                assertFalse(body.get("lastHeartbeat").isNull());
                assertFalse(body.toString().contains(TOKEN));
                assertEquals("online", server.runner(name).orElseThrow().status());

                HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, metrics.statusCode(), metrics.body());
                assertTrue(metrics.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
                PromText m = PromText.parse(metrics.body());
                assertEquals(2.0, m.value("ai_review_runner_slots_max", "runner", name), metrics.body());
                assertEquals(2.0, m.value("ai_review_runner_slots_free", "runner", name));
                assertEquals(0.0, m.value("ai_review_runner_tasks_active", "runner", name));
                assertEquals(0.0, m.value("ai_review_runner_tasks_claimed_total", "runner", name));
                assertEquals(0.0, m.value("ai_review_runner_pool_containers_ready", "runner", name), "the Docker executor reports its pool");
                assertTrue(m.value("ai_review_runner_seconds_since_last_heartbeat", "runner", name) < 30, metrics.body());
                assertFalse(metrics.body().contains(TOKEN));

                p.destroy(); // SIGTERM
                assertTrue(p.waitFor(60, TimeUnit.SECONDS), "runner did not stop:\n" + Files.readString(log));
                assertEquals(0, p.exitValue(), Files.readString(log));
                assertThrows(IOException.class, () -> health(port), "the endpoint is closed with the runner");
                assertEquals("offline", server.runner(name).orElseThrow().status());
            } finally {
                p.destroyForcibly();
            }
        } finally {
            assertNoContainersOf(name);
            try (Stream<Path> s = Files.walk(workspaces)) {
                s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
            Files.deleteIfExists(log);
        }
    }

    @Test
    void shouldExit1WhenTheHealthPortIsTaken() throws Exception {
        String name = "it-health-" + UUID.randomUUID().toString().substring(0, 8);
        Path workspaces = Files.createTempDirectory("ai-review-health-it");
        Path log = Files.createTempFile("health-it", ".log");
        try (DevServer server = DevServer.start(DevServerOptions.builder(TOKEN).port(0).build());
             ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            Process p = startJar(env(server, name, workspaces, "127.0.0.1:" + taken.getLocalPort()), log);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            String out = Files.readString(log, StandardCharsets.UTF_8);
            assertEquals(1, p.exitValue(), out);
            assertTrue(out.contains("cannot open the health endpoint on RUNNER_HEALTH_PORT 127.0.0.1:" + taken.getLocalPort()), out);
            assertTrue(server.runners().isEmpty(), "it never registered");
        } finally {
            assertNoContainersOf(name);
            try (Stream<Path> s = Files.walk(workspaces)) {
                s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
            Files.deleteIfExists(log);
        }
    }

    static void assertNoContainersOf(String runnerName) {
        try (DockerConnection c = DockerConnection.open(System.getenv().getOrDefault("DOCKER_HOST", "unix:///var/run/docker.sock"))) {
            List<String> left = new ArrayList<>();
            c.client().listContainersCmd().withShowAll(true).withLabelFilter(Map.of("ai-review.runner", runnerName)).exec()
                    .forEach(x -> left.add(x.getId()));
            assertTrue(left.isEmpty(), "containers left: " + left);
        }
    }
}

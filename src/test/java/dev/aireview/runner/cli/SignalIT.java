package dev.aireview.runner.cli;

import dev.aireview.runner.testsupport.TestJvm;
import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static com.github.tomakehurst.wiremock.client.WireMock.*;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;
import static dev.aireview.runner.testsupport.Requests.body;

/** The daemon as a real process (stand-in executor) receiving SIGTERM: drain, report, offline, exit 0. */
class SignalIT {
    static final String TOKEN = "signal-token-SECRET-5";
    static final String TASK = """
            {"id":"%s","repository":{"url":"https://git.example/a/b.git"},"headSha":"0123456789abcdef0123456789abcdef01234567"}""";

    WireMockServer wm;
    Process process;
    Path out;

    @BeforeEach
    void setUp() throws Exception {
        wm = new WireMockServer(options().dynamicPort());
        wm.start();
        wm.stubFor(get("/api/health").willReturn(okJson("{\"data\":{\"status\":\"ok\"}}")));
        wm.stubFor(post("/api/runners/register").willReturn(okJson("{\"data\":{\"id\":\"sig-1\"}}")));
        wm.stubFor(post(urlPathMatching("/api/runners/[^/]+/heartbeat")).willReturn(okJson("{\"data\":{}}")));
        wm.stubFor(post(urlPathMatching("/api/runners/tasks/[^/]+/(status|logs|result)")).willReturn(okJson("{\"data\":{}}")));
        out = Files.createTempFile("signal-it", ".log");
    }

    @AfterEach
    void tearDown() throws Exception {
        if (process != null && process.isAlive()) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        wm.stop();
        Files.deleteIfExists(out);
    }

    private void start(String taskId, String graceMs) throws Exception {
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).inScenario("p").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(okJson("[" + TASK.formatted(taskId) + "]")).willSetStateTo("served"));
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).inScenario("p").whenScenarioStateIs("served")
                .willReturn(okJson("[]")));
        ProcessBuilder pb = new ProcessBuilder(TestJvm.command(
                "-cp", System.getProperty("java.class.path"), SignalHarness.class.getName()));
        pb.environment().keySet().removeIf(k -> k.startsWith("RUNNER_") || k.startsWith("DOCKER_"));
        pb.environment().put("RUNNER_SERVER_URL", wm.baseUrl());
        pb.environment().put("RUNNER_TOKEN", TOKEN);
        pb.environment().put("RUNNER_NAME", "signal-runner");
        pb.environment().put("DOCKER_EXECUTOR_IMAGE", "img");
        pb.environment().put("RUNNER_HEARTBEAT_INTERVAL_MS", "200");
        pb.environment().put("RUNNER_POLL_INTERVAL_MS", "100");
        pb.environment().put("RUNNER_POLL_TIMEOUT_MS", "1000");
        pb.environment().put("RUNNER_SHUTDOWN_GRACE_MS", graceMs);
        pb.redirectErrorStream(true).redirectOutput(out.toFile());
        process = pb.start();
        try {
            await().atMost(Duration.ofSeconds(120)).until(() -> !process.isAlive()
                    || !wm.findAll(postRequestedFor(urlEqualTo("/api/runners/tasks/" + taskId + "/status"))).isEmpty());
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            fail("task never started; runner output:\n" + Files.readString(out, StandardCharsets.UTF_8));
        }
        assertTrue(process.isAlive(), "runner process ended early:\n" + Files.readString(out, StandardCharsets.UTF_8));
    }

    private String output() {
        try {
            return Files.readString(out, StandardCharsets.UTF_8);
        } catch (java.io.IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private void signal(String sig) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + sig, Long.toString(process.pid())).start();
        assertEquals(0, kill.waitFor());
    }

    /** The runner's state per heartbeat: its wire {@code status}, or "draining" for {@code busy} + {@code draining: true}. */
    private List<String> heartbeatStatuses() {
        return wm.findAll(postRequestedFor(urlEqualTo("/api/runners/sig-1/heartbeat"))).stream()
                .map(r -> {
                    JsonNode b = body(r);
                    String status = b.get("status").asText();
                    assertTrue(List.of("online", "busy", "offline").contains(status), "documented status only: " + status);
                    return b.path("draining").asBoolean() && status.equals("busy") ? "draining" : status;
                }).toList();
    }

    private JsonNode result(String taskId) {
        List<LoggedRequest> rs = wm.findAll(postRequestedFor(urlEqualTo("/api/runners/tasks/" + taskId + "/result")));
        assertEquals(1, rs.size(), "exactly one result");
        return body(rs.get(0));
    }

    @Test
    void shouldDrainTheRunningTaskOnSigtermThenGoOfflineAndExit0() throws Exception {
        start("slow-1", "60000");
        signal("TERM");
        assertTrue(process.waitFor(90, TimeUnit.SECONDS), "exits after the drain");
        String log = Files.readString(out, StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), log);
        assertEquals("completed", result("slow-1").get("status").asText(), "the running task was allowed to finish");
        List<String> statuses = heartbeatStatuses();
        assertTrue(statuses.contains("draining"), statuses.toString());
        assertEquals("offline", statuses.get(statuses.size() - 1));
        assertTrue(log.contains("EXECUTOR CLOSED"), log);
        assertTrue(log.contains("RUNNER_TOKEN = ****"), "effective configuration logged with the token masked");
        assertFalse(log.contains(TOKEN), "token never logged");
    }

    @Test
    void shouldCancelAtOnceOnASecondSignal() throws Exception {
        start("hang-1", "600000");
        signal("TERM");
        await().atMost(Duration.ofSeconds(60)).until(() -> heartbeatStatuses().contains("draining"));
        assertTrue(process.isAlive(), "still draining within the 10 min grace");
        // TERM again, not INT: a process started in the background by a non-interactive shell (nohup, `&`, the
        // run 14 that failed here) inherits SIGINT ignored, and the JVM then installs no handler for it
        signal("TERM");
        assertTrue(process.waitFor(90, TimeUnit.SECONDS), () -> "second signal cancels at once; runner output:\n" + output());
        assertEquals(0, process.exitValue());
        JsonNode r = result("hang-1");
        assertEquals("cancelled", r.get("status").asText());
        assertEquals("runner_shutdown", r.get("error").get("kind").asText());
    }
}

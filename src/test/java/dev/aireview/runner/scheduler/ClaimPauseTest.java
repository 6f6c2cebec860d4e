package dev.aireview.runner.scheduler;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.aireview.runner.config.RunnerConfig;
import dev.aireview.runner.execution.ClaimGate;
import dev.aireview.runner.execution.TaskContext;
import dev.aireview.runner.execution.TaskExecutor;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.model.TaskStats;
import dev.aireview.runner.observability.HealthServer;
import dev.aireview.runner.observability.RunnerMetrics;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static com.github.tomakehurst.wiremock.client.WireMock.*;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The executor's claim gate (e.g. low disk space) against WireMock as the server: while it gives a reason the
 * runner sends no poll, says why in its heartbeat ({@code claimsPaused}) and in /health (still healthy), and it
 * claims again by itself once the gate opens.
 */
class ClaimPauseTest {
    private static final String REASON = "low disk space: 900 MiB free under /ws, below DOCKER_MIN_FREE_DISK (1024 MiB)";
    private final AtomicReference<String> paused = new AtomicReference<>(REASON);
    private final HttpClient http = HttpClient.newHttpClient();
    private WireMockServer wm;
    private RunnerDaemon daemon;
    private HealthServer health;

    private final TaskExecutor executor = new TaskExecutor() {
        @Override
        public TaskResult execute(ReviewTask task, TaskContext context) {
            return TaskResult.completed("ok", List.of(), TaskStats.EMPTY);
        }

        @Override
        public ClaimGate claimGate() {
            return paused::get;
        }
    };

    @AfterEach
    void tearDown() throws Exception {
        if (health != null) {
            health.close();
        }
        if (daemon != null) {
            daemon.stopNow();
            assertTrue(daemon.awaitTermination(Duration.ofSeconds(20)));
        }
        if (wm != null) {
            wm.stop();
        }
    }

    private List<JsonNode> heartbeats() {
        return wm.findAll(postRequestedFor(urlPathMatching("/api/runners/[^/]+/heartbeat"))).stream()
                .map(LoggedRequest::getBodyAsString).map(b -> {
                    try {
                        return Json.mapper().readTree(b);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }).toList();
    }

    private int polls() {
        return wm.findAll(getRequestedFor(urlPathEqualTo("/api/runners/tasks/pending"))).size();
    }

    private JsonNode getHealth() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + health.port() + "/health")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), "a paused runner stays healthy: " + r.body());
        return Json.mapper().readTree(r.body());
    }

    @Test
    void shouldNotPollWhileTheGateIsClosedSayWhyAndResumeByItself() throws Exception {
        wm = SchedulerTest.startWireMock("srv-gate");
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).willReturn(aResponse().withStatus(204)));
        RunnerConfig c = SchedulerTest.wireMockConfig(wm.baseUrl(), "gate-test", 2, Map.of());
        daemon = SchedulerTest.httpDaemon(c, executor, SchedulerTest.settings(), RunnerMetrics.NOOP);
        daemon.start();
        health = HealthServer.start("127.0.0.1", 0, daemon::health);

        await().atMost(Duration.ofSeconds(20)).until(() -> heartbeats().stream()
                .filter(h -> REASON.equals(h.path("claimsPaused").asText(null))).count() >= 3);
        assertEquals(0, polls(), "no poll while claims are paused");
        JsonNode h = getHealth();
        assertEquals(REASON, h.path("claimsPaused").asText());
        assertTrue(h.path("healthy").asBoolean());

        paused.set(null);

        await().atMost(Duration.ofSeconds(20)).until(() -> polls() >= 2);
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            List<JsonNode> hb = heartbeats();
            return !hb.get(hb.size() - 1).has("claimsPaused");
        });
        assertFalse(getHealth().has("claimsPaused"));
    }
}

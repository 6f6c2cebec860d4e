package dev.aireview.runner.scheduler;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import dev.aireview.runner.config.RunnerConfig;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.observability.HealthServer;
import dev.aireview.runner.observability.RunnerMetrics;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import static com.github.tomakehurst.wiremock.client.WireMock.*;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

/** GET /health of a real daemon against WireMock as the server: starting, healthy with a running task, stale heartbeat, stopped. */
class RunnerHealthTest {
    static final String TASK = """
            {"id":"%s","repository":{"url":"https://git.example/a/b.git"},"headSha":"0123456789abcdef0123456789abcdef01234567"}""";

    WireMockServer wm;
    FakeExecutor executor = new FakeExecutor();
    RunnerDaemon daemon;
    HealthServer health;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void setUp() {
        wm = SchedulerTest.startWireMock("srv-h");
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).inScenario("poll").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(okJson("{\"data\":[" + TASK.formatted("gate-h1") + "]}")).willSetStateTo("served"));
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).inScenario("poll").whenScenarioStateIs("served")
                .willReturn(aResponse().withStatus(204)));
        wm.stubFor(post(urlPathMatching("/api/runners/tasks/[^/]+/(status|logs|result)")).willReturn(okJson("{\"data\":{}}")));
    }

    @AfterEach
    void tearDown() throws Exception {
        executor.gate.countDown();
        if (health != null) {
            health.close();
        }
        if (daemon != null) {
            daemon.stopNow();
            assertTrue(daemon.awaitTermination(Duration.ofSeconds(20)));
        }
        wm.stop();
    }

    RunnerDaemon daemon() {
        RunnerConfig c = SchedulerTest.wireMockConfig(wm.baseUrl(), "health-test", 2, Map.of("RUNNER_HEALTH_PORT", "127.0.0.1:0"));
        daemon = SchedulerTest.httpDaemon(c, executor, SchedulerTest.settings(), RunnerMetrics.NOOP);
        return daemon;
    }

    record Answer(int status, JsonNode body) {
    }

    Answer getHealth() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + health.port() + "/health")).build(),
                HttpResponse.BodyHandlers.ofString());
        return new Answer(r.statusCode(), Json.mapper().readTree(r.body()));
    }

    @Test
    void shouldReportStartingThenHeartbeatSlotsAndRunningTasksThenStaleThenStopped() throws Exception {
        RunnerDaemon d = daemon();
        health = HealthServer.start("127.0.0.1", 0, d::health);

        Answer before = getHealth();
        assertEquals(503, before.status());
        assertEquals("starting", before.body().get("status").asText());
        assertFalse(before.body().get("healthy").asBoolean());

        d.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> executor.running.get() == 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> getHealth().status() == 200);
        JsonNode ok = getHealth().body();
        assertTrue(ok.get("healthy").asBoolean());
        assertEquals("srv-h", ok.get("runnerId").asText());
        assertEquals("health-test", ok.get("name").asText());
        assertEquals(2, ok.get("slots").asInt());
        assertEquals(1, ok.get("busySlots").asInt(), ok.toString());
        assertEquals(1, ok.get("freeSlots").asInt(), ok.toString());
        assertEquals("gate-h1", ok.get("runningTasks").get(0).asText());
        assertFalse(ok.get("lastHeartbeat").isNull());
        assertTrue(ok.get("lastHeartbeatAgeMs").asLong() >= 0);
        assertFalse(ok.toString().contains(SchedulerTest.TOKEN));

        // the server stops accepting heartbeats: after 3 intervals + the request timeout the runner is unhealthy
        wm.stubFor(post(urlPathMatching("/api/runners/[^/]+/heartbeat")).willReturn(aResponse().withStatus(500)));
        await().atMost(Duration.ofSeconds(10)).until(() -> getHealth().status() == 503);
        JsonNode stale = getHealth().body();
        assertTrue(stale.get("reason").asText().startsWith("last successful heartbeat was"), stale.toString());
        assertEquals("gate-h1", stale.get("runningTasks").get(0).asText(), "tasks keep running during a server outage");

        executor.gate.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> getHealth().body().get("runningTasks").isEmpty());
        assertEquals(0, getHealth().body().get("busySlots").asInt(), "a waiting poll does not count as a busy slot");
        d.stopGracefully();
        assertTrue(d.awaitTermination(Duration.ofSeconds(20)));
        Answer after = getHealth();
        assertEquals(503, after.status());
        assertEquals("stopped", after.body().get("status").asText());
    }
}

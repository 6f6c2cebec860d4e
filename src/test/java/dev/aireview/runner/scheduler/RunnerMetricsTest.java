package dev.aireview.runner.scheduler;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import dev.aireview.runner.config.RunnerConfig;
import dev.aireview.runner.observability.HealthServer;
import dev.aireview.runner.observability.PromText;
import dev.aireview.runner.observability.PrometheusMetrics;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;

import static com.github.tomakehurst.wiremock.client.WireMock.*;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

/**
 * GET /metrics of a real daemon against WireMock as the server, with a fake executor: one poll hands over a
 * completed, a failing, a bad and a long-running task; a poll fails once; one result is refused once; the log cap
 * drops lines; then heartbeats fail. Every value is read back over HTTP.
 */
class RunnerMetricsTest {
    static final String SHA = "0123456789abcdef0123456789abcdef01234567";
    static final String TASK = "{\"id\":\"%s\",\"repository\":{\"url\":\"https://git.example/secret-org/repo.git\"},\"headSha\":\"" + SHA + "\"}";
    static final String BAD = "{\"id\":\"bad-m1\",\"headSha\":\"" + SHA + "\"}";

    WireMockServer wm;
    FakeExecutor executor = new FakeExecutor();
    RunnerDaemon daemon;
    HealthServer health;
    final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void setUp() {
        wm = SchedulerTest.startWireMock("srv-m");
        String poll = "/api/runners/tasks/pending";
        wm.stubFor(get(urlPathEqualTo(poll)).inScenario("poll").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(okJson("{\"data\":[" + TASK.formatted("ok-m1") + "," + TASK.formatted("throw-m1") + "," + BAD + ","
                        + TASK.formatted("gate-m1") + "]}")).willSetStateTo("served"));
        wm.stubFor(get(urlPathEqualTo(poll)).inScenario("poll").whenScenarioStateIs("served")
                .willReturn(aResponse().withStatus(500)).willSetStateTo("idle"));
        wm.stubFor(get(urlPathEqualTo(poll)).inScenario("poll").whenScenarioStateIs("idle")
                .willReturn(aResponse().withStatus(204)));
        wm.stubFor(post(urlPathMatching("/api/runners/tasks/[^/]+/(status|logs)")).willReturn(okJson("{\"data\":{}}")));
        wm.stubFor(post(urlPathMatching("/api/runners/tasks/[^/]+/result")).willReturn(okJson("{\"data\":{}}")));
        // the first result of throw-m1 is refused with a 503, the retry is taken
        wm.stubFor(post(urlPathEqualTo("/api/runners/tasks/throw-m1/result")).inScenario("result").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(aResponse().withStatus(503)).willSetStateTo("refused"));
        wm.stubFor(post(urlPathEqualTo("/api/runners/tasks/throw-m1/result")).inScenario("result").whenScenarioStateIs("refused")
                .willReturn(okJson("{\"data\":{}}")));
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

    PromText scrape() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + health.port() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
        return PromText.parse(r.body());
    }

    static double v(PromText p, String name, String... labels) {
        Double d = p.value(name, labels);
        assertNotNull(d, name + " " + String.join(",", labels) + " missing in\n" + p.text());
        return d;
    }

    @Test
    void shouldCountClaimsResultsPollsRetriesDroppedLinesAndHeartbeatFailures() throws Exception {
        RunnerConfig c = SchedulerTest.wireMockConfig(wm.baseUrl(), "metrics-test", 4, Map.of("RUNNER_LOG_LIMIT_BYTES", "2048"));
        // backoff waits (poll error, result retry) are cut short so the test does not wait out real backoff
        SchedulerSettings settings = SchedulerTest.settings().withSleeper(d -> Thread.sleep(Math.min(d.toMillis(), 20)));
        PrometheusMetrics metrics = new PrometheusMetrics(c.name());
        executor.linesToLog = Collections.nCopies(100, "x".repeat(99));
        daemon = SchedulerTest.httpDaemon(c, executor, settings, metrics);
        health = HealthServer.start("127.0.0.1", 0, daemon::health, metrics::scrape);

        PromText before = scrape();
        assertEquals(4.0, v(before, "ai_review_runner_slots_max", "runner", "metrics-test"));
        assertEquals(0.0, v(before, "ai_review_runner_tasks_active"));
        assertEquals(4.0, v(before, "ai_review_runner_slots_free"));
        assertEquals(0.0, v(before, "ai_review_runner_tasks_claimed_total"));
        assertFalse(before.has("ai_review_runner_pool_containers_ready"), "the fake executor has no pool");

        daemon.start();
        // ok-m1, throw-m1 (after one refused delivery) and bad-m1 have their results; gate-m1 is still running
        await().atMost(Duration.ofSeconds(15)).until(() -> {
            PromText p = scrape();
            return p.value("ai_review_runner_task_results_total", "status", "completed", "error_kind", "none") != null
                    && p.value("ai_review_runner_task_results_total", "status", "failed", "error_kind", "executor_failed") != null
                    && p.value("ai_review_runner_task_results_total", "status", "failed", "error_kind", "bad_task") != null
                    && v(p, "ai_review_runner_polls_total", "outcome", "error") >= 1
                    && v(p, "ai_review_runner_result_retries_total") >= 1
                    && executor.running.get() == 1;
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> wm.findAll(postRequestedFor(urlPathEqualTo("/api/runners/tasks/throw-m1/result"))).size() == 2);
        PromText p = scrape();
        assertEquals(4.0, v(p, "ai_review_runner_tasks_claimed_total"));
        assertEquals(1.0, v(p, "ai_review_runner_polls_total", "outcome", "tasks"));
        assertEquals(1.0, v(p, "ai_review_runner_polls_total", "outcome", "error"));
        assertEquals(1.0, v(p, "ai_review_runner_task_results_total", "status", "completed", "error_kind", "none"));
        assertEquals(1.0, v(p, "ai_review_runner_task_results_total", "status", "failed", "error_kind", "executor_failed"));
        assertEquals(1.0, v(p, "ai_review_runner_task_results_total", "status", "failed", "error_kind", "bad_task"));
        assertEquals(1.0, v(p, "ai_review_runner_result_retries_total"));
        assertEquals(1.0, v(p, "ai_review_runner_tasks_active"));
        assertEquals(3.0, v(p, "ai_review_runner_slots_free"));
        assertEquals(4.0, v(p, "ai_review_runner_slots_max"));
        // the executor ran three of them (the bad task never starts); all three waited a little after the claim
        assertEquals(3.0, v(p, "ai_review_runner_task_queue_seconds_count"));
        assertEquals(3.0, v(p, "ai_review_runner_task_queue_seconds_bucket", "le", "+Inf"));
        assertEquals(1.0, v(p, "ai_review_runner_task_duration_seconds_count", "status", "completed"));
        assertEquals(2.0, v(p, "ai_review_runner_task_duration_seconds_count", "status", "failed"));
        // 100 lines of 100 bytes against a 2 KiB cap: ok-m1's log lost most of its lines
        double dropped = v(p, "ai_review_runner_log_lines_dropped_total");
        assertTrue(dropped >= 70 && dropped <= 100, "dropped " + dropped);

        executor.gate.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            PromText q = scrape();
            Double done = q.value("ai_review_runner_task_results_total", "status", "completed", "error_kind", "none");
            return done != null && done == 2.0 && v(q, "ai_review_runner_tasks_active") == 0.0;
        });
        PromText idle = scrape();
        assertEquals(4.0, v(idle, "ai_review_runner_slots_free"), "a waiting poll does not count as a busy slot");
        assertTrue(v(idle, "ai_review_runner_polls_total", "outcome", "empty") >= 1);
        assertTrue(v(idle, "ai_review_runner_log_lines_dropped_total") > dropped, "gate-m1's log was capped too");

        // the server stops accepting heartbeats: failures are counted and the age grows past several intervals
        double failuresBefore = v(idle, "ai_review_runner_heartbeat_failures_total");
        assertTrue(v(idle, "ai_review_runner_seconds_since_last_heartbeat") < 5, idle.text());
        wm.stubFor(post(urlPathMatching("/api/runners/[^/]+/heartbeat")).willReturn(aResponse().withStatus(500)));
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            PromText q = scrape();
            return v(q, "ai_review_runner_heartbeat_failures_total") >= failuresBefore + 3
                    && v(q, "ai_review_runner_seconds_since_last_heartbeat") >= 0.3;
        });

        String text = scrape().text();
        assertFalse(text.contains(SchedulerTest.TOKEN), "no token in the metrics");
        assertFalse(text.contains("secret-org"), "no repository URL in the metrics");
        for (String id : new String[]{"ok-m1", "throw-m1", "bad-m1", "gate-m1", "srv-m"}) {
            assertFalse(text.contains(id), "no task or runner id in the metrics: " + id);
        }
    }
}

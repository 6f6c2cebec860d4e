package dev.aireview.runner.scheduler;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.aireview.runner.observability.RunnerMetrics;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static com.github.tomakehurst.wiremock.client.WireMock.*;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;
import static dev.aireview.runner.testsupport.Requests.body;

/** The life cycle over real HTTP (WireMock as the server): a stalled final heartbeat, and crash-recovery reports. */
class ShutdownOverHttpTest {
    WireMockServer wm;
    FakeExecutor executor = new FakeExecutor();
    RunnerDaemon daemon;

    @BeforeEach
    void setUp() {
        wm = SchedulerTest.startWireMock("srv-h");
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).willReturn(okJson("{\"data\":[]}")));
        wm.stubFor(post(urlPathMatching("/api/runners/tasks/[^/]+/(status|logs|result)")).willReturn(okJson("{\"data\":{}}")));
    }

    @AfterEach
    void tearDown() throws Exception {
        if (daemon != null) {
            daemon.stopNow();
            assertTrue(daemon.awaitTermination(Duration.ofSeconds(30)));
        }
        wm.stop();
    }

    @Test
    void shouldExitWhenTheOfflineHeartbeatStalls() throws Exception {
        // the offline heartbeat's answer stalls far longer than the (here generous) request timeout allows for
        wm.stubFor(post(urlPathMatching("/api/runners/[^/]+/heartbeat")).withRequestBody(containing("\"offline\""))
                .atPriority(1).willReturn(okJson("{\"data\":{}}").withFixedDelay(60_000)));
        daemon = SchedulerTest.httpDaemon(SchedulerTest.wireMockConfig(wm.baseUrl(), "stall-test", 1,
                Map.of("RUNNER_REQUEST_TIMEOUT_MS", "600000")), executor, SchedulerTest.settings(), RunnerMetrics.NOOP);
        daemon.start();
        daemon.overrideShutdownDeadline(ShutdownCoordinator.GO_OFFLINE, Duration.ofSeconds(2));
        await().atMost(Duration.ofSeconds(10)).until(() -> daemon.lastSuccessfulHeartbeat() != null);

        long t0 = System.nanoTime();
        daemon.stopGracefully();
        assertTrue(daemon.awaitTermination(Duration.ofSeconds(30)), "the stop does not wait for the stalled body");
        assertTrue((System.nanoTime() - t0) / 1_000_000_000 < 30);
        assertFalse(wm.findAll(postRequestedFor(urlPathMatching("/api/runners/[^/]+/heartbeat"))
                .withRequestBody(containing("\"offline\""))).isEmpty(), "the offline heartbeat was sent");
        ShutdownCoordinator.StepReport offline = daemon.shutdownReport().stream()
                .filter(r -> r.step().equals(ShutdownCoordinator.GO_OFFLINE)).findFirst().orElseThrow();
        assertEquals(ShutdownCoordinator.Outcome.TIMED_OUT, offline.outcome());
        assertTrue(executor.closed.get(), "the executor is closed after the stalled step");
    }

    @Test
    void shouldReportLeftoverTasksAsFailedRunnerShutdownAfterRegistering() throws Exception {
        executor.leftovers = List.of("lost-1", "lost-2");
        daemon = SchedulerTest.httpDaemon(SchedulerTest.wireMockConfig(wm.baseUrl(), "leftover-test", 1, Map.of()), executor,
                SchedulerTest.settings(), RunnerMetrics.NOOP);
        daemon.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> !wm.findAll(getRequestedFor(urlPathEqualTo("/api/runners/tasks/pending"))).isEmpty()
                && daemon.health().unreportedLeftovers() == 0);
        for (String id : List.of("lost-1", "lost-2")) {
            List<LoggedRequest> results = wm.findAll(postRequestedFor(urlEqualTo("/api/runners/tasks/" + id + "/result")));
            assertEquals(1, results.size(), "reported once: " + id);
            JsonNode r = body(results.get(0));
            assertEquals("srv-h", r.get("runnerId").asText());
            assertEquals("failed", r.get("status").asText());
            assertEquals("runner_shutdown", r.get("error").get("kind").asText());
            assertEquals("the runner restarted while this review ran", r.get("error").get("message").asText());
        }
        List<String> order = wm.getAllServeEvents().stream()
                .sorted(java.util.Comparator.comparing(e -> e.getRequest().getLoggedDate()))
                .map(e -> e.getRequest().getUrl()).filter(u -> !u.contains("heartbeat")).toList();
        int register = order.indexOf("/api/runners/register");
        assertTrue(register < order.indexOf("/api/runners/tasks/lost-1/result"), order.toString());
    }
}

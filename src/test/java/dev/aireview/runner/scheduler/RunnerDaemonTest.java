package dev.aireview.runner.scheduler;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.aireview.runner.config.RunnerConfig;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.observability.RunnerMetrics;
import dev.aireview.runner.server.Backoff;
import dev.aireview.runner.server.HttpServerClient;
import dev.aireview.runner.server.ServerClient;
import dev.aireview.runner.server.Sleeper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import static com.github.tomakehurst.wiremock.client.WireMock.*;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;
import static dev.aireview.runner.testsupport.Requests.body;

/** The daemon in-process against WireMock as the server, with a fake executor. */
class RunnerDaemonTest {
    static final String TOKEN = SchedulerTest.TOKEN;
    static final String TASK = """
            {"id":"%s","repository":{"url":"https://git.example/a/b.git"},"headSha":"0123456789abcdef0123456789abcdef01234567"}""";

    WireMockServer wm;
    FakeExecutor executor = new FakeExecutor();
    RunnerDaemon daemon;
    final List<Duration> slept = Collections.synchronizedList(new ArrayList<>());

    @BeforeEach
    void setUp() {
        wm = SchedulerTest.startWireMock("srv-1");
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).willReturn(okJson("{\"data\":[]}")));
        wm.stubFor(post(urlPathMatching("/api/runners/tasks/[^/]+/(status|logs|result)")).willReturn(okJson("{\"data\":{}}")));
    }

    @AfterEach
    void tearDown() throws Exception {
        executor.gate.countDown();
        if (daemon != null) {
            daemon.stopNow();
            assertTrue(daemon.awaitTermination(Duration.ofSeconds(20)));
        }
        wm.stop();
    }

    /** Records every wait and waits a little for real (so loops do not spin), never the full time. */
    Sleeper recordingSleeper() {
        return d -> {
            slept.add(d);
            Thread.sleep(Math.min(d.toMillis(), 20));
        };
    }

    RunnerDaemon daemon(long pollTimeoutMs, long heartbeatMs) {
        RunnerConfig base = SchedulerTest.config(2, 10_000);
        RunnerConfig c = new RunnerConfig(URI.create(wm.baseUrl()), base.token(), base.name(), base.runnerId(), List.of("t1"),
                2, Duration.ofMillis(50), Duration.ofMillis(pollTimeoutMs), Duration.ofMillis(heartbeatMs), Duration.ofSeconds(2),
                base.shutdownGrace(), base.logLimitBytes(), base.docker());
        SchedulerSettings s = SchedulerTest.settings().withSleeper(recordingSleeper());
        daemon = SchedulerTest.httpDaemon(c, executor, s, RunnerMetrics.NOOP);
        return daemon;
    }

    private void pollReturnsOnce(String body) {
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).inScenario("poll").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(okJson(body)).willSetStateTo("served"));
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).inScenario("poll").whenScenarioStateIs("served")
                .willReturn(aResponse().withStatus(204)));
    }

    @Test
    void shouldRegisterHeartbeatPollRunAndReportAgainstTheServer() throws Exception {
        pollReturnsOnce("{\"data\":[" + TASK.formatted("ok-1") + "]}");
        daemon(1000, 100).start();
        await().atMost(Duration.ofSeconds(10)).until(() -> !wm.findAll(postRequestedFor(urlEqualTo("/api/runners/tasks/ok-1/result"))).isEmpty());

        LoggedRequest reg = wm.findAll(postRequestedFor(urlEqualTo("/api/runners/register"))).get(0);
        assertEquals("Bearer " + TOKEN, reg.getHeader("Authorization"));
        assertEquals("sched-test", reg.getHeader("x-runner-id"));
        assertEquals("2", reg.getHeader("x-runner-max-concurrency"));
        assertEquals("t1", reg.getHeader("x-runner-tags"));
        assertEquals("img", body(reg).get("executorImage").asText());

        await().atMost(Duration.ofSeconds(5)).until(() -> !wm.findAll(postRequestedFor(urlEqualTo("/api/runners/srv-1/heartbeat"))).isEmpty());
        JsonNode hb = body(wm.findAll(postRequestedFor(urlEqualTo("/api/runners/srv-1/heartbeat"))).get(0));
        assertTrue(wm.findAll(postRequestedFor(urlEqualTo("/api/runners/srv-1/heartbeat"))).stream()
                .anyMatch(r -> body(r).get("status").asText().equals("online")), "an idle runner (even while polling) is online");
        assertEquals(2, hb.get("maxConcurrentJobs").asInt());
        assertTrue(hb.has("activeJobs") && hb.get("runningTaskIds").isArray());

        LoggedRequest poll = wm.findAll(getRequestedFor(urlPathEqualTo("/api/runners/tasks/pending"))).get(0);
        assertEquals("srv-1", poll.queryParameter("runnerId").firstValue());
        assertEquals("2", poll.queryParameter("maxTasks").firstValue());
        assertEquals("800", poll.queryParameter("waitMs").firstValue());

        JsonNode result = body(wm.findAll(postRequestedFor(urlEqualTo("/api/runners/tasks/ok-1/result"))).get(0));
        assertEquals("srv-1", result.get("runnerId").asText());
        assertEquals("completed", result.get("status").asText());
        assertTrue(result.get("stats").has("durationMs"));
        assertTrue(result.get("stats").has("queueToStartMs"));
        JsonNode status = body(wm.findAll(postRequestedFor(urlEqualTo("/api/runners/tasks/ok-1/status"))).get(0));
        assertEquals("preparing", status.get("status").asText());
        assertEquals("srv-1", status.get("runnerId").asText());
        assertTrue(status.has("at"));
        // health first, then register, and only then the loops
        List<String> order = wm.getAllServeEvents().stream()
                .sorted(java.util.Comparator.comparing(e -> e.getRequest().getLoggedDate()))
                .map(e -> e.getRequest().getUrl()).toList();
        assertEquals("/api/health", order.get(0));
        assertEquals("/api/runners/register", order.get(1));
    }

    @Test
    void shouldFailStartupWithAClearMessageWhenTheTokenIsRefused() {
        wm.stubFor(post("/api/runners/register").willReturn(aResponse().withStatus(401)
                .withBody("{\"error\":{\"title\":\"Unauthorized\",\"status\":401}}")));
        RunnerDaemon d = daemon(1000, 100);
        StartupException e = assertThrows(StartupException.class, d::start);
        assertTrue(e.getMessage().contains("refused the runner token"), e.getMessage());
        assertTrue(e.getMessage().contains("401"), e.getMessage());
        assertFalse(e.getMessage().contains(TOKEN));
        assertTrue(executor.closed.get(), "executor closed on a failed start");
        assertTrue(d.isTerminated());
        wm.verify(0, getRequestedFor(urlPathEqualTo("/api/runners/tasks/pending")));
        daemon = null;
    }

    @Test
    void shouldRetryAnUnreachableServerAtStartupWithBackoff() throws Exception {
        wm.stubFor(get("/api/health").inScenario("h").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(aResponse().withStatus(503)).willSetStateTo("up"));
        wm.stubFor(get("/api/health").inScenario("h").whenScenarioStateIs("up").willReturn(okJson("{\"data\":{\"status\":\"ok\"}}")));
        daemon(1000, 100).start();
        wm.verify(2, getRequestedFor(urlEqualTo("/api/health")));
        assertFalse(slept.isEmpty());
        assertEquals("srv-1", daemon.runnerId());
    }

    @Test
    void shouldRegisterAgainWhenTheHeartbeatAnswers404() throws Exception {
        wm.stubFor(post(urlPathMatching("/api/runners/[^/]+/heartbeat")).inScenario("hb").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(aResponse().withStatus(404)).willSetStateTo("known"));
        wm.stubFor(post(urlPathMatching("/api/runners/[^/]+/heartbeat")).inScenario("hb").whenScenarioStateIs("known")
                .willReturn(okJson("{}")));
        daemon(1000, 100).start();
        await().atMost(Duration.ofSeconds(5)).until(() -> wm.findAll(postRequestedFor(urlEqualTo("/api/runners/register"))).size() == 2);
        await().atMost(Duration.ofSeconds(5)).until(() -> wm.findAll(postRequestedFor(urlPathMatching("/api/runners/[^/]+/heartbeat"))).size() >= 3);
    }

    @Test
    void shouldRegisterAgainWhenThePollAnswers404() throws Exception {
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).inScenario("p").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(aResponse().withStatus(404)).willSetStateTo("known"));
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).inScenario("p").whenScenarioStateIs("known")
                .willReturn(okJson("[]")));
        daemon(1000, 60_000).start();
        await().atMost(Duration.ofSeconds(5)).until(() -> wm.findAll(postRequestedFor(urlEqualTo("/api/runners/register"))).size() == 2);
        await().atMost(Duration.ofSeconds(5)).until(() -> wm.findAll(getRequestedFor(urlPathEqualTo("/api/runners/tasks/pending"))).size() >= 2);
    }

    @Test
    void shouldStopATaskWhenItsStatusAnswers409() throws Exception {
        wm.stubFor(post("/api/runners/tasks/hang-9/status").willReturn(aResponse().withStatus(409)));
        pollReturnsOnce("[" + TASK.formatted("hang-9") + "]");
        daemon(1000, 100).start();
        await().atMost(Duration.ofSeconds(10)).until(() -> !wm.findAll(postRequestedFor(urlEqualTo("/api/runners/tasks/hang-9/result"))).isEmpty());
        JsonNode result = body(wm.findAll(postRequestedFor(urlEqualTo("/api/runners/tasks/hang-9/result"))).get(0));
        assertEquals("cancelled", result.get("status").asText());
        assertEquals("cancelled", result.get("error").get("kind").asText());
        assertEquals(0, executor.running.get(), "executor stopped");
    }

    @Test
    void shouldHonourRetryAfterWhenThePollIsRateLimited() throws Exception {
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).inScenario("p").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(aResponse().withStatus(429).withHeader("Retry-After", "3")).willSetStateTo("ok"));
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).inScenario("p").whenScenarioStateIs("ok").willReturn(okJson("[]")));
        daemon(1000, 60_000).start();
        await().atMost(Duration.ofSeconds(5)).until(() -> wm.findAll(getRequestedFor(urlPathEqualTo("/api/runners/tasks/pending"))).size() >= 2);
        assertEquals(Duration.ofSeconds(3), slept.get(0), "first wait is the server's Retry-After: " + slept);
    }

    @Test
    void shouldKeepTheHeartbeatRhythmWhileAPollIsHeld() throws Exception {
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).willReturn(okJson("[]").withFixedDelay(3000)));
        daemon(4000, 100).start();
        await().atMost(Duration.ofSeconds(5)).until(() -> wm.findAll(getRequestedFor(urlPathEqualTo("/api/runners/tasks/pending"))).size() == 1);
        int before = wm.findAll(postRequestedFor(urlPathMatching("/api/runners/[^/]+/heartbeat"))).size();
        // 8 more beats at 100 ms need ~0.8 s; the single poll is held 3 s
        await().atMost(Duration.ofMillis(2500)).until(() ->
                wm.findAll(postRequestedFor(urlPathMatching("/api/runners/[^/]+/heartbeat"))).size() >= before + 8);
        assertEquals(1, wm.findAll(getRequestedFor(urlPathEqualTo("/api/runners/tasks/pending"))).size(), "still the same poll in flight");
    }

    @Test
    void shouldKeepAResultThroughA30SecondOutageAndDeliverItAfterwards() {
        wm.stubFor(post("/api/runners/tasks/t-out/result").willReturn(aResponse().withStatus(503)));
        AtomicLong simulatedMs = new AtomicLong();
        List<Duration> waits = new ArrayList<>();
        Sleeper simulated = d -> {
            waits.add(d);
            if (simulatedMs.addAndGet(d.toMillis()) >= 30_000) {
                // the outage ends after 30 simulated seconds
                wm.stubFor(post("/api/runners/tasks/t-out/result").willReturn(okJson("{\"data\":{}}")));
            }
        };
        ServerClient client = new HttpServerClient(URI.create(wm.baseUrl()), TOKEN, Duration.ofSeconds(2), Duration.ofSeconds(2), Clock.systemUTC());
        ResultSender sender = new ResultSender(client, registrar(client), Backoff.standard(new Random(3)), simulated, () -> true);
        long t0 = System.nanoTime();
        ResultSender.Delivery d = sender.deliver("t-out", TaskResult.failure(ErrorKind.CLONE_FAILED, "repo not found"));
        assertEquals(ResultSender.Delivery.DELIVERED, d);
        assertTrue(simulatedMs.get() >= 30_000, "waited through the outage: " + waits);
        List<LoggedRequest> posts = wm.findAll(postRequestedFor(urlEqualTo("/api/runners/tasks/t-out/result")));
        assertEquals(waits.size() + 1, posts.size());
        assertTrue(posts.size() > 3);
        assertEquals("clone_failed", body(posts.get(posts.size() - 1)).get("error").get("kind").asText());
        assertTrue(Duration.ofNanos(System.nanoTime() - t0).toSeconds() < 20, "simulated, not real waiting");
    }

    private static RunnerRegistrar registrar(ServerClient client) {
        return new RunnerRegistrar(client, new dev.aireview.runner.server.Registration("srv-1", "srv-1", "v", 1, List.of(), "h", "o",
                null, "img"));
    }

    @Test
    void shouldDropAResultTheServerNoLongerWants() {
        wm.stubFor(post("/api/runners/tasks/t-gone/result").willReturn(aResponse().withStatus(410)));
        ServerClient client = new HttpServerClient(URI.create(wm.baseUrl()), TOKEN, Duration.ofSeconds(2), Duration.ofSeconds(2), Clock.systemUTC());
        ResultSender sender = new ResultSender(client, registrar(client), Backoff.standard(new Random(3)), recordingSleeper(), () -> true);
        assertEquals(ResultSender.Delivery.DROPPED, sender.deliver("t-gone", TaskResult.failure(ErrorKind.TIMEOUT, "x")));
        wm.verify(1, postRequestedFor(urlEqualTo("/api/runners/tasks/t-gone/result")));
        assertTrue(slept.isEmpty());
    }

    /** A journal in memory: what the result sender leaves in it is what the next start would report. */
    static final class MemoryJournal implements dev.aireview.runner.execution.ClaimJournal {
        final java.util.Set<String> ids = java.util.concurrent.ConcurrentHashMap.newKeySet();

        @Override
        public boolean record(String taskId) {
            return ids.add(taskId);
        }

        @Override
        public void remove(String taskId) {
            ids.remove(taskId);
        }

        @Override
        public List<String> list() {
            return List.copyOf(ids);
        }
    }

    @Test
    void shouldRetryARedirectedResultAndRemoveTheJournalEntryOnlyOnceDeliveredOrTheTaskIsGone() {
        ServerClient client = new HttpServerClient(URI.create(wm.baseUrl()), TOKEN, Duration.ofSeconds(2), Duration.ofSeconds(2), Clock.systemUTC());
        MemoryJournal journal = new MemoryJournal();
        journal.record("t-307");
        journal.record("t-400");
        journal.record("t-410");
        wm.stubFor(post("/api/runners/tasks/t-307/result").inScenario("r").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(aResponse().withStatus(307).withHeader("Location", "https://proxy.example/maintenance")).willSetStateTo("up"));
        wm.stubFor(post("/api/runners/tasks/t-307/result").inScenario("r").whenScenarioStateIs("up").willReturn(okJson("{\"data\":{}}")));
        wm.stubFor(post("/api/runners/tasks/t-400/result").willReturn(aResponse().withStatus(400)));
        wm.stubFor(post("/api/runners/tasks/t-410/result").willReturn(aResponse().withStatus(410)));
        ResultSender sender = new ResultSender(client, registrar(client), Backoff.standard(new Random(3)), recordingSleeper(), () -> true,
                RunnerMetrics.NOOP, journal);
        TaskResult r = TaskResult.failure(ErrorKind.TIMEOUT, "x");

        assertEquals(ResultSender.Delivery.DELIVERED, sender.deliver("t-307", r), "a redirect is retried, not a rejection");
        wm.verify(2, postRequestedFor(urlEqualTo("/api/runners/tasks/t-307/result")));
        assertEquals(ResultSender.Delivery.REJECTED, sender.deliver("t-400", r));
        assertEquals(ResultSender.Delivery.DROPPED, sender.deliver("t-410", r));
        assertEquals(List.of("t-400"), journal.list(), "only a rejected result stays owed");
    }

    @Test
    void shouldKeepTheJournalEntryOfAResultRedirectedUntilTheRunnerStops() {
        ServerClient client = new HttpServerClient(URI.create(wm.baseUrl()), TOKEN, Duration.ofSeconds(2), Duration.ofSeconds(2), Clock.systemUTC());
        MemoryJournal journal = new MemoryJournal();
        journal.record("t-301");
        wm.stubFor(post("/api/runners/tasks/t-301/result").willReturn(aResponse().withStatus(301).withHeader("Location", "https://x.example/")));
        java.util.concurrent.atomic.AtomicInteger budget = new java.util.concurrent.atomic.AtomicInteger(3);
        ResultSender sender = new ResultSender(client, registrar(client), Backoff.standard(new Random(3)), recordingSleeper(),
                () -> budget.decrementAndGet() >= 0, RunnerMetrics.NOOP, journal);
        assertEquals(ResultSender.Delivery.ABANDONED, sender.deliver("t-301", TaskResult.failure(ErrorKind.TIMEOUT, "x")));
        assertTrue(wm.findAll(postRequestedFor(urlEqualTo("/api/runners/tasks/t-301/result"))).size() >= 2, "retried");
        assertEquals(List.of("t-301"), journal.list());
    }

    @Test
    void shouldBackOffAndRegisterAgainWhenTheTokenIsRefusedLaterWhileTasksKeepRunning() throws Exception {
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).inScenario("p").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(okJson("[" + TASK.formatted("gate-7") + "]")).willSetStateTo("revoked"));
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).inScenario("p").whenScenarioStateIs("revoked")
                .willReturn(aResponse().withStatus(401)));
        daemon(1000, 60_000).start();
        await().atMost(Duration.ofSeconds(5)).until(() -> wm.findAll(postRequestedFor(urlEqualTo("/api/runners/register"))).size() >= 2);
        assertFalse(daemon.isTerminated(), "a refused token after start does not stop the runner");
        assertFalse(slept.isEmpty(), "backed off before polling again");
        executor.gate.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> !wm.findAll(postRequestedFor(urlEqualTo("/api/runners/tasks/gate-7/result"))).isEmpty());
        assertEquals("completed", body(wm.findAll(postRequestedFor(urlEqualTo("/api/runners/tasks/gate-7/result"))).get(0)).get("status").asText());
    }
}

package dev.aireview.runner.scheduler;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.aireview.runner.model.Json;
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

/**
 * The daemon against a misbehaving server (WireMock): a stalled body on any call, a 404 for the runner on a
 * result, a strict server refusing unknown fields. No call hangs the runner, and no claimed task is lost.
 */
class CallPolicyTest {
    static final String TASK = RunnerDaemonTest.TASK;
    static final String POLL = "/api/runners/tasks/pending";
    static final String HEARTBEAT = "/api/runners/srv-1/heartbeat";

    WireMockServer wm;
    final FakeExecutor executor = new FakeExecutor();
    RunnerDaemon daemon;

    @BeforeEach
    void setUp() {
        wm = SchedulerTest.startWireMock("srv-1");
        wm.stubFor(post(urlPathMatching("/api/runners/tasks/[^/]+/(status|logs)")).willReturn(okJson("{\"data\":{}}")));
    }

    @AfterEach
    void tearDown() throws Exception {
        executor.gate.countDown();
        if (daemon != null) {
            daemon.stopNow();
            assertTrue(daemon.awaitTermination(Duration.ofSeconds(30)), "daemon stops");
        }
        wm.stop();
    }

    /** Request timeout 500 ms, poll timeout 1 s (as {@link SchedulerTest#wireMockConfig}). */
    private RunnerDaemon daemon(Map<String, String> extra) {
        daemon = SchedulerTest.httpDaemon(SchedulerTest.wireMockConfig(wm.baseUrl(), "call-policy", 2, extra), executor,
                SchedulerTest.settings(), RunnerMetrics.NOOP);
        return daemon;
    }

    private List<LoggedRequest> results(String id) {
        return wm.findAll(postRequestedFor(urlEqualTo("/api/runners/tasks/" + id + "/result")));
    }

    /** Poll answers in order: each body once, then empty lists. */
    private void pollAnswers(com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder... answers) {
        String state = Scenario.STARTED;
        for (int i = 0; i < answers.length; i++) {
            String next = "poll-" + (i + 1);
            wm.stubFor(get(urlPathEqualTo(POLL)).inScenario("poll").whenScenarioStateIs(state).willReturn(answers[i]).willSetStateTo(next));
            state = next;
        }
        wm.stubFor(get(urlPathEqualTo(POLL)).inScenario("poll").whenScenarioStateIs(state).willReturn(okJson("{\"data\":[]}")));
    }

    @Test
    void shouldMoveOnWhenAPollAndAResultStallTheirBodiesAndKeepHeartbeating() throws Exception {
        pollAnswers(okJson("{\"data\":[" + TASK.formatted("ok-stall") + "]}").withChunkedDribbleDelay(30, 60_000),
                okJson("{\"data\":[" + TASK.formatted("ok-after") + "]}"));
        wm.stubFor(post("/api/runners/tasks/ok-after/result").inScenario("result").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(okJson("{\"data\":{}}").withChunkedDribbleDelay(30, 60_000)).willSetStateTo("fast"));
        wm.stubFor(post("/api/runners/tasks/ok-after/result").inScenario("result").whenScenarioStateIs("fast")
                .willReturn(okJson("{\"data\":{}}")));
        daemon(Map.of()).start();
        await().atMost(Duration.ofSeconds(30)).until(() -> results("ok-after").size() >= 2);
        assertEquals("completed", body(results("ok-after").get(1)).get("status").asText());
        await("the result is not sent again once taken").during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5))
                .until(() -> results("ok-after").size() == 2);
        assertTrue(wm.findAll(getRequestedFor(urlPathEqualTo(POLL))).size() >= 3, "polled again after the stalled poll");
        int beats = wm.findAll(postRequestedFor(urlEqualTo(HEARTBEAT))).size();
        await().atMost(Duration.ofSeconds(10)).until(() -> wm.findAll(postRequestedFor(urlEqualTo(HEARTBEAT))).size() > beats + 3);
    }

    @Test
    void shouldStopWithinItsBoundWhenTheFinalOfflineHeartbeatStalls() throws Exception {
        wm.stubFor(get(urlPathEqualTo(POLL)).willReturn(okJson("{\"data\":[]}")));
        wm.stubFor(post(urlEqualTo(HEARTBEAT)).withRequestBody(matchingJsonPath("$.status", equalTo("offline")))
                .willReturn(okJson("{\"data\":{}}").withChunkedDribbleDelay(30, 120_000)));
        daemon(Map.of()).start();
        await().atMost(Duration.ofSeconds(10)).until(() -> !wm.findAll(postRequestedFor(urlEqualTo(HEARTBEAT))).isEmpty());
        long t0 = System.nanoTime();
        daemon.stopGracefully();
        assertTrue(daemon.awaitTermination(Duration.ofSeconds(30)), "stops although the offline heartbeat never completes");
        assertTrue(Duration.ofNanos(System.nanoTime() - t0).toSeconds() < 30);
        assertTrue(executor.closed.get(), "the executor is closed after the offline heartbeat gave up");
        assertTrue(wm.findAll(postRequestedFor(urlEqualTo(HEARTBEAT))).stream()
                .anyMatch(r -> body(r).get("status").asText().equals("offline")));
    }

    @Test
    void shouldRegisterAgainAndDeliverAResultThatGot404ForTheRunner() throws Exception {
        pollAnswers(okJson("{\"data\":[" + TASK.formatted("ok-404") + "]}"));
        wm.stubFor(post("/api/runners/tasks/ok-404/result").inScenario("r").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(aResponse().withStatus(404).withBody("{\"error\":{\"title\":\"Not Found\",\"status\":404,"
                        + "\"detail\":\"unknown runner srv-1; register first\"}}")).willSetStateTo("known"));
        wm.stubFor(post("/api/runners/tasks/ok-404/result").inScenario("r").whenScenarioStateIs("known")
                .willReturn(okJson("{\"data\":{}}")));
        wm.stubFor(post("/api/runners/tasks/gone-1/result").willReturn(aResponse().withStatus(404)
                .withBody("{\"error\":{\"title\":\"Not Found\",\"status\":404,\"detail\":\"unknown task gone-1\"}}")));
        daemon(Map.of()).start();
        await().atMost(Duration.ofSeconds(15)).until(() -> results("ok-404").size() == 2);
        assertEquals(2, wm.findAll(postRequestedFor(urlEqualTo("/api/runners/register"))).size(), "registered again before the retry");
        LoggedRequest reRegister = wm.findAll(postRequestedFor(urlEqualTo("/api/runners/register"))).get(1);
        assertTrue(reRegister.getLoggedDate().getTime() <= results("ok-404").get(1).getLoggedDate().getTime());
    }

    @Test
    void shouldKeepItsTasksWithAStrictServerThatRefusesFieldsItDoesNotKnow() throws Exception {
        // heartbeat: only {"status"} passes; poll: maxTasks/waitMs are refused
        wm.stubFor(post(urlEqualTo(HEARTBEAT)).withRequestBody(matchingJsonPath("$.activeJobs"))
                .willReturn(aResponse().withStatus(400).withBody("{\"error\":{\"title\":\"Bad Request\",\"detail\":\"unknown field\"}}")));
        wm.stubFor(get(urlPathEqualTo(POLL)).withQueryParam("maxTasks", matching(".*"))
                .willReturn(aResponse().withStatus(400).withBody("{\"error\":{\"title\":\"Bad Request\",\"detail\":\"unknown parameter\"}}")));
        wm.stubFor(get(urlPathEqualTo(POLL)).withQueryParam("maxTasks", absent()).inScenario("p").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(okJson("{\"data\":[" + TASK.formatted("gate-strict") + "]}")).willSetStateTo("served"));
        wm.stubFor(get(urlPathEqualTo(POLL)).withQueryParam("maxTasks", absent()).inScenario("p").whenScenarioStateIs("served")
                .willReturn(okJson("{\"data\":[]}")));
        wm.stubFor(post("/api/runners/tasks/gate-strict/result").willReturn(okJson("{\"data\":{}}")));
        daemon(Map.of()).start();
        await().atMost(Duration.ofSeconds(10)).until(() -> executor.running.get() == 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> wm.findAll(postRequestedFor(urlEqualTo(HEARTBEAT))).stream()
                .filter(r -> body(r).equals(Json.mapper().createObjectNode().put("status", "online"))
                        || body(r).equals(Json.mapper().createObjectNode().put("status", "busy"))).count() >= 3);
        assertTrue(daemon.runningTaskIds().contains("gate-strict"), "the running task is kept");
        executor.gate.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> results("gate-strict").size() == 1);
        assertEquals("completed", body(results("gate-strict").get(0)).get("status").asText());
        long refusedBeats = wm.findAll(postRequestedFor(urlEqualTo(HEARTBEAT))).stream().filter(r -> body(r).has("activeJobs")).count();
        assertEquals(1, refusedBeats, "one refused full heartbeat, then the minimal form only");
    }

    @Test
    void shouldEndATaskWhoseResultIsTooLargeWithASmallFailedResult() {
        wm.stubFor(post("/api/runners/tasks/big-1/result").withRequestBody(matchingJsonPath("$.status", equalTo("completed")))
                .willReturn(aResponse().withStatus(413).withBody("{\"error\":{\"title\":\"Payload Too Large\",\"status\":413}}")));
        wm.stubFor(post("/api/runners/tasks/big-1/result").withRequestBody(matchingJsonPath("$.status", equalTo("failed")))
                .willReturn(okJson("{\"data\":{}}")));
        dev.aireview.runner.server.ServerClient client = new dev.aireview.runner.server.HttpServerClient(java.net.URI.create(wm.baseUrl()),
                SchedulerTest.TOKEN, Duration.ofSeconds(5), Duration.ofSeconds(5), java.time.Clock.systemUTC());
        RunnerRegistrar registrar = new RunnerRegistrar(client, new dev.aireview.runner.server.Registration("srv-1", "srv-1", "v", 1,
                List.of(), "h", "o", null, "img"));
        ResultSender sender = new ResultSender(client, registrar, dev.aireview.runner.server.Backoff.standard(new java.util.Random(1)),
                d -> { }, () -> true);
        dev.aireview.runner.model.TaskResult big = dev.aireview.runner.model.TaskResult.completed("s".repeat(5000),
                List.of(new dev.aireview.runner.model.ReviewComment("a.ts", 1, 1, dev.aireview.runner.model.Severity.INFO, "m", null)),
                new dev.aireview.runner.model.TaskStats(10L, 1L, 0, 1));
        assertEquals(ResultSender.Delivery.DELIVERED, sender.deliver("big-1", big));
        List<LoggedRequest> sent = results("big-1");
        assertEquals(2, sent.size());
        JsonNode small = body(sent.get(1));
        assertEquals("failed", small.get("status").asText());
        assertEquals("executor_failed", small.get("error").get("kind").asText());
        assertTrue(small.get("error").get("message").asText().contains("413"), small.toString());
        assertFalse(small.has("summary") && small.get("summary").asText().length() > 100, "without the oversized part");
    }

    @Test
    void shouldServeConcurrentReRegisterRequestsWithOneRegistration() throws Exception {
        // the first registration is held 3 s (the second caller arrives meanwhile); the later one is answered at once
        wm.stubFor(post("/api/runners/register").inScenario("register").whenScenarioStateIs(com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED)
                .willReturn(okJson("{\"data\":{\"id\":\"srv-1\"}}").withFixedDelay(3000)).willSetStateTo("held once"));
        wm.stubFor(post("/api/runners/register").inScenario("register").whenScenarioStateIs("held once")
                .willReturn(okJson("{\"data\":{\"id\":\"srv-1\"}}")));
        dev.aireview.runner.server.ServerClient client = new dev.aireview.runner.server.HttpServerClient(java.net.URI.create(wm.baseUrl()),
                SchedulerTest.TOKEN, Duration.ofSeconds(20), Duration.ofSeconds(20), java.time.Clock.systemUTC());
        RunnerRegistrar registrar = new RunnerRegistrar(client, new dev.aireview.runner.server.Registration("srv-1", "srv-1", "v", 1,
                List.of(), "h", "o", null, "img"));
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            java.util.concurrent.Future<Boolean> first = pool.submit(() -> registrar.reRegister("heartbeat answered HTTP 404"));
            await().atMost(Duration.ofSeconds(10)).until(() -> wm.findAll(postRequestedFor(urlEqualTo("/api/runners/register"))).size() == 1);
            java.util.concurrent.Future<Boolean> second = pool.submit(() -> registrar.reRegister("poll answered HTTP 404"));
            assertTrue(first.get(30, java.util.concurrent.TimeUnit.SECONDS));
            assertTrue(second.get(30, java.util.concurrent.TimeUnit.SECONDS));
            assertEquals(1, wm.findAll(postRequestedFor(urlEqualTo("/api/runners/register"))).size(),
                    "the registration that finished while the second caller waited served it too");
            assertTrue(registrar.reRegister("a later 404"), "a later request registers again");
            assertEquals(2, wm.findAll(postRequestedFor(urlEqualTo("/api/runners/register"))).size());
        } finally {
            pool.shutdownNow();
        }
    }
}

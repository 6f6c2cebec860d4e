package dev.aireview.runner.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.LogStream;
import dev.aireview.runner.model.ReviewComment;
import dev.aireview.runner.model.Severity;
import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.model.TaskStats;
import dev.aireview.runner.observability.RunnerVersion;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.ServerSocket;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;

import static com.github.tomakehurst.wiremock.client.WireMock.*;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.junit.jupiter.api.Assertions.*;
import static dev.aireview.runner.testsupport.Requests.body;

class HttpServerClientTest {
    static final String TOKEN = "runner-token-abc123";
    static final String TASK = """
            {"id":"t1","repository":{"url":"https://git.example/a/b.git","cloneToken":"ghs_x"},"headSha":"0123456789abcdef0123456789abcdef01234567"}""";

    /** A fresh WireMock server for every test (an instance extension: started before, stopped after each). */
    @RegisterExtension
    final WireMockExtension wm = WireMockExtension.newInstance().options(options().dynamicPort()).build();
    HttpServerClient client;
    final Clock clock = Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC);

    @BeforeEach
    void setUp() {
        client = new HttpServerClient(URI.create(wm.baseUrl() + "/"), TOKEN, Duration.ofSeconds(2), Duration.ofSeconds(3), clock);
    }


    private LoggedRequest only(String method, String url) {
        List<LoggedRequest> reqs = wm.findAll(com.github.tomakehurst.wiremock.matching.RequestPatternBuilder
                .newRequestPattern(com.github.tomakehurst.wiremock.http.RequestMethod.fromString(method), urlPathEqualTo(url)));
        assertEquals(1, reqs.size(), method + " " + url);
        return reqs.get(0);
    }

    @Test
    void shouldCallHealthWithoutAuthAndWithUserAgent() throws Exception {
        wm.stubFor(get("/api/health").willReturn(okJson("{\"data\":{\"status\":\"ok\"}}")));
        client.health();
        LoggedRequest r = only("GET", "/api/health");
        assertEquals("ai-review-runner/" + RunnerVersion.get(), r.getHeader("User-Agent"));
        assertFalse(r.containsHeader("Authorization"));
    }

    @Test
    void shouldRegisterWithRunnerHeadersAndBodyAndUseDataId() throws Exception {
        wm.stubFor(post("/api/runners/register").willReturn(okJson("{\"data\":{\"id\":\"srv-42\",\"extra\":1},\"meta\":{}}")));
        Registration reg = new Registration("runner-1", "runner-1", "1.2.3", 3, List.of("gpu", "linux"), "host-a", "Linux",
                new Registration.DockerInfo("26.1", "1.45"), "img:1");
        assertEquals("srv-42", client.register(reg));
        LoggedRequest r = only("POST", "/api/runners/register");
        assertEquals("Bearer " + TOKEN, r.getHeader("Authorization"));
        assertEquals("runner-1", r.getHeader("x-runner-id"));
        assertEquals("runner-1", r.getHeader("x-runner-name"));
        assertEquals("1.2.3", r.getHeader("x-runner-version"));
        assertEquals("3", r.getHeader("x-runner-max-concurrency"));
        assertEquals("gpu,linux", r.getHeader("x-runner-tags"));
        assertTrue(r.getHeader("Content-Type").startsWith("application/json"));
        JsonNode b = body(r);
        assertEquals("runner-1", b.get("name").asText());
        assertEquals("1.2.3", b.get("version").asText());
        assertEquals(3, b.get("maxConcurrentJobs").asInt());
        assertEquals("gpu", b.get("tags").get(0).asText());
        assertEquals("host-a", b.get("hostname").asText());
        assertEquals("Linux", b.get("os").asText());
        assertEquals("1.45", b.get("docker").get("apiVersion").asText());
        assertEquals("img:1", b.get("executorImage").asText());
    }

    @Test
    void shouldReadBareRegisterAnswerAndFallBackToRunnerIdOnEmptyAnswer() throws Exception {
        Registration reg = new Registration("runner-1", "runner-1", "v", 1, List.of(), "h", "o", null, "i");
        wm.stubFor(post("/api/runners/register").willReturn(okJson("{\"id\":\"bare-7\"}")));
        assertEquals("bare-7", client.register(reg));
        wm.stubFor(post("/api/runners/register").willReturn(aResponse().withStatus(204)));
        assertEquals("runner-1", client.register(reg));
    }

    @Test
    void shouldSendHeartbeatAndReadCancelIdsFromEnvelopeOrBareBody() throws Exception {
        wm.stubFor(post("/api/runners/r%201/heartbeat").willReturn(okJson("{\"data\":{\"cancelTaskIds\":[\"t1\",\"t2\"]}}")));
        HeartbeatAnswer a = client.heartbeat("r 1", new Heartbeat(RunnerStatus.BUSY, 2, 2, List.of("t1", "t2")));
        assertEquals(List.of("t1", "t2"), a.cancelTaskIds());
        JsonNode b = body(wm.findAll(postRequestedFor(urlEqualTo("/api/runners/r%201/heartbeat"))).get(0));
        assertEquals("busy", b.get("status").asText());
        assertEquals(2, b.get("activeJobs").asInt());
        assertEquals(2, b.get("maxConcurrentJobs").asInt());
        assertEquals("t2", b.get("runningTaskIds").get(1).asText());

        wm.stubFor(post("/api/runners/r1/heartbeat").willReturn(okJson("{\"cancel_task_ids\":[{\"id\":\"t9\"}]}")));
        assertEquals(List.of("t9"), client.heartbeat("r1", new Heartbeat(RunnerStatus.ONLINE, 0, 2, List.of())).cancelTaskIds());
        wm.stubFor(post("/api/runners/r1/heartbeat").willReturn(aResponse().withStatus(204)));
        assertEquals(List.of(), client.heartbeat("r1", new Heartbeat(RunnerStatus.ONLINE, 0, 2, List.of())).cancelTaskIds());
    }

    @Test
    void shouldPollWithQueryAndReturnParsedAndBadTasksWithClaimTime() throws Exception {
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).willReturn(okJson("{\"data\":[" + TASK
                + ",{\"taskId\":\"t2\",\"repository\":{}},{\"noId\":true}]}")));
        List<ClaimedTask> tasks = client.poll("runner-1", 2, Duration.ofMillis(2500));
        assertEquals(2, tasks.size());
        assertEquals("t1", tasks.get(0).id());
        assertFalse(tasks.get(0).isBad());
        assertEquals("ghs_x", tasks.get(0).task().repository().cloneToken());
        assertEquals(clock.instant(), tasks.get(0).claimedAt());
        assertEquals("t2", tasks.get(1).id());
        assertTrue(tasks.get(1).isBad());
        assertTrue(tasks.get(1).parseError().contains("repository.url"), tasks.get(1).parseError());
        LoggedRequest r = only("GET", "/api/runners/tasks/pending");
        assertEquals("runner-1", r.queryParameter("runnerId").firstValue());
        assertEquals("2", r.queryParameter("maxTasks").firstValue());
        assertEquals("2", r.queryParameter("limit").firstValue(), "the upstream server's name for the same size");
        assertEquals("2500", r.queryParameter("waitMs").firstValue());
        assertEquals("Bearer " + TOKEN, r.getHeader("Authorization"));
        assertTrue(r.getHeader("User-Agent").startsWith("ai-review-runner/"));
    }

    @Test
    void shouldReadBarePollListAndTreat204AsEmpty() throws Exception {
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).willReturn(okJson("[" + TASK + "]")));
        assertEquals(List.of("t1"), client.poll("r", 1, Duration.ofMillis(100)).stream().map(ClaimedTask::id).toList());
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).willReturn(aResponse().withStatus(204)));
        assertEquals(List.of(), client.poll("r", 1, Duration.ofMillis(100)));
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).willReturn(okJson("{\"data\":{\"tasks\":[" + TASK + "]}}")));
        assertEquals(1, client.poll("r", 1, Duration.ofMillis(100)).size());
    }

    @Test
    void shouldPostStatusLogsAndResultBodies() throws Exception {
        wm.stubFor(post(urlMatching("/api/runners/tasks/t1/.*")).willReturn(okJson("{\"data\":{}}")));
        client.status("runner-1", "t1", TaskPhase.CLONING, "cloning repo");
        JsonNode s = body(only("POST", "/api/runners/tasks/t1/status"));
        assertEquals("runner-1", s.get("runnerId").asText());
        assertEquals("cloning", s.get("status").asText());
        assertEquals("cloning repo", s.get("message").asText());
        assertEquals("2026-01-02T03:04:05Z", s.get("at").asText());

        client.logs("runner-1", "t1", 10, List.of(new LogLine(clock.instant(), LogStream.STDERR, "oops")));
        JsonNode l = body(only("POST", "/api/runners/tasks/t1/logs"));
        assertEquals(10, l.get("offset").asLong());
        assertEquals("runner-1", l.get("runnerId").asText());
        assertEquals("stderr", l.get("lines").get(0).get("stream").asText());
        assertEquals("oops", l.get("lines").get(0).get("text").asText());
        assertEquals("2026-01-02T03:04:05Z", l.get("lines").get(0).get("ts").asText());

        client.result("runner-1", "t1", TaskResult.completed("fine",
                List.of(new ReviewComment("a.ts", 4, 5, Severity.WARNING, "hmm", "fix")), new TaskStats(12L, 3L, 0, 2)));
        JsonNode r = body(only("POST", "/api/runners/tasks/t1/result"));
        assertEquals("runner-1", r.get("runnerId").asText());
        assertEquals("completed", r.get("status").asText());
        assertEquals("fine", r.get("summary").asText());
        assertFalse(r.has("error"));
        assertEquals("warning", r.get("comments").get(0).get("severity").asText());
        assertEquals(5, r.get("comments").get(0).get("endLine").asInt());
        assertEquals(12, r.get("stats").get("durationMs").asLong());
        assertEquals(3, r.get("stats").get("queueToStartMs").asLong());
        assertEquals(2, r.get("stats").get("filesReviewed").asInt());

        wm.stubFor(post("/api/runners/tasks/t2/result").willReturn(okJson("{}")));
        client.result("runner-1", "t2", TaskResult.failure(ErrorKind.BAD_TASK, "no url"));
        JsonNode f = body(only("POST", "/api/runners/tasks/t2/result"));
        assertEquals("failed", f.get("status").asText());
        assertEquals("bad_task", f.get("error").get("kind").asText());
        assertEquals("no url", f.get("error").get("message").asText());
    }

    private ServerException failure(ThrowingCall c) {
        return assertThrows(ServerException.class, c::run);
    }

    interface ThrowingCall {
        void run() throws Exception;
    }

    @Test
    void shouldClassifyErrorAnswers() {
        wm.stubFor(post("/api/runners/register").willReturn(aResponse().withStatus(401)
                .withBody("{\"error\":{\"title\":\"Unauthorized\",\"status\":401,\"detail\":\"bad token\"}}")));
        Registration reg = new Registration("r", "r", "v", 1, List.of(), "h", "o", null, "i");
        ServerException e = failure(() -> client.register(reg));
        assertEquals(ErrorClass.UNAUTHORIZED, e.errorClass());
        assertEquals(401, e.httpStatus());
        assertTrue(e.getMessage().contains("Unauthorized - bad token"), e.getMessage());
        assertFalse(e.getMessage().contains(TOKEN));

        wm.stubFor(post("/api/runners/r/heartbeat").willReturn(aResponse().withStatus(404)));
        assertEquals(ErrorClass.REREGISTER, failure(() -> client.heartbeat("r", new Heartbeat(RunnerStatus.ONLINE, 0, 1, List.of()))).errorClass());
        wm.stubFor(post("/api/runners/tasks/t/status").willReturn(aResponse().withStatus(409)));
        assertEquals(ErrorClass.TASK_GONE, failure(() -> client.status("r", "t", TaskPhase.CLONING, null)).errorClass());
        wm.stubFor(post("/api/runners/tasks/t/logs").willReturn(aResponse().withStatus(410)));
        assertEquals(ErrorClass.TASK_GONE, failure(() -> client.logs("r", "t", 0, List.of())).errorClass());
        wm.stubFor(post("/api/runners/tasks/t/result").willReturn(aResponse().withStatus(404)));
        assertEquals(ErrorClass.TASK_GONE, failure(() -> client.result("r", "t", TaskResult.failure(ErrorKind.TIMEOUT, "x"))).errorClass());
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).willReturn(aResponse().withStatus(429).withHeader("Retry-After", "7")));
        ServerException limited = failure(() -> client.poll("r", 1, Duration.ZERO));
        assertEquals(ErrorClass.RETRYABLE, limited.errorClass());
        assertEquals(Duration.ofSeconds(7), limited.retryAfter().orElseThrow());
        wm.stubFor(get("/api/health").willReturn(aResponse().withStatus(503)));
        assertEquals(ErrorClass.RETRYABLE, failure(() -> client.health()).errorClass());
        wm.stubFor(post("/api/runners/tasks/t/status").willReturn(aResponse().withStatus(400)));
        assertEquals(ErrorClass.BAD_REQUEST, failure(() -> client.status("r", "t", TaskPhase.CLONING, null)).errorClass());
    }

    @Test
    void shouldClassifyConnectErrorsAndTimeoutsAsRetryable() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        HttpServerClient dead = new HttpServerClient(URI.create("http://127.0.0.1:" + port), TOKEN, Duration.ofSeconds(2), Duration.ofSeconds(2), clock);
        ServerException e = failure(dead::health);
        assertEquals(ErrorClass.RETRYABLE, e.errorClass());
        assertEquals(0, e.httpStatus());

        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).willReturn(okJson("[]").withFixedDelay(1500)));
        HttpServerClient impatient = new HttpServerClient(URI.create(wm.baseUrl()), TOKEN, Duration.ofMillis(300), Duration.ofMillis(300), clock);
        ServerException t = failure(() -> impatient.poll("r", 1, Duration.ZERO));
        assertEquals(ErrorClass.RETRYABLE, t.errorClass());
        assertTrue(t.getMessage().contains("timed out"), t.getMessage());
    }

    @Test
    void shouldReportAnUnreadableAnswerAsRetryableNamingTheCallByShapeNotContent() {
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).willReturn(aResponse().withStatus(200)
                .withBody("<html>proxy error, session=s3cr3t</html>")));
        ServerException e = failure(() -> client.poll("r", 1, Duration.ZERO));
        assertEquals(ErrorClass.RETRYABLE, e.errorClass(), "a proxy page claimed nothing: poll again");
        assertEquals(ServerCall.POLL, e.call());
        assertTrue(e.getMessage().contains("HTML"), e.getMessage());
        assertFalse(e.getMessage().contains("s3cr3t"), "never the body's content: " + e.getMessage());

        wm.stubFor(post("/api/runners/r/heartbeat").willReturn(okJson("{\"data\": {\"cancelTaskIds\": [")));
        ServerException hb = failure(() -> client.heartbeat("r", new Heartbeat(RunnerStatus.ONLINE, 0, 1, List.of())));
        assertEquals(ErrorClass.RETRYABLE, hb.errorClass());
        assertTrue(hb.getMessage().contains("ends early"), hb.getMessage());

        wm.stubFor(post("/api/runners/tasks/t/status").willReturn(aResponse().withStatus(502)
                .withBody("<html><body>upstream said Authorization: Bearer " + TOKEN + "</body></html>")));
        ServerException bad = failure(() -> client.status("r", "t", TaskPhase.CLONING, null));
        assertTrue(bad.getMessage().contains("status answered HTTP 502") && bad.getMessage().contains("HTML"), bad.getMessage());
        assertFalse(bad.getMessage().contains(TOKEN), "never the body's content: " + bad.getMessage());
    }
}

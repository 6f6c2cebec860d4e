package dev.aireview.runner.server;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.LogStream;
import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static com.github.tomakehurst.wiremock.client.WireMock.*;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.junit.jupiter.api.Assertions.*;

/** Whole-call deadlines (connect + headers + body) and body caps of {@link HttpServerClient}, against real sockets. */
class CallDeadlineTest {
    static final String TOKEN = "tok-deadline-123";
    static final Duration REQUEST = Duration.ofMillis(700);
    static final Duration POLL = Duration.ofMillis(1200);
    /** Slack for a loaded 2-core machine: the point is "returns", not "returns exactly at the deadline". */
    static final Duration SLACK = Duration.ofSeconds(8);

    /** A fresh WireMock server for every test (an instance extension: started before, stopped after each). */
    @RegisterExtension
    final WireMockExtension wm = WireMockExtension.newInstance().options(options().dynamicPort()).build();

    /**
     * One request before the timed ones: a fresh WireMock's first answer pays its start-up (threads, class loading),
     * which on a loaded 2-core machine came later than the poll's header deadline these tests are not about.
     */
    @org.junit.jupiter.api.BeforeEach
    void warmUpServer() throws Exception {
        PollLivenessTest.warmUp(wm);
    }



    private interface Call {
        void run() throws Exception;
    }

    private static ServerException timesOut(String what, Duration deadline, Call call) {
        long t0 = System.nanoTime();
        ServerException e = assertThrows(ServerException.class, call::run, what);
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertEquals(ErrorClass.RETRYABLE, e.errorClass(), what + ": " + e.getMessage());
        assertTrue(e.getMessage().contains("timed out"), what + ": " + e.getMessage());
        assertTrue(took.compareTo(deadline.plus(SLACK)) < 0, what + " returned after " + took.toMillis() + " ms");
        assertTrue(took.compareTo(deadline.minusMillis(100)) >= 0, what + " waited its deadline, took " + took.toMillis() + " ms");
        return e;
    }

    @Test
    void shouldEndEveryCallKindAtItsDeadlineWhenTheServerSendsHeadersThenStallsTheBody() throws Exception {
        try (StallingServer stall = new StallingServer()) {
            HttpServerClient client = new HttpServerClient(URI.create(stall.baseUrl()), TOKEN, REQUEST, POLL, Clock.systemUTC());
            Registration reg = new Registration("r", "r", "v", 1, List.of(), "h", "o", null, "i");
            Map<String, Call> calls = new LinkedHashMap<>();
            calls.put("health", client::health);
            calls.put("register", () -> client.register(reg));
            calls.put("heartbeat", () -> client.heartbeat("r", new Heartbeat(RunnerStatus.ONLINE, 0, 1, List.of())));
            calls.put("final offline heartbeat", () -> client.heartbeat("r", new Heartbeat(RunnerStatus.OFFLINE, 0, 1, List.of())));
            calls.put("status", () -> client.status("r", "t1", TaskPhase.CLONING, null));
            calls.put("logs", () -> client.logs("r", "t1", 0, List.of(new LogLine(Instant.now(), LogStream.STDOUT, "x"))));
            calls.put("result", () -> client.result("r", "t1", TaskResult.failure(ErrorKind.TIMEOUT, "x")));
            for (Map.Entry<String, Call> c : calls.entrySet()) {
                timesOut(c.getKey(), REQUEST, c.getValue());
            }
            // the poll's headers came in time: its body is read while it keeps arriving, ended after REQUEST without a byte
            ServerException poll = timesOut("poll", REQUEST, () -> client.poll("r", 1, Duration.ofMillis(100)));
            assertEquals(ServerCall.POLL, poll.call());
            assertEquals(calls.size() + 1, stall.requests(), "every call reached the server and got its headers");
            org.awaitility.Awaitility.await("each cancelled exchange closed its connection, none is left hanging")
                    .atMost(Duration.ofSeconds(20)).until(() -> stall.closedByClient() == calls.size() + 1);
        }
    }

    @Test
    void shouldEndAHeartbeatWhoseBodyDribblesPastTheDeadline() {
        wm.stubFor(post("/api/runners/r/heartbeat").willReturn(okJson("{\"data\":{\"cancelTaskIds\":[\"a\",\"b\",\"c\"]}}")
                .withChunkedDribbleDelay(20, 20_000)));
        HttpServerClient client = new HttpServerClient(URI.create(wm.baseUrl()), TOKEN, REQUEST, POLL, Clock.systemUTC());
        timesOut("dribbled heartbeat", REQUEST, () -> client.heartbeat("r", new Heartbeat(RunnerStatus.ONLINE, 0, 1, List.of())));
    }

    @Test
    void shouldEndAStreamedPollAnswerThatNeverFinishesAtItsWholeCallBoundAndReportTheTaskItWasReading() throws Exception {
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).willReturn(okJson("{\"data\":[{\"id\":\"t1\",\"pad\":\""
                + "p".repeat(4000) + "\"}]}").withChunkedDribbleDelay(400, 40_000)));
        HttpServerClient client = new HttpServerClient(URI.create(wm.baseUrl()), TOKEN, REQUEST, POLL, Clock.systemUTC());
        Duration bound = POLL.plus(REQUEST.multipliedBy(PollBodyDeadline.MAX_BODY_IDLES));
        long t0 = System.nanoTime();
        List<ClaimedTask> tasks = client.poll("r", 1, Duration.ZERO);
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertEquals(1, tasks.size(), "the task whose id arrived is claimed: " + tasks);
        assertTrue(tasks.get(0).isBad() && tasks.get(0).id().equals("t1"), "and ends bad_task by its id: " + tasks);
        assertTrue(tasks.get(0).parseError().contains("the answer"), tasks.get(0).parseError());
        assertTrue(took.compareTo(bound.plus(SLACK)) < 0, "returned after " + took.toMillis() + " ms");
    }

    @Test
    void shouldTreatABodyOverTheCapAsRetryableButIgnoreItWhereTheAnswerIsNotRead() throws Exception {
        String big = "{\"data\":{\"pad\":\"" + "x".repeat(ServerCall.HEARTBEAT.maxBodyBytes() + 10) + "\"}}";
        wm.stubFor(post("/api/runners/r/heartbeat").willReturn(okJson(big)));
        wm.stubFor(post("/api/runners/tasks/t1/status").willReturn(okJson(big)));
        HttpServerClient client = new HttpServerClient(URI.create(wm.baseUrl()), TOKEN, Duration.ofSeconds(10), POLL, Clock.systemUTC());
        ServerException e = assertThrows(ServerException.class,
                () -> client.heartbeat("r", new Heartbeat(RunnerStatus.ONLINE, 0, 1, List.of())));
        assertEquals(ErrorClass.RETRYABLE, e.errorClass());
        assertTrue(e.getMessage().contains("larger than 1 MiB"), e.getMessage());
        assertFalse(e.getMessage().contains("xxxx"), "the body is described, not shown: " + e.getMessage());
        client.status("r", "t1", TaskPhase.CLONING, null); // a 2xx whose body is never read: done
    }
}

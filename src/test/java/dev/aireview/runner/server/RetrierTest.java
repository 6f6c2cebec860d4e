package dev.aireview.runner.server;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static com.github.tomakehurst.wiremock.client.WireMock.*;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.junit.jupiter.api.Assertions.*;

class RetrierTest {
    /** A fresh WireMock server for every test (an instance extension: started before, stopped after each). */
    @RegisterExtension
    final WireMockExtension wm = WireMockExtension.newInstance().options(options().dynamicPort()).build();
    HttpServerClient client;
    final List<Duration> slept = new ArrayList<>();
    final Sleeper recorder = slept::add;

    @BeforeEach
    void setUp() {
        client = new HttpServerClient(URI.create(wm.baseUrl()), "tok-123456", Duration.ofSeconds(2), Duration.ofSeconds(2), Clock.systemUTC());
    }


    private void failThenSucceed(int failures, com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder failure) {
        String state = Scenario.STARTED;
        for (int i = 0; i < failures; i++) {
            String next = "after-" + (i + 1);
            wm.stubFor(get("/api/health").inScenario("storm").whenScenarioStateIs(state).willReturn(failure).willSetStateTo(next));
            state = next;
        }
        wm.stubFor(get("/api/health").inScenario("storm").whenScenarioStateIs(state).willReturn(okJson("{\"data\":{\"status\":\"ok\"}}")));
    }

    @Test
    void shouldHonourRetryAfterOn429() throws Exception {
        failThenSucceed(2, aResponse().withStatus(429).withHeader("Retry-After", "7"));
        Retrier retrier = new Retrier(Backoff.standard(new Random(1)), recorder);
        retrier.run(Retrier.policy("health").keepGoing(() -> true), () -> {
            client.health();
            return null;
        }).orThrow();
        assertEquals(List.of(Duration.ofSeconds(7), Duration.ofSeconds(7)), slept);
        wm.verify(3, getRequestedFor(urlEqualTo("/api/health")));
    }

    @Test
    void shouldRetryA5xxStormWithGrowingJitteredDelaysThenSucceed() throws Exception {
        failThenSucceed(6, aResponse().withStatus(503));
        Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(2), 2.0, new Random(42));
        new Retrier(backoff, recorder).run(Retrier.policy("health").keepGoing(() -> true), () -> {
            client.health();
            return null;
        }).orThrow();
        wm.verify(7, getRequestedFor(urlEqualTo("/api/health")));
        assertEquals(6, slept.size());
        // each delay is a full-jitter draw under its cap, and the caps grow (then stop at the maximum)
        Random same = new Random(42);
        List<Long> caps = List.of(100L, 200L, 400L, 800L, 1600L, 2000L);
        for (int i = 0; i < 6; i++) {
            long expected = (long) (same.nextDouble() * caps.get(i));
            assertEquals(expected, slept.get(i).toMillis(), "delay " + i + " of " + slept);
            assertTrue(slept.get(i).toMillis() <= caps.get(i));
        }
        assertTrue(slept.stream().distinct().count() > 1, "jittered: " + slept);
        // with the jitter pinned to 90% the delays grow strictly up to the cap
        Random pinned = new Random() {
            @Override
            public double nextDouble() {
                return 0.9;
            }
        };
        Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(2), 2.0, pinned);
        List<Long> grown = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            grown.add(b.delay(i).toMillis());
        }
        assertEquals(List.of(90L, 180L, 360L, 720L, 1440L), grown);
        assertEquals(1800L, b.delay(30).toMillis());
    }

    @Test
    void shouldNotRetryUnauthorizedOrBadRequestAndStopWhenToldTo() {
        wm.stubFor(get("/api/health").willReturn(aResponse().withStatus(401)));
        Retrier retrier = new Retrier(Backoff.standard(new Random(1)), recorder);
        ServerException e = assertThrows(ServerException.class, () -> retrier.run(Retrier.policy("health").keepGoing(() -> true), () -> {
            client.health();
            return null;
        }).orThrow());
        assertEquals(ErrorClass.UNAUTHORIZED, e.errorClass());
        assertTrue(slept.isEmpty());

        wm.stubFor(get("/api/health").willReturn(aResponse().withStatus(500)));
        int[] allowed = {3};
        ServerException last = assertThrows(ServerException.class, () -> retrier.run(Retrier.policy("health").keepGoing(() -> allowed[0]-- > 0), () -> {
            client.health();
            return null;
        }).orThrow());
        assertEquals(500, last.httpStatus());
        assertEquals(3, slept.size());
    }

    @Test
    void shouldParseRetryAfterSecondsAndHttpDatesAndCapThem() {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");
        assertEquals(Duration.ofSeconds(3), RetryClassifier.parseRetryAfter("3", now));
        assertEquals(Duration.ofSeconds(30), RetryClassifier.parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now));
        assertEquals(Duration.ZERO, RetryClassifier.parseRetryAfter("Wed, 31 Dec 2025 23:00:00 GMT", now));
        assertEquals(RetryClassifier.MAX_RETRY_AFTER, RetryClassifier.parseRetryAfter("999999", now));
        assertNull(RetryClassifier.parseRetryAfter("soon", now));
        assertNull(RetryClassifier.parseRetryAfter(null, now));
    }

    @Test
    void shouldClassifyStatusesInOnePlace() {
        assertEquals(ErrorClass.UNAUTHORIZED, RetryClassifier.classify(ServerCall.REGISTER, 401));
        assertEquals(ErrorClass.UNAUTHORIZED, RetryClassifier.classify(ServerCall.RESULT, 403));
        assertEquals(ErrorClass.REREGISTER, RetryClassifier.classify(ServerCall.HEARTBEAT, 404));
        assertEquals(ErrorClass.REREGISTER, RetryClassifier.classify(ServerCall.POLL, 404));
        assertEquals(ErrorClass.TASK_GONE, RetryClassifier.classify(ServerCall.STATUS, 404));
        assertEquals(ErrorClass.TASK_GONE, RetryClassifier.classify(ServerCall.STATUS, 409));
        assertEquals(ErrorClass.TASK_GONE, RetryClassifier.classify(ServerCall.RESULT, 410));
        assertEquals(ErrorClass.RETRYABLE, RetryClassifier.classify(ServerCall.POLL, 429));
        assertEquals(ErrorClass.RETRYABLE, RetryClassifier.classify(ServerCall.POLL, 502));
        assertEquals(ErrorClass.RETRYABLE, RetryClassifier.classify(ServerCall.LOGS, 408));
        assertEquals(ErrorClass.BAD_REQUEST, RetryClassifier.classify(ServerCall.RESULT, 400));
        assertEquals(ErrorClass.BAD_REQUEST, RetryClassifier.classify(ServerCall.RESULT, 422));
        for (int redirect : new int[]{301, 302, 303, 307, 308}) {
            assertEquals(ErrorClass.RETRYABLE, RetryClassifier.classify(ServerCall.RESULT, redirect), "HTTP " + redirect);
            assertEquals(ErrorClass.RETRYABLE, RetryClassifier.classify(ServerCall.STATUS, redirect), "HTTP " + redirect);
        }
        assertEquals(ErrorClass.RETRYABLE, RetryClassifier.classify(ServerCall.RESULT, 199), "an unexpected 1xx");
    }

    @Test
    void shouldRetryARedirectedResultCallAndNameItsTargetUntilTheServerTakesIt() throws Exception {
        String path = "/api/runners/tasks/t-307/result";
        wm.stubFor(post(path).inScenario("maint").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(aResponse().withStatus(307).withHeader("Location", "https://maintenance.example/down"))
                .willSetStateTo("still"));
        wm.stubFor(post(path).inScenario("maint").whenScenarioStateIs("still")
                .willReturn(aResponse().withStatus(302)).willSetStateTo("back"));
        wm.stubFor(post(path).inScenario("maint").whenScenarioStateIs("back").willReturn(okJson("{\"data\":{}}")));
        List<String> errors = new ArrayList<>();
        Retrier retrier = new Retrier(Backoff.standard(new Random(1)), recorder);
        Retrier.Outcome<Void> out = retrier.run(Retrier.policy("result").keepGoing(() -> true).onRetry(e -> errors.add(e.getMessage())), () -> {
            client.result("r-1", "t-307", dev.aireview.runner.model.TaskResult.failure(dev.aireview.runner.model.ErrorKind.TIMEOUT, "x"));
            return null;
        });
        assertTrue(out.ok(), "delivered after the redirects");
        wm.verify(3, postRequestedFor(urlEqualTo(path)));
        assertEquals(2, slept.size(), "backed off after each redirect");
        assertEquals(2, errors.size(), errors::toString);
        assertTrue(errors.get(0).contains("HTTP 307") && errors.get(0).contains("https://maintenance.example/down"), errors.get(0));
        assertTrue(errors.get(1).contains("HTTP 302") && errors.get(1).contains("no Location"), errors.get(1));
    }

    private static ServerException failure(ErrorClass c, int status) {
        return new ServerException(ServerCall.RESULT, c, status, null, "result answered HTTP " + status, null);
    }

    @Test
    void shouldStopAfterMaxAttemptsAndOnATerminalFailureAtOnce() throws Exception {
        Retrier retrier = new Retrier(Backoff.standard(new Random(1)), recorder);
        int[] calls = {0};
        Retrier.Outcome<String> out = retrier.run(Retrier.policy("logs").maxAttempts(4), () -> {
            calls[0]++;
            throw failure(ErrorClass.RETRYABLE, 503);
        });
        assertEquals(Retrier.Stop.ATTEMPTS, out.stop());
        assertEquals(4, calls[0]);
        assertEquals(4, out.failures());
        assertEquals(3, slept.size(), "a wait between attempts, none after the last");

        calls[0] = 0;
        slept.clear();
        Retrier.Outcome<String> gone = retrier.run(Retrier.policy("result").retry(ErrorClass.RETRYABLE, ErrorClass.TASK_GONE)
                .giveUpWhen(e -> e.httpStatus() == 410), () -> {
            calls[0]++;
            throw failure(ErrorClass.TASK_GONE, 410);
        });
        assertEquals(Retrier.Stop.TERMINAL, gone.stop());
        assertEquals(410, gone.failure().httpStatus());
        assertEquals(1, calls[0]);
        assertTrue(slept.isEmpty());
        assertThrows(ServerException.class, gone::orThrow);
    }

    @Test
    void shouldNotStartAnAttemptPastTheOverallDeadline() throws Exception {
        long[] now = {0};
        Sleeper advancing = d -> {
            slept.add(d);
            now[0] += d.toNanos();
        };
        Random pinned = new Random() {
            @Override
            public double nextDouble() {
                return 0.99;
            }
        };
        Retrier retrier = new Retrier(new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(8), 2.0, pinned), advancing, () -> now[0]);
        int[] calls = {0};
        Retrier.Outcome<Void> out = retrier.run(Retrier.policy("status").deadline(Duration.ofSeconds(10)), () -> {
            calls[0]++;
            now[0] += Duration.ofMillis(500).toNanos(); // each attempt takes 0.5 s
            throw failure(ErrorClass.RETRYABLE, 502);
        });
        assertEquals(Retrier.Stop.DEADLINE, out.stop());
        // attempts end at 0.5, 1.99, 4.47 and 8.93 s (waits 0.99, 1.98, 3.96 s); the next wait (7.92 s) would pass 10 s
        assertEquals(4, calls[0], "slept " + slept);
        assertEquals(3, slept.size());
        assertTrue(now[0] <= Duration.ofSeconds(10).toNanos());
    }

    @Test
    void shouldRecoverAndRetryAtOnceOnceThenBackOffAndHonourStop() throws Exception {
        Retrier retrier = new Retrier(Backoff.standard(new Random(1)), recorder);
        int[] recovered = {0};
        int[] calls = {0};
        Retrier.Outcome<String> out = retrier.run(Retrier.policy("result")
                .recover(ErrorClass.REREGISTER, e -> ++recovered[0] > 0), () -> {
            if (++calls[0] <= 2) {
                throw failure(ErrorClass.REREGISTER, 404);
            }
            return "ok";
        });
        assertTrue(out.ok());
        assertEquals("ok", out.value());
        assertEquals(2, recovered[0]);
        assertEquals(2, out.failures());
        assertEquals(Duration.ZERO, slept.get(0), "first recovery: at once");
        assertEquals(2, slept.size());

        boolean[] go = {true};
        Retrier.Outcome<String> stopped = retrier.run(Retrier.policy("poll").keepGoing(() -> go[0]), () -> {
            go[0] = false;
            throw failure(ErrorClass.RETRYABLE, 500);
        });
        assertEquals(Retrier.Stop.STOPPED, stopped.stop());
    }
}

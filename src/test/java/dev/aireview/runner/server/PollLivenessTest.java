package dev.aireview.runner.server;

import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static dev.aireview.runner.server.PollAnswerTest.task;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The poll's deadline is a liveness bound, not a size bound (issues 18 and 23): an answer that keeps arriving is read
 * to its end however long past the poll timeout it takes; an answer that stops arriving keeps the tasks read whole
 * and reports the one in progress by its id. Real sockets: WireMock's dribbled bodies and a raw stalling server.
 */
class PollLivenessTest {
    static final Duration POLL = Duration.ofMillis(1000);

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

    /** One request to {@code wm}, answered before any timed one (used by {@link CallDeadlineTest} too). */
    static void warmUp(WireMockExtension wm) throws Exception {
        java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(URI.create(wm.baseUrl() + "/__admin/mappings"))
                .build(), java.net.http.HttpResponse.BodyHandlers.discarding());
    }

    @Test
    void shouldReadAnAnswerThatArrivesSlowerThanThePollTimeoutButKeepsArriving() throws Exception {
        // ~3 s of body in 60 chunks (one every ~50 ms): three times the poll timeout, never idle for long
        String body = "{\"data\":[" + task("small", "") + "," + task("big", "\"pad\":\"" + "x".repeat(300_000) + "\"") + "]}";
        wm.stubFor(get(urlPathEqualTo("/api/runners/tasks/pending")).willReturn(okJson(body).withChunkedDribbleDelay(60, 3_000)));
        HttpServerClient client = new HttpServerClient(URI.create(wm.baseUrl()), "tok-live", Duration.ofSeconds(3), POLL, Clock.systemUTC());
        long t0 = System.nanoTime();
        List<ClaimedTask> tasks = client.poll("r", 2, Duration.ZERO);
        long tookMs = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(tookMs > POLL.toMillis(), "the answer really took longer than the poll timeout: " + tookMs + " ms");
        assertEquals(List.of("small", "big"), tasks.stream().map(ClaimedTask::id).toList());
        assertFalse(tasks.get(0).isBad(), tasks.toString());
        assertFalse(tasks.get(1).isBad(), "the slow task is read whole, not cut: " + tasks.get(1).parseError());
    }

    @Test
    void shouldKeepTheTasksReadWholeAndReportTheOneInProgressWhenTheAnswerStops() throws Exception {
        String prefix = "{\"data\":[" + task("whole", "") + ",{\"id\":\"cut\",\"repository\":{\"url\":\"https://git.example/a";
        try (StallingServer stall = new StallingServer(prefix)) {
            HttpServerClient client = new HttpServerClient(URI.create(stall.baseUrl()), "tok-live", Duration.ofMillis(800), POLL,
                    Clock.systemUTC());
            List<ClaimedTask> tasks = client.poll("r", 2, Duration.ZERO);
            assertEquals(List.of("whole", "cut"), tasks.stream().map(ClaimedTask::id).toList(),
                    "nothing the server handed out and the runner saw is lost");
            assertFalse(tasks.get(0).isBad(), tasks.toString());
            assertTrue(tasks.get(1).isBad(), tasks.toString());
            assertTrue(tasks.get(1).parseError().contains("stopped arriving"), tasks.get(1).parseError());
            assertFalse(tasks.get(1).parseError().contains("git.example"), "described, never quoted: " + tasks.get(1).parseError());
        }
    }

    @Test
    void shouldStillEndAPollWhoseHeadersNeverComeAtThePollTimeout() throws Exception {
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 5, java.net.InetAddress.getLoopbackAddress())) {
            HttpServerClient client = new HttpServerClient(URI.create("http://127.0.0.1:" + silent.getLocalPort()), "tok-live",
                    Duration.ofMillis(500), POLL, Clock.systemUTC());
            ServerException e = org.junit.jupiter.api.Assertions.assertThrows(ServerException.class,
                    () -> client.poll("r", 1, Duration.ZERO));
            assertEquals(ErrorClass.RETRYABLE, e.errorClass());
            assertTrue(e.getMessage().contains("timed out"), e.getMessage());
        }
    }
}

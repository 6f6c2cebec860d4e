package dev.aireview.runner.kubernetes;

import dev.aireview.runner.config.KubernetesConfig;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ApiGate}: the rate limit by hand (a fake clock) and at fabric8's mock server in expectation mode (arrival
 * times recorded by the server), Retry-After honoured, retries only of what is worth it, and the call's deadline.
 */
@EnableKubernetesMockClient
class ApiGateTest {
    static {
        KubernetesExecutorTest.MOCK_LOG.getName(); // the mock server's INFO lines off
    }

    static final String NS = "gate";
    static final String PATH = "/api/v1/namespaces/" + NS + "/pods/p";
    KubernetesMockServer server;
    KubernetesClient client;
    private final List<KubernetesClient> clients = new ArrayList<>();

    /** The JVM's first TLS handshake (class loading, on a loaded machine) on the test's own client, with its 10 s to connect. */
    @org.junit.jupiter.api.BeforeEach
    void warmUp() {
        client.pods().inNamespace(NS).withName("warm-up").get();
    }

    @AfterEach
    void tearDown() {
        clients.forEach(KubernetesClient::close);
    }

    /** A client made as the executor makes it (deadlines, no fabric8 retry), every request through {@code gate}. */
    KubernetesClient gated(ApiGate gate, int qps, int burst) {
        KubernetesClient c = KubernetesTaskExecutor.connect(client.getConfiguration(), new KubernetesConfig(NS, null, qps, burst), gate);
        clients.add(c);
        return c;
    }

    static Pod pod() {
        return new PodBuilder().withNewMetadata().withName("p").withNamespace(NS).endMetadata().build();
    }

    @Test
    void theBucketLetsABurstGoThenOneEveryIntervalAndRefills() {
        AtomicLong now = new AtomicLong(1_000_000_000L);
        ApiGate gate = new ApiGate(10, 3, now::get);
        assertEquals(List.of(0L, 0L, 0L, 100L, 200L, 300L), List.of(ms(gate), ms(gate), ms(gate), ms(gate), ms(gate), ms(gate)),
                "3 at once, then one every 100 ms (each wait counted from now)");
        now.addAndGet(TimeUnit.MILLISECONDS.toNanos(400)); // booked up to +600 ms: one token came back since +300 ms
        assertEquals(List.of(0L, 100L), List.of(ms(gate), ms(gate)), "the token that came back, then the next turn");
        now.addAndGet(TimeUnit.SECONDS.toNanos(10)); // a quiet spell refills the bucket, to its size and no more
        assertEquals(List.of(0L, 0L, 0L, 100L), List.of(ms(gate), ms(gate), ms(gate), ms(gate)));
    }

    private static long ms(ApiGate gate) {
        return TimeUnit.NANOSECONDS.toMillis(gate.reserve());
    }

    /**
     * 16 requests from 2 threads at once through a gate of 10/s with a burst of 2: the server sees them spread over at
     * least (16 - 2) / 10 s, and in no second more than burst + rate (+1 for a request at the window's edge).
     */
    @Test
    void requestsAtTheServerKeepTheRate() throws Exception {
        List<Long> arrivals = new CopyOnWriteArrayList<>();
        server.expect().get().withPath(PATH).andReply(200, req -> {
            arrivals.add(System.nanoTime());
            return pod();
        }).always();
        ApiGate gate = new ApiGate(10, 2);
        KubernetesClient c = gated(gate, 10, 2);
        // one connection made before (a TLS handshake on a loaded machine can take seconds), not counted
        assertNotNull(c.pods().inNamespace(NS).withName("p").get());
        arrivals.clear();
        long waitedBefore = gate.waits();
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<CompletableFuture<Pod>> calls = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                calls.add(CompletableFuture.supplyAsync(() -> c.pods().inNamespace(NS).withName("p").get(), pool));
            }
            for (CompletableFuture<Pod> f : calls) {
                assertNotNull(f.get(60, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
        List<Long> t = new ArrayList<>(arrivals);
        t.sort(null);
        assertEquals(16, t.size());
        long spanMs = TimeUnit.NANOSECONDS.toMillis(t.get(15) - t.get(0));
        assertTrue(spanMs >= 1400 - 100, "16 requests at 10/s, burst 2, spread over " + spanMs + " ms");
        for (int i = 0; i < t.size(); i++) {
            long from = t.get(i);
            long inWindow = t.stream().filter(x -> x >= from && x - from < 1_000_000_000L).count();
            assertTrue(inWindow <= 2 + 10 + 1, inWindow + " requests in the second from request " + i);
        }
        assertTrue(gate.waits() - waitedBefore >= 10, "requests that waited their turn: " + (gate.waits() - waitedBefore));
    }

    @Test
    void aThrottledCallIsRetriedNoEarlierThanItsRetryAfter() {
        List<Long> arrivals = new CopyOnWriteArrayList<>();
        server.expect().get().withPath(PATH).andReply(429, req -> {
            arrivals.add(System.nanoTime());
            return new StatusBuilder().withCode(429).withReason("TooManyRequests").withMessage("slow down").build();
        }).withHeader("Retry-After", "2").once();
        server.expect().get().withPath(PATH).andReply(200, req -> {
            arrivals.add(System.nanoTime());
            return pod();
        }).always();
        ApiGate gate = new ApiGate(100, 10);
        gate.timing(ApiGate.CALL_DEADLINE, Duration.ofMillis(100));
        KubernetesClient c = gated(gate, 100, 10);
        Pod p = gate.call("get pod p", () -> c.pods().inNamespace(NS).withName("p").get());
        assertNotNull(p);
        assertEquals(2, arrivals.size(), "one retry, by the gate (fabric8's own retry is off)");
        long gapMs = TimeUnit.NANOSECONDS.toMillis(arrivals.get(1) - arrivals.get(0));
        assertTrue(gapMs >= 2000, "the retry came " + gapMs + " ms after the 429 (Retry-After: 2; the back-off alone is 100 ms)");
    }

    @Test
    void anUnavailableServerIsRetriedWithBackOffAndARefusalIsNot() {
        List<Long> arrivals = new CopyOnWriteArrayList<>();
        server.expect().get().withPath(PATH).andReply(503, req -> {
            arrivals.add(System.nanoTime());
            return "unavailable";
        }).times(2);
        server.expect().get().withPath(PATH).andReply(200, req -> {
            arrivals.add(System.nanoTime());
            return pod();
        }).always();
        ApiGate gate = new ApiGate(100, 10);
        gate.timing(ApiGate.CALL_DEADLINE, Duration.ofMillis(200));
        KubernetesClient c = gated(gate, 100, 10);
        assertNotNull(gate.call("get pod p", () -> c.pods().inNamespace(NS).withName("p").get()));
        assertEquals(3, arrivals.size());
        assertTrue(arrivals.get(1) - arrivals.get(0) >= TimeUnit.MILLISECONDS.toNanos(200), "first back-off");
        assertTrue(arrivals.get(2) - arrivals.get(1) >= TimeUnit.MILLISECONDS.toNanos(400), "doubled");

        AtomicLong forbidden = new AtomicLong();
        server.expect().post().withPath("/api/v1/namespaces/" + NS + "/pods").andReply(403, req -> {
            forbidden.incrementAndGet();
            return new StatusBuilder().withCode(403).withReason("Forbidden").withMessage("no").build();
        }).always();
        KubernetesClientException e = assertThrows(KubernetesClientException.class,
                () -> gate.call("create pod", () -> c.pods().inNamespace(NS).resource(pod()).create()));
        assertEquals(403, e.getCode());
        assertEquals(1, forbidden.get(), "a refusal is not retried");
    }

    /** A Retry-After beyond the call's deadline ends the call at once, naming it, instead of waiting past the deadline. */
    @Test
    void aRetryAfterBeyondTheDeadlineFailsTheCallAtOnce() {
        AtomicLong arrivals = new AtomicLong();
        server.expect().post().withPath("/api/v1/namespaces/" + NS + "/pods").andReply(429, req -> {
            arrivals.incrementAndGet();
            return new StatusBuilder().withCode(429).withReason("TooManyRequests").withMessage("slow down").build();
        }).withHeader("Retry-After", "3600").always();
        ApiGate gate = new ApiGate(100, 10);
        KubernetesClient c = gated(gate, 100, 10);
        long t0 = System.nanoTime();
        KubernetesClientException e = assertThrows(KubernetesClientException.class,
                () -> gate.call("create pod p", () -> c.pods().inNamespace(NS).resource(pod()).create()));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertEquals(429, e.getCode());
        assertTrue(e.getMessage().contains("create pod p") && e.getMessage().contains("asked to retry after 3600 s")
                && e.getMessage().contains("within the call's 30 s"), e.getMessage());
        assertEquals(1, arrivals.get(), "not sent again");
        assertTrue(ms < ApiGate.CALL_DEADLINE.toMillis(), "ended after " + ms + " ms");
    }

    @Test
    void retryAfterReadsSecondsAndHttpDates() {
        assertEquals(Duration.ofSeconds(7), ApiGate.retryAfter(" 7 "));
        assertEquals(null, ApiGate.retryAfter("soon"));
        assertEquals(null, ApiGate.retryAfter("-3"));
        assertEquals(null, ApiGate.retryAfter(null));
        assertEquals(Duration.ZERO, ApiGate.retryAfter("Wed, 21 Oct 2015 07:28:00 GMT"), "a date in the past: at once");
        Duration d = ApiGate.retryAfter(java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME
                .format(java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC).plusSeconds(120)));
        assertTrue(d.toSeconds() >= 115 && d.toSeconds() <= 120, d.toString());
    }
}

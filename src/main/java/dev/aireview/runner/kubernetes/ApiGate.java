package dev.aireview.runner.kubernetes;

import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.http.AsyncBody;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.HttpResponse;
import io.fabric8.kubernetes.client.http.Interceptor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The one policy for the runner's Kubernetes API requests, in one place:
 * <ul>
 *   <li><b>Client-side rate limit</b> ({@code KUBERNETES_API_QPS}, {@code KUBERNETES_API_BURST}): installed as an
 *   interceptor of the client's HTTP client, so every request of the client takes a token of one bucket before it
 *   is sent — the executor's calls, log reads and streams, the informer's list and watches, the Lease's renewals.
 *   A request beyond the rate waits its turn (generic cell rate: the {@code n}-th request after a quiet spell goes at
 *   once while {@code n <= burst}, then one every {@code 1/qps}).</li>
 *   <li><b>{@code Retry-After}</b>: a 429 or 503 answer's {@code Retry-After} (seconds or an HTTP date) is noted,
 *   capped at {@link #MAX_RETRY_AFTER}; {@link #call} does not retry before it.</li>
 *   <li><b>Retries within a whole-call deadline</b> ({@link #call}): 429, 5xx and no-answer failures are retried
 *   after 0.5 s, 1 s, 2 s (or the {@code Retry-After}, if later), at most {@link #MAX_RETRIES} times, and a retry
 *   is started only if its attempt ({@link #ATTEMPT_MAX} at most) ends before the call's deadline — so one call
 *   takes at most its deadline (plus its turns at the rate limit). fabric8's own retry is switched off (it waits
 *   for any {@code Retry-After}, however long, and may send a create an hour after the task gave up).</li>
 * </ul>
 */
final class ApiGate implements Interceptor {
    private static final Logger LOG = LoggerFactory.getLogger(ApiGate.class);
    /** Longest one attempt takes: fabric8's request deadline plus what it adds to it (min(deadline, 5 s)). */
    static final Duration ATTEMPT_MAX = KubernetesTaskExecutor.API_REQUEST_TIMEOUT
            .plus(min(KubernetesTaskExecutor.API_REQUEST_TIMEOUT, Duration.ofSeconds(5)));
    /** Whole-call deadline of an executor call (its attempts, waits and retries). */
    static final Duration CALL_DEADLINE = Duration.ofSeconds(30);
    static final int MAX_RETRIES = 3;
    static final Duration FIRST_BACKOFF = Duration.ofMillis(500);
    /** A longer {@code Retry-After} is taken as this long. */
    static final Duration MAX_RETRY_AFTER = Duration.ofSeconds(60);

    private final long intervalNanos;
    private final long toleranceNanos;
    private final LongSupplier nanoTime;
    private final Object lock = new Object();
    /** Theoretical arrival time of the next request (generic cell rate algorithm). */
    private long tat;
    private boolean started;
    /** nanoTime before which no retry is started (a Retry-After), or Long.MIN_VALUE. */
    private final AtomicLong retryNotBefore = new AtomicLong(Long.MIN_VALUE);
    private final AtomicLong lastRetryAfterSeconds = new AtomicLong();
    private final AtomicLong waits = new AtomicLong();
    private final AtomicLong requests = new AtomicLong();
    private Duration callDeadline = CALL_DEADLINE;
    private Duration firstBackoff = FIRST_BACKOFF;

    ApiGate(int qps, int burst) {
        this(qps, burst, System::nanoTime);
    }

    ApiGate(int qps, int burst, LongSupplier nanoTime) {
        if (qps <= 0 || burst <= 0) {
            throw new IllegalArgumentException("qps and burst must be positive: " + qps + ", " + burst);
        }
        this.intervalNanos = 1_000_000_000L / qps;
        this.toleranceNanos = (burst - 1) * intervalNanos;
        this.nanoTime = nanoTime;
    }

    /** Every request of the client: waits for its turn at the rate limit. */
    @Override
    public void before(BasicBuilder builder, HttpRequest request, RequestTags tags) {
        long wait = reserve();
        if (wait > 0) {
            waits.incrementAndGet();
            LOG.debug("Kubernetes API rate limit: {} waits {} ms", request.method(), wait / 1_000_000);
            try {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Takes the next turn; how long (ns) its request must wait for it. */
    long reserve() {
        requests.incrementAndGet();
        synchronized (lock) {
            long now = nanoTime.getAsLong();
            long t = !started || tat - now < 0 ? now : tat;
            started = true;
            tat = t + intervalNanos;
            return Math.max(0, t - toleranceNanos - now);
        }
    }

    /** Notes a 429's or 503's Retry-After. */
    @Override
    public void after(HttpRequest request, HttpResponse<?> response, AsyncBody.Consumer<List<ByteBuffer>> consumer) {
        if (response.code() != 429 && response.code() != 503) {
            return;
        }
        Duration d = retryAfter(response.header("Retry-After"));
        if (d != null) {
            lastRetryAfterSeconds.set(d.toSeconds());
            long until = nanoTime.getAsLong() + min(d, MAX_RETRY_AFTER).toNanos();
            retryNotBefore.accumulateAndGet(until, (a, b) -> a == Long.MIN_VALUE ? b : Math.max(a, b));
        }
    }

    /** A Retry-After value (delay-seconds or an HTTP date); null when absent or unreadable. */
    static Duration retryAfter(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        String v = value.trim();
        try {
            long s = Long.parseLong(v);
            return s < 0 ? null : Duration.ofSeconds(s);
        } catch (NumberFormatException e) {
            try {
                Duration d = Duration.between(java.time.Instant.now(),
                        ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant());
                return d.isNegative() ? Duration.ZERO : d;
            } catch (DateTimeParseException e2) {
                return null;
            }
        }
    }

    /**
     * Runs one API call of the executor within {@link #CALL_DEADLINE}, retrying a 429, a 5xx or a failure without an
     * answer (code 0) as the class says; any other failure, or the last one, is thrown.
     */
    <T> T call(String what, Supplier<T> call) throws KubernetesClientException {
        long deadline = nanoTime.getAsLong() + callDeadline.toNanos();
        Duration backoff = firstBackoff;
        for (int attempt = 0; ; attempt++) {
            try {
                return call.get();
            } catch (KubernetesClientException e) {
                if (!retryable(e) || attempt >= MAX_RETRIES || Thread.currentThread().isInterrupted()) {
                    throw e;
                }
                long now = nanoTime.getAsLong();
                long notBefore = retryNotBefore.get();
                long wait = Math.max(backoff.toNanos(), notBefore == Long.MIN_VALUE ? 0 : notBefore - now);
                if (now + wait + ATTEMPT_MAX.toNanos() - deadline > 0) {
                    long asked = lastRetryAfterSeconds.get();
                    throw new KubernetesClientException(what + ": HTTP " + e.getCode() + " and no time left for a retry within the call's "
                            + callDeadline.toSeconds() + " s" + (notBefore - now > 0 && asked > 0 ? " (the API server asked to retry after "
                            + asked + " s)" : "") + ": " + e.getMessage(), e.getCode(), null);
                }
                LOG.debug("{}: HTTP {}, retrying in {} ms", what, e.getCode(), wait / 1_000_000);
                try {
                    Thread.sleep(wait / 1_000_000);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                backoff = backoff.multipliedBy(2);
            }
        }
    }

    /** Worth retrying: throttled (429), the server failed (5xx), or no answer at all (code 0: I/O, timeout). */
    static boolean retryable(KubernetesClientException e) {
        int code = e.getCode();
        return code == 429 || code >= 500 || code <= 0 && !(e.getCause() instanceof InterruptedException);
    }

    /** Requests that had to wait for their turn (metrics, tests). */
    long waits() {
        return waits.get();
    }

    /** Requests that passed the gate. */
    long requests() {
        return requests.get();
    }

    /** Call deadline and first back-off (tests). */
    void timing(Duration deadline, Duration backoff) {
        this.callDeadline = deadline;
        this.firstBackoff = backoff;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}

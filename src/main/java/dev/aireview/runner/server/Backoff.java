package dev.aireview.runner.server;

import java.time.Duration;
import java.util.Random;

/**
 * Capped exponential backoff with full jitter: attempt {@code n} (0-based) waits a uniformly random time in
 * {@code [0, min(max, initial * factor^n)]}. The {@link Random} comes from the caller so tests control it.
 * Thread-safe (Random is).
 */
public final class Backoff {
    private final Duration initial;
    private final Duration max;
    private final double factor;
    private final Random random;

    public Backoff(Duration initial, Duration max, double factor, Random random) {
        if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0 || factor < 1) {
            throw new IllegalArgumentException("bad backoff: initial=" + initial + " max=" + max + " factor=" + factor);
        }
        this.initial = initial;
        this.max = max;
        this.factor = factor;
        this.random = random;
    }

    /** The runner's default: 500 ms doubling up to 60 s. */
    public static Backoff standard(Random random) {
        return new Backoff(Duration.ofMillis(500), Duration.ofSeconds(60), 2.0, random);
    }

    /** Upper bound of the wait before retry {@code attempt} (0-based). */
    public Duration cap(int attempt) {
        double ms = initial.toMillis() * Math.pow(factor, Math.min(attempt, 62));
        return Duration.ofMillis((long) Math.min(max.toMillis(), ms));
    }

    /** The jittered wait before retry {@code attempt} (0-based). */
    public Duration delay(int attempt) {
        return Duration.ofMillis((long) (random.nextDouble() * cap(attempt).toMillis()));
    }

    /** The wait before retry {@code attempt}: the server's Retry-After when it sent one, else the jittered backoff. */
    public Duration delay(int attempt, ServerException e) {
        if (e != null && e.retryAfter().isPresent()) {
            return e.retryAfter().get();
        }
        return delay(attempt);
    }

    public Random random() {
        return random;
    }
}

package dev.aireview.runner.review.ai;

import java.time.Duration;

/**
 * Retries of provider calls on 429, 5xx, timeouts and connection errors: capped exponential backoff with
 * full jitter, or the provider's {@code Retry-After} when it sends one (capped at {@code maxDelay}).
 */
public record RetryPolicy(int maxAttempts, Duration baseDelay, Duration maxDelay) {

    public static final RetryPolicy DEFAULT = new RetryPolicy(5, Duration.ofSeconds(1), Duration.ofSeconds(30));

    public RetryPolicy {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be >= 1");
        }
    }

    /** Delay before attempt {@code attempt + 1} (attempt counts from 1), without a Retry-After. */
    public Duration backoff(int attempt, java.util.Random random) {
        long cap = Math.min(maxDelay.toMillis(), baseDelay.toMillis() * (1L << Math.min(20, attempt - 1)));
        return Duration.ofMillis(cap <= 0 ? 0 : 1 + random.nextInt((int) Math.min(Integer.MAX_VALUE - 1, cap)));
    }
}

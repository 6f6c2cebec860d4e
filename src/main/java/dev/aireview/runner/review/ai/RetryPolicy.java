package dev.aireview.runner.review.ai;

import java.time.Duration;

/**
 * The one retry policy of provider calls: which answers are retried ({@link #retryableStatus}: 408, 429, 5xx; and
 * in {@link ChatClient} connection errors, a missed whole-call deadline and transient error objects, never a body over
 * its cap or an {@code OutOfMemoryError}), how often ({@code maxAttempts}) and how long to wait: capped exponential
 * backoff with full jitter, or the provider's {@code Retry-After} when it sends one (capped at {@code maxDelay}).
 * Every wait and attempt also fits the review's {@link Budget}.
 */
public record RetryPolicy(int maxAttempts, Duration baseDelay, Duration maxDelay) {

    public static final RetryPolicy DEFAULT = new RetryPolicy(5, Duration.ofSeconds(1), Duration.ofSeconds(30));

    public RetryPolicy {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be >= 1");
        }
    }

    /** Whether an HTTP status is worth another attempt: timeouts, rate limits and server errors. */
    public static boolean retryableStatus(int code) {
        return code == 408 || code == 429 || code >= 500;
    }

    /** Delay before attempt {@code attempt + 1} (attempt counts from 1), without a Retry-After. */
    public Duration backoff(int attempt, java.util.Random random) {
        long cap = Math.min(maxDelay.toMillis(), baseDelay.toMillis() * (1L << Math.min(20, attempt - 1)));
        return Duration.ofMillis(cap <= 0 ? 0 : 1 + random.nextInt((int) Math.min(Integer.MAX_VALUE - 1, cap)));
    }
}

package dev.aireview.runner.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Set;
import java.util.function.BooleanSupplier;

/** Repeats one call with {@link Backoff} while its failures are of the retried classes. */
public final class Retrier {
    private static final Logger log = LoggerFactory.getLogger(Retrier.class);

    /** One attempt of a call. */
    @FunctionalInterface
    public interface Attempt<T> {
        T call() throws ServerException, InterruptedException;
    }

    private final Backoff backoff;
    private final Sleeper sleeper;

    public Retrier(Backoff backoff, Sleeper sleeper) {
        this.backoff = backoff;
        this.sleeper = sleeper;
    }

    /**
     * Calls until it succeeds. A failure whose class is in {@code retried} is retried after the backoff delay (or
     * the server's Retry-After) while {@code keepGoing} holds; any other failure, or the last one when
     * {@code keepGoing} turns false, is thrown.
     */
    public <T> T call(String what, Attempt<T> attempt, Set<ErrorClass> retried, BooleanSupplier keepGoing)
            throws ServerException, InterruptedException {
        int failures = 0;
        while (true) {
            try {
                T value = attempt.call();
                if (failures > 0) {
                    log.info("{} succeeded after {} failed attempt(s)", what, failures);
                }
                return value;
            } catch (ServerException e) {
                if (!retried.contains(e.errorClass()) || !keepGoing.getAsBoolean()) {
                    throw e;
                }
                Duration delay = backoff.delay(failures, e);
                failures++;
                log.warn("{} failed ({}); attempt {}, retrying in {} ms", what, e.getMessage(), failures, delay.toMillis());
                sleeper.sleep(delay);
            }
        }
    }

    public Backoff backoff() {
        return backoff;
    }

    public Sleeper sleeper() {
        return sleeper;
    }
}

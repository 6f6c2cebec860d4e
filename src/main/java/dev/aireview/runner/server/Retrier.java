package dev.aireview.runner.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The runner's one retry loop: every server call that is repeated (start-up health and register, re-register,
 * poll, status, logs, result) goes through {@link #run}, with a {@link Policy} saying what to retry and when to
 * stop. What a failure <em>is</em> is decided by {@link RetryClassifier}; what is done about it here:
 * <ul>
 *   <li>a failure whose {@link ErrorClass} the policy does not retry, or that its {@code giveUp} predicate
 *       calls terminal, ends the call at once ({@link Stop#TERMINAL});</li>
 *   <li>otherwise the policy's recovery for that class runs (e.g. register again after "unknown runner"); a
 *       successful recovery retries at once, once in a row;</li>
 *   <li>then the wait: the server's Retry-After when it sent one (capped by {@link RetryClassifier}), else capped
 *       exponential backoff with full jitter ({@link Backoff});</li>
 *   <li>the call ends after {@code maxAttempts} attempts ({@link Stop#ATTEMPTS}), when the next attempt could not
 *       start before the overall {@code deadline} ({@link Stop#DEADLINE}), or when {@code keepGoing} turns false
 *       ({@link Stop#STOPPED}, e.g. the runner is past its shutdown deadline).</li>
 * </ul>
 * Each attempt is bounded by the client's whole-call deadline ({@link HttpServerClient}: connect + headers +
 * body), so an attempt never hangs and the overall deadline holds to within one attempt. An interrupt ends the
 * loop with {@link InterruptedException}. Waits go through the {@link Sleeper} and time through the nano clock, so
 * tests run minutes of backoff without waiting.
 */
public final class Retrier {
    private static final Logger log = LoggerFactory.getLogger(Retrier.class);

    /** One attempt of a call. */
    @FunctionalInterface
    public interface Attempt<T> {
        T call() throws ServerException, InterruptedException;
    }

    /** Runs before the retry of a failure of one class; true when it repaired the cause (retry at once). */
    @FunctionalInterface
    public interface Recovery {
        boolean recover(ServerException failure) throws InterruptedException;
    }

    /** Why a call ended. */
    public enum Stop {
        /** It succeeded. */
        SUCCEEDED,
        /** A failure the policy does not retry (its class, or the give-up predicate). */
        TERMINAL,
        /** The policy's attempts are used up. */
        ATTEMPTS,
        /** The overall deadline would pass before the next attempt. */
        DEADLINE,
        /** {@code keepGoing} turned false. */
        STOPPED
    }

    /**
     * How a call ended: its value, or its last failure and why it was not retried.
     *
     * @param failures failed attempts before the end (a success after retries has failures &gt; 0)
     */
    public record Outcome<T>(T value, ServerException failure, Stop stop, int failures) {
        public boolean ok() {
            return stop == Stop.SUCCEEDED;
        }

        /** The value, or the last failure thrown. */
        public T orThrow() throws ServerException {
            if (!ok()) {
                throw failure;
            }
            return value;
        }
    }

    /** What to retry and when to stop; immutable, built with {@link #policy(String)}. */
    public static final class Policy {
        private final String what;
        private final Set<ErrorClass> retried;
        private final Predicate<ServerException> giveUp;
        private final Map<ErrorClass, Recovery> recoveries;
        private final int maxAttempts;
        private final Duration deadline;
        private final BooleanSupplier keepGoing;
        private final Backoff backoff;
        private final Consumer<ServerException> onRetry;
        private final boolean quiet;

        private Policy(String what, Set<ErrorClass> retried, Predicate<ServerException> giveUp, Map<ErrorClass, Recovery> recoveries,
                       int maxAttempts, Duration deadline, BooleanSupplier keepGoing, Backoff backoff,
                       Consumer<ServerException> onRetry, boolean quiet) {
            this.what = what;
            this.retried = retried;
            this.giveUp = giveUp;
            this.recoveries = recoveries;
            this.maxAttempts = maxAttempts;
            this.deadline = deadline;
            this.keepGoing = keepGoing;
            this.backoff = backoff;
            this.onRetry = onRetry;
            this.quiet = quiet;
        }

        /** Retries failures of these classes (replaces the set; default {@link ErrorClass#RETRYABLE}). */
        public Policy retry(ErrorClass first, ErrorClass... more) {
            return with(EnumSet.of(first, more), giveUp, recoveries, maxAttempts, deadline, keepGoing, backoff, onRetry, quiet);
        }

        /** Ends at once on a failure matching {@code terminal}, whatever its class. */
        public Policy giveUpWhen(Predicate<ServerException> terminal) {
            return with(retried, giveUp.or(terminal), recoveries, maxAttempts, deadline, keepGoing, backoff, onRetry, quiet);
        }

        /** Runs {@code recovery} before retrying a failure of class {@code c} (which becomes retried). */
        public Policy recover(ErrorClass c, Recovery recovery) {
            Map<ErrorClass, Recovery> r = new EnumMap<>(ErrorClass.class);
            r.putAll(recoveries);
            r.put(c, recovery);
            Set<ErrorClass> classes = EnumSet.copyOf(retried);
            classes.add(c);
            return with(classes, giveUp, r, maxAttempts, deadline, keepGoing, backoff, onRetry, quiet);
        }

        /** At most {@code n} attempts in all (0: no limit). */
        public Policy maxAttempts(int n) {
            return with(retried, giveUp, recoveries, n, deadline, keepGoing, backoff, onRetry, quiet);
        }

        /** No attempt starts later than {@code d} after the first one (null: none). */
        public Policy deadline(Duration d) {
            return with(retried, giveUp, recoveries, maxAttempts, d, keepGoing, backoff, onRetry, quiet);
        }

        /** Retries only while this holds. */
        public Policy keepGoing(BooleanSupplier k) {
            return with(retried, giveUp, recoveries, maxAttempts, deadline, k, backoff, onRetry, quiet);
        }

        /** This backoff instead of the retrier's. */
        public Policy backoff(Backoff b) {
            return with(retried, giveUp, recoveries, maxAttempts, deadline, keepGoing, b, onRetry, quiet);
        }

        /** Called for each failure that is retried (e.g. a metric). */
        public Policy onRetry(Consumer<ServerException> c) {
            return with(retried, giveUp, recoveries, maxAttempts, deadline, keepGoing, backoff, c, quiet);
        }

        /** Logs retries at debug rather than warn (expected, frequent failures such as log batches). */
        public Policy quiet() {
            return with(retried, giveUp, recoveries, maxAttempts, deadline, keepGoing, backoff, onRetry, true);
        }

        public String what() {
            return what;
        }

        private Policy with(Set<ErrorClass> retried, Predicate<ServerException> giveUp, Map<ErrorClass, Recovery> recoveries,
                            int maxAttempts, Duration deadline, BooleanSupplier keepGoing, Backoff backoff,
                            Consumer<ServerException> onRetry, boolean quiet) {
            if (maxAttempts < 0) {
                throw new IllegalArgumentException("maxAttempts " + maxAttempts);
            }
            return new Policy(what, Set.copyOf(retried), giveUp, Map.copyOf(recoveries), maxAttempts, deadline,
                    Objects.requireNonNull(keepGoing), backoff, onRetry, quiet);
        }

        @Override
        public String toString() {
            return "Policy[" + what + ", retry " + retried + (maxAttempts > 0 ? ", " + maxAttempts + " attempts" : "")
                    + (deadline != null ? ", deadline " + deadline.toMillis() + " ms" : "") + "]";
        }
    }

    /** A policy for the call {@code what} (used in log lines): retries {@link ErrorClass#RETRYABLE}, unbounded. */
    public static Policy policy(String what) {
        return new Policy(what, Set.of(ErrorClass.RETRYABLE), e -> false, Map.of(), 0, null, () -> true, null, e -> {
        }, false);
    }

    private final Backoff backoff;
    private final Sleeper sleeper;
    private final LongSupplier nanoTime;

    public Retrier(Backoff backoff, Sleeper sleeper) {
        this(backoff, sleeper, System::nanoTime);
    }

    /** @param nanoTime the clock of overall deadlines (tests pass one their {@link Sleeper} advances) */
    public Retrier(Backoff backoff, Sleeper sleeper, LongSupplier nanoTime) {
        this.backoff = Objects.requireNonNull(backoff);
        this.sleeper = Objects.requireNonNull(sleeper);
        this.nanoTime = Objects.requireNonNull(nanoTime);
    }

    /** Calls until the call succeeds or the policy ends it; never throws a {@link ServerException}. */
    public <T> Outcome<T> run(Policy policy, Attempt<T> attempt) throws InterruptedException {
        Backoff b = policy.backoff != null ? policy.backoff : backoff;
        long start = nanoTime.getAsLong();
        int failures = 0;
        boolean recoveredLast = false;
        while (true) {
            ServerException e;
            try {
                T value = attempt.call();
                if (failures > 0) {
                    log.info("{} succeeded after {} failed attempt(s)", policy.what, failures);
                }
                return new Outcome<>(value, null, Stop.SUCCEEDED, failures);
            } catch (ServerException failure) {
                e = failure;
            }
            failures++;
            if (!policy.retried.contains(e.errorClass()) || policy.giveUp.test(e)) {
                return new Outcome<>(null, e, Stop.TERMINAL, failures);
            }
            if (policy.maxAttempts > 0 && failures >= policy.maxAttempts) {
                return new Outcome<>(null, e, Stop.ATTEMPTS, failures);
            }
            if (!policy.keepGoing.getAsBoolean()) {
                return new Outcome<>(null, e, Stop.STOPPED, failures);
            }
            Recovery recovery = policy.recoveries.get(e.errorClass());
            boolean recovered = recovery != null && recovery.recover(e);
            Duration delay = recovered && !recoveredLast ? Duration.ZERO : b.delay(failures - 1, e);
            recoveredLast = recovered;
            if (policy.deadline != null) {
                long left = policy.deadline.toNanos() - (nanoTime.getAsLong() - start);
                if (left <= delay.toNanos()) {
                    return new Outcome<>(null, e, Stop.DEADLINE, failures);
                }
            }
            policy.onRetry.accept(e);
            if (policy.quiet) {
                log.debug("{} failed ({}); attempt {}, retrying in {} ms", policy.what, e.getMessage(), failures, delay.toMillis());
            } else {
                log.warn("{} failed ({}); attempt {}, retrying in {} ms", policy.what, e.getMessage(), failures, delay.toMillis());
            }
            sleeper.sleep(delay);
        }
    }

    public Backoff backoff() {
        return backoff;
    }

    public Sleeper sleeper() {
        return sleeper;
    }
}

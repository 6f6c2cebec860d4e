package dev.aireview.runner.scheduler;

import dev.aireview.runner.server.Backoff;
import dev.aireview.runner.server.Sleeper;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Random;

/**
 * Internal timings and seams of the daemon that are not user configuration: the {@link Random} of every jitter,
 * the {@link Sleeper} of every backoff wait, the clock, and the margins. {@link #defaults()} is what production
 * uses; tests replace the seams.
 *
 * @param random            source of every jitter (poll interval, backoff)
 * @param sleeper           every backoff/poll-interval wait goes through it
 * @param clock             timestamps (log lines, claim time)
 * @param backoff           retries of register, poll and result (full jitter)
 * @param reportBackoff     retries of status and log batches
 * @param reportAttempts    attempts of one status/log send before it is dropped
 * @param timeoutMargin     how long past a task's time limit the executor may take before the runner cancels it
 * @param cancelGrace       how long a cancelled executor may take to return before it is killed, and again after the
 *                          kill before its task is reported (its slot then stays taken until it returns)
 * @param logFlushInterval  log lines are sent at least this often
 * @param logBatchBytes     a log batch is sent as soon as this many bytes are pending
 * @param logFlushTimeout   how long the final log flush may take before the result is sent anyway
 * @param resultGrace       after shutdown cancelled the remaining tasks, how long results may still be retried
 */
public record SchedulerSettings(
        Random random,
        Sleeper sleeper,
        Clock clock,
        Backoff backoff,
        Backoff reportBackoff,
        int reportAttempts,
        Duration timeoutMargin,
        Duration cancelGrace,
        Duration logFlushInterval,
        long logBatchBytes,
        Duration logFlushTimeout,
        Duration resultGrace) {

    public SchedulerSettings {
        Objects.requireNonNull(random);
        Objects.requireNonNull(sleeper);
        Objects.requireNonNull(clock);
    }

    public static SchedulerSettings defaults() {
        Random random = new Random();
        return new SchedulerSettings(random, Sleeper.SYSTEM, Clock.systemUTC(), Backoff.standard(random),
                new Backoff(Duration.ofMillis(250), Duration.ofSeconds(5), 2.0, random), 5,
                Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(1), 64 * 1024,
                Duration.ofSeconds(30), Duration.ofSeconds(60));
    }

    /** The same settings with another random source (the backoffs use it too). */
    public SchedulerSettings withRandom(Random r) {
        return new SchedulerSettings(r, sleeper, clock, new Backoff(backoff.cap(0), backoff.cap(62), 2.0, r),
                new Backoff(reportBackoff.cap(0), reportBackoff.cap(62), 2.0, r), reportAttempts, timeoutMargin,
                cancelGrace, logFlushInterval, logBatchBytes, logFlushTimeout, resultGrace);
    }

    public SchedulerSettings withSleeper(Sleeper s) {
        return new SchedulerSettings(random, s, clock, backoff, reportBackoff, reportAttempts, timeoutMargin, cancelGrace,
                logFlushInterval, logBatchBytes, logFlushTimeout, resultGrace);
    }

    public SchedulerSettings withTimeouts(Duration timeoutMargin, Duration cancelGrace) {
        return new SchedulerSettings(random, sleeper, clock, backoff, reportBackoff, reportAttempts, timeoutMargin, cancelGrace,
                logFlushInterval, logBatchBytes, logFlushTimeout, resultGrace);
    }

    public SchedulerSettings withLogBatching(Duration flushInterval, long batchBytes) {
        return new SchedulerSettings(random, sleeper, clock, backoff, reportBackoff, reportAttempts, timeoutMargin, cancelGrace,
                flushInterval, batchBytes, logFlushTimeout, resultGrace);
    }

    public SchedulerSettings withBackoff(Backoff b) {
        return new SchedulerSettings(random, sleeper, clock, b, reportBackoff, reportAttempts, timeoutMargin, cancelGrace,
                logFlushInterval, logBatchBytes, logFlushTimeout, resultGrace);
    }
}

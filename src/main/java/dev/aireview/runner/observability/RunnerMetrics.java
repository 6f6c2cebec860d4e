package dev.aireview.runner.observability;

import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.ResultStatus;

import java.time.Duration;
import java.util.Objects;
import java.util.function.DoubleSupplier;
import java.util.function.IntSupplier;

/**
 * What the scheduler tells the metrics about (no metrics library type in sight). Every method has a no-op
 * default, so {@link #NOOP} is a runner without metrics; {@link PrometheusMetrics} backs {@code GET /metrics}.
 * Implementations must be thread-safe and must never throw. Callers pass no task id, URL or secret: the only
 * labels are the bounded enums below.
 */
public interface RunnerMetrics {

    /** Records nothing (tests, the demo, a runner whose health port is off). */
    RunnerMetrics NOOP = new RunnerMetrics() {
    };

    /** How one poll ended. */
    enum PollOutcome {
        /** the server handed over at least one task */
        TASKS,
        /** the poll ended without a task */
        EMPTY,
        /** the poll failed (connection, timeout, HTTP error) */
        ERROR;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * Live values the runner reads on each scrape.
     *
     * @param maxSlots              {@code RUNNER_MAX_CONCURRENT_JOBS}
     * @param activeTasks           tasks running now
     * @param freeSlots             slots not taken by a running task
     * @param secondsSinceHeartbeat seconds since the last heartbeat the server accepted (since start before the first)
     * @param pooledContainersReady pre-warmed containers ready now; null when the executor cannot tell
     * @param leftoverReportsPending reports of tasks an earlier process left owing a result, still being sent
     */
    record Gauges(int maxSlots, IntSupplier activeTasks, IntSupplier freeSlots, DoubleSupplier secondsSinceHeartbeat,
                  IntSupplier pooledContainersReady, IntSupplier leftoverReportsPending) {
        public Gauges {
            Objects.requireNonNull(activeTasks);
            Objects.requireNonNull(freeSlots);
            Objects.requireNonNull(secondsSinceHeartbeat);
            leftoverReportsPending = leftoverReportsPending == null ? () -> 0 : leftoverReportsPending;
        }

        public Gauges(int maxSlots, IntSupplier activeTasks, IntSupplier freeSlots, DoubleSupplier secondsSinceHeartbeat,
                      IntSupplier pooledContainersReady) {
            this(maxSlots, activeTasks, freeSlots, secondsSinceHeartbeat, pooledContainersReady, null);
        }
    }

    /**
     * {@code metrics} with every call shielded: a failing metrics call is logged (once per kind) and swallowed, so
     * metrics can never cost a task its result or stop the poll loop. The daemon wraps what it is given.
     */
    static RunnerMetrics guarded(RunnerMetrics metrics) {
        if (metrics == null || metrics == NOOP) {
            return NOOP;
        }
        return metrics instanceof GuardedMetrics ? metrics : new GuardedMetrics(metrics);
    }

    /** Called once by the daemon when it is built. */
    default void bind(Gauges gauges) {
    }

    /** One poll ended. */
    default void poll(PollOutcome outcome) {
    }

    /** The server handed over {@code count} tasks (bad ones included). */
    default void tasksClaimed(int count) {
    }

    /** A task's executor is about to run, {@code queued} after its claim. */
    default void taskStarted(Duration queued) {
    }

    /**
     * A task ended with its one result (before delivery).
     *
     * @param errorKind null for a completed task
     */
    default void taskFinished(ResultStatus status, ErrorKind errorKind, Duration duration) {
    }

    /** A heartbeat failed (the next tick is its retry). */
    default void heartbeatFailed() {
    }

    /** A result delivery attempt failed and will be retried. */
    default void resultRetry() {
    }

    /** The per-task log cap dropped {@code lines} lines of a task's output. */
    default void logLinesDropped(long lines) {
    }

    /**
     * An unexpected throwable escaped the work of runner thread {@code thread} (a fixed name such as
     * {@code poll-loop}, {@code heartbeat}, {@code task-worker}): the thread died, or its loop caught it and resumed.
     */
    default void threadDied(String thread) {
    }

    /**
     * A cancelled executor did not return within the cancel grace: {@code step} is {@code kill} (it was killed) or
     * {@code stuck} (it did not return after the kill either; its task was reported, its slot stays taken).
     */
    default void executorEscalated(String step) {
    }
}

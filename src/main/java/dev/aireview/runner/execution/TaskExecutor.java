package dev.aireview.runner.execution;

import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;

/**
 * Runs one claimed task. Implemented by the Docker executor; the scheduler calls it from a worker thread.
 *
 * <p>Contract: {@link #execute} returns the task's outcome (any status) and never leaves anything behind;
 * it honours {@link TaskContext#cancel()} (stop, clean up, return a {@code cancelled} result) and
 * {@link TaskContext#timeout()} (kill, clean up, return {@code timed_out}). If it throws, the scheduler
 * reports {@code failed/executor_failed} with the exception message.
 */
public interface TaskExecutor extends AutoCloseable {

    /** Start-up checks and preparation (daemon reachable, image present, reaping, pool). Fails with a clear message. */
    default void start() throws Exception {
    }

    TaskResult execute(ReviewTask task, TaskContext context) throws Exception;

    /** Version of the engine behind the executor (e.g. Docker 26.1.5), once started; null when unknown. */
    default String engineVersion() {
        return null;
    }

    /** API version the executor speaks with its engine, once started; null when unknown. */
    default String apiVersion() {
        return null;
    }

    /** Pre-warmed containers ready right now, for the metrics; -1 when the executor has no pool to tell about. */
    default int readyPoolContainers() {
        return -1;
    }

    /** What the poll loop asks before each poll; {@link ClaimGate#OPEN} when the executor never pauses claims. */
    default ClaimGate claimGate() {
        return ClaimGate.OPEN;
    }

    /** Releases everything the executor holds (pooled containers, clients). Idempotent. */
    @Override
    default void close() {
    }
}

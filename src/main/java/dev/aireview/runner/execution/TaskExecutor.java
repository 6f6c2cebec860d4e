package dev.aireview.runner.execution;

import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;

import java.util.List;

/**
 * Runs one claimed task. Implemented by the Docker executor; the scheduler calls it from a worker thread.
 *
 * <p>Contract: {@link #execute} returns the task's outcome (any status) and never leaves anything behind;
 * it honours {@link TaskContext#cancel()} (stop, clean up, return a {@code cancelled} result) and
 * {@link TaskContext#timeout()} (kill, clean up, return {@code timed_out}). If it throws, the scheduler
 * reports {@code failed/executor_failed} with the exception message.
 *
 * <p>Escalation: a cancelled executor that has not returned within the scheduler's cancel grace gets
 * {@link CancelSignal#kill} (listeners registered with {@link CancelSignal#onKill}: kill what still runs, from the
 * scheduler's thread). If it still does not return, the task is reported, but its slot stays taken until
 * {@code execute} returns: the scheduler never interrupts or abandons an executor thread, so {@code execute}
 * returning means nothing of the task runs any more.
 */
public interface TaskExecutor extends AutoCloseable {

    /** Start-up checks and preparation (daemon reachable, image present, reaping, pool). Fails with a clear message. */
    default void start() throws Exception {
    }

    TaskResult execute(ReviewTask task, TaskContext context) throws Exception;

    /**
     * Ids of the tasks whose leftovers {@link #start()} removed (containers, volumes, workspaces of an earlier process
     * of this runner that died while running them). The scheduler reports each {@code failed/runner_shutdown} once,
     * after registering, so the server can retry it. Empty when nothing was found or the executor cannot tell.
     */
    default List<String> leftoverTaskIds() {
        return List.of();
    }

    /**
     * Where the scheduler records the tasks it has claimed and still owes a result, so that a restart after a crash
     * reports them ({@link ClaimJournal}); it must survive the process (the Docker executor's is in its runner
     * directory). Asked once, when the scheduler is built; listed after {@link #start()}. {@link ClaimJournal#NONE} (the default) keeps nothing.
     */
    default ClaimJournal claimJournal() {
        return ClaimJournal.NONE;
    }

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

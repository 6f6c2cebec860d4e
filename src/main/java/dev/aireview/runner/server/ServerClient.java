package dev.aireview.runner.server;

import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;

import java.time.Duration;
import java.util.List;

/**
 * The runner's side of PROTOCOL.md. One attempt per call: retry decisions belong to the caller (through
 * {@link Retrier}), which gets a classified {@link ServerException}. Every call ends within its whole-call
 * deadline (a stalled answer is a {@link ErrorClass#RETRYABLE} timeout), so no caller can hang on the network.
 * The one exception to "one attempt": a 400 to the heartbeat or the poll is re-sent once in the upstream
 * server's minimal documented form ({@link Dialect}). Implementations are thread-safe.
 */
public interface ServerClient {

    /** {@code GET /api/health}. */
    void health() throws ServerException, InterruptedException;

    /** {@code POST /api/runners/register}; returns the runner id to use from then on ({@code data.id}, else the x-runner-id). */
    String register(Registration registration) throws ServerException, InterruptedException;

    /** {@code POST /api/runners/{runnerId}/heartbeat}. */
    HeartbeatAnswer heartbeat(String runnerId, Heartbeat heartbeat) throws ServerException, InterruptedException;

    /**
     * {@code GET /api/runners/tasks/pending}: long poll for up to {@code maxTasks} tasks, the server holding it up to
     * {@code wait}. Read task by task ({@link PollAnswer}): every task with an id is returned, one that cannot be read
     * (wrong types, missing fields, its JSON cut off) as {@link ClaimedTask#bad}; entries without an id cannot be
     * reported and are logged by shape and skipped. An answer of which nothing is readable is retryable.
     */
    List<ClaimedTask> poll(String runnerId, int maxTasks, Duration wait) throws ServerException, InterruptedException;

    /** {@code POST /api/runners/tasks/{taskId}/status}. */
    void status(String runnerId, String taskId, TaskPhase phase, String message) throws ServerException, InterruptedException;

    /** {@code POST /api/runners/tasks/{taskId}/logs}; {@code offset} is the index of the first line in the task's log. */
    void logs(String runnerId, String taskId, long offset, List<LogLine> lines) throws ServerException, InterruptedException;

    /** {@code POST /api/runners/tasks/{taskId}/result}. */
    void result(String runnerId, String taskId, TaskResult result) throws ServerException, InterruptedException;
}

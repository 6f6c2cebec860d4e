package dev.aireview.runner.execution;

import dev.aireview.runner.model.LogStream;
import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;

import java.time.Duration;

/** What the scheduler gives an executor for one task: reporting, cancellation and the time budget. */
public interface TaskContext {

    /** Reports a phase change (sent to the server's status call; never blocks on the network). */
    void phase(TaskPhase phase, String message);

    /** Appends one line to the task's log. Secrets are masked and the volume capped by the receiver; never blocks on the network. */
    void log(LogStream stream, String line);

    /** Fires when the server cancels the task, the task is gone (409/410) or the runner shuts down. */
    CancelSignal cancel();

    /** Wall-time budget of the whole task: DOCKER_TIMEOUT_SECONDS, lowered by the task's timeoutSeconds. */
    Duration timeout();

    /**
     * Hands the task's outcome over before the executor's clean-up (container removal, workspace deletion): the
     * scheduler sends it at once, while the task keeps its slot until {@link TaskExecutor#execute} returns. The first
     * call wins; a later one is ignored (logged), and so is whatever {@code execute} then returns or throws. An executor
     * that never calls it is judged by what {@code execute} returns, as before. By the time it is called nothing of the
     * task may run any more but its clean-up, and a crash from here on must not leave the task to be reported again
     * (the Docker executor marks it {@code cleaning/} first). The default does nothing.
     */
    default void report(TaskResult result) {
    }
}

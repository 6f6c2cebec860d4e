package dev.aireview.runner.execution;

import dev.aireview.runner.model.LogStream;
import dev.aireview.runner.model.TaskPhase;

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
}

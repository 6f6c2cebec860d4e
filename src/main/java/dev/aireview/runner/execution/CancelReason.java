package dev.aireview.runner.execution;

import dev.aireview.runner.model.ErrorKind;

/** Why a running task is being stopped. */
public enum CancelReason {
    /** The server asked for it (heartbeat cancelTaskIds). */
    SERVER_CANCELLED(ErrorKind.CANCELLED),
    /** The server answered 409/410: the task is no longer this runner's. */
    TASK_GONE(ErrorKind.CANCELLED),
    /** The runner is shutting down and the drain grace period is over (or a second signal came). */
    RUNNER_SHUTDOWN(ErrorKind.RUNNER_SHUTDOWN),
    /** The wall-time budget ran out. */
    TIMEOUT(ErrorKind.TIMEOUT);

    private final ErrorKind errorKind;

    CancelReason(ErrorKind errorKind) {
        this.errorKind = errorKind;
    }

    public ErrorKind errorKind() {
        return errorKind;
    }
}

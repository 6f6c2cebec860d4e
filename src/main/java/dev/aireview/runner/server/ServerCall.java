package dev.aireview.runner.server;

/** The calls of the runner protocol (PROTOCOL.md "Calls"). */
public enum ServerCall {
    HEALTH(false), REGISTER(false), HEARTBEAT(false), POLL(false), STATUS(true), LOGS(true), RESULT(true);

    private final boolean taskCall;

    ServerCall(boolean taskCall) {
        this.taskCall = taskCall;
    }

    /** True for calls about one task ({@code /tasks/{id}/...}): there a 404 means the task is unknown. */
    public boolean taskCall() {
        return taskCall;
    }
}

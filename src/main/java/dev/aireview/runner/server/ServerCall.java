package dev.aireview.runner.server;

/**
 * The calls of the runner protocol (PROTOCOL.md "Calls"), with the most answer bytes the runner reads from each:
 * generous (a poll answer carries whole patches: 16 MiB; every other answer is small: 1 MiB), but explicit, so a
 * proxy or a broken server cannot make the runner buffer an unbounded body.
 */
public enum ServerCall {
    HEALTH(false, 1 << 20), REGISTER(false, 1 << 20), HEARTBEAT(false, 1 << 20), POLL(false, 16 << 20),
    STATUS(true, 1 << 20), LOGS(true, 1 << 20), RESULT(true, 1 << 20);

    private final boolean taskCall;
    private final int maxBodyBytes;

    ServerCall(boolean taskCall, int maxBodyBytes) {
        this.taskCall = taskCall;
        this.maxBodyBytes = maxBodyBytes;
    }

    /** True for calls about one task ({@code /tasks/{id}/...}): there a 404 means the task is unknown. */
    public boolean taskCall() {
        return taskCall;
    }

    /** The most bytes of this call's answer body the runner reads; the rest is cut off (see {@link CappedBody}). */
    public int maxBodyBytes() {
        return maxBodyBytes;
    }

    /** Lower-case name for messages, e.g. "poll". */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}

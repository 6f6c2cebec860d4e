package dev.aireview.runner.server;

/**
 * The calls of the runner protocol (PROTOCOL.md "Calls"), with the most answer bytes the runner reads from each:
 * generous but explicit, so a proxy or a broken server cannot make the runner read an unbounded body. Every
 * answer but the poll's is small and read into memory (1 MiB). A poll answer carries whole patches: it is
 * streamed, task by task, and only its tasks are kept ({@link TaskListScanner}: 16 MiB per task and per
 * answer), so its bound is on bytes scanned (256 MiB), not held.
 */
public enum ServerCall {
    HEALTH(false, 1 << 20), REGISTER(false, 1 << 20), HEARTBEAT(false, 1 << 20), POLL(false, 256 << 20),
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

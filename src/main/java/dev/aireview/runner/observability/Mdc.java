package dev.aireview.runner.observability;

/** MDC keys used in log lines (see LogSetup). */
public final class Mdc {
    /** The id of the task a log line belongs to. */
    public static final String TASK_ID = "taskId";

    private Mdc() {
    }
}

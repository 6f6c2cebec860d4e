package dev.aireview.runner.scheduler;

import dev.aireview.runner.execution.CancelSignal;
import dev.aireview.runner.execution.TaskContext;
import dev.aireview.runner.model.LogStream;
import dev.aireview.runner.model.TaskPhase;

import java.time.Duration;

/** The {@link TaskContext} the scheduler hands the executor for one task. */
final class TaskRun implements TaskContext {
    private final String taskId;
    private final CancelSignal cancel;
    private final Duration timeout;
    private final TaskReporter reporter;

    TaskRun(String taskId, CancelSignal cancel, Duration timeout, TaskReporter reporter) {
        this.taskId = taskId;
        this.cancel = cancel;
        this.timeout = timeout;
        this.reporter = reporter;
    }

    String taskId() {
        return taskId;
    }

    private volatile TaskPhase lastPhase;

    TaskReporter reporter() {
        return reporter;
    }

    @Override
    public void phase(TaskPhase phase, String message) {
        lastPhase = phase;
        reporter.phase(phase, message);
    }

    /** The last phase reported for the task (by the executor or the supervisor), or null. */
    TaskPhase lastPhase() {
        return lastPhase;
    }

    @Override
    public void log(LogStream stream, String line) {
        reporter.log(stream, line);
    }

    @Override
    public CancelSignal cancel() {
        return cancel;
    }

    @Override
    public Duration timeout() {
        return timeout;
    }
}

package dev.aireview.runner.scheduler;

import dev.aireview.runner.execution.CancelSignal;
import dev.aireview.runner.execution.TaskContext;
import dev.aireview.runner.model.LogStream;
import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/** The {@link TaskContext} the scheduler hands the executor for one task. */
final class TaskRun implements TaskContext {
    private static final Logger log = LoggerFactory.getLogger(TaskRun.class);
    private final String taskId;
    /** The outcome handed over: by {@link #report} before the executor's clean-up, or by {@code execute} returning. */
    private final CompletableFuture<TaskResult> handedOver = new CompletableFuture<>();
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

    @Override
    public void report(TaskResult result) {
        Objects.requireNonNull(result, "result");
        if (handedOver.complete(result)) {
            log.debug("task {}: result handed over before the executor's clean-up", taskId);
        } else {
            log.warn("task {}: the executor handed over a result again; ignored (the first one stands)", taskId);
        }
    }

    /** Completed with the first outcome: {@link #report}, or the executor's return (or throw), whichever comes first. */
    CompletableFuture<TaskResult> handedOver() {
        return handedOver;
    }
}

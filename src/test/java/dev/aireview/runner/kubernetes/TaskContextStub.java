package dev.aireview.runner.kubernetes;

import dev.aireview.runner.execution.CancelSignal;
import dev.aireview.runner.execution.TaskContext;
import dev.aireview.runner.model.LogStream;
import dev.aireview.runner.model.TaskPhase;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Records the phases and log lines the executor reports. */
final class TaskContextStub implements TaskContext {
    final List<TaskPhase> phases = new CopyOnWriteArrayList<>();
    final List<String> lines = new CopyOnWriteArrayList<>();
    /** Each phase with its message ({@code phase: message}). */
    final List<String> phaseMessages = new CopyOnWriteArrayList<>();
    private final CancelSignal cancel = new CancelSignal();
    private final Duration timeout;

    TaskContextStub(Duration timeout) {
        this.timeout = timeout;
    }

    @Override
    public void phase(TaskPhase phase, String message) {
        phases.add(phase);
        phaseMessages.add(phase.wire() + ": " + message);
    }

    @Override
    public void log(LogStream stream, String line) {
        lines.add(stream.wire() + ": " + line);
    }

    @Override
    public CancelSignal cancel() {
        return cancel;
    }

    @Override
    public Duration timeout() {
        return timeout;
    }

    boolean logged(String fragment) {
        return lines.stream().anyMatch(l -> l.contains(fragment));
    }
}

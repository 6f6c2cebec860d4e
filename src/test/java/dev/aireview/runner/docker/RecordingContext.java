package dev.aireview.runner.docker;

import dev.aireview.runner.execution.CancelSignal;
import dev.aireview.runner.execution.TaskContext;
import dev.aireview.runner.model.LogStream;
import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Predicate;

/** A TaskContext that records phases and log lines (bounded: beyond {@code keep} lines it only counts). */
final class RecordingContext implements TaskContext {
    final List<TaskPhase> phases = new CopyOnWriteArrayList<>();
    /** Every result handed over through {@link #report}, in order. */
    final List<TaskResult> reports = new CopyOnWriteArrayList<>();
    /** Runs on the executor's thread at each {@link #report} (e.g. to look at what is still there). */
    volatile Consumer<TaskResult> onReport = r -> { };
    /** Runs on the executor's thread at each {@link #phase} (e.g. to inspect the task's containers while it reviews). */
    volatile Consumer<TaskPhase> onPhase = p -> { };
    private final List<String> lines = new ArrayList<>();
    private final CancelSignal cancel = new CancelSignal();
    private final Duration timeout;
    private final int keep;
    private long count;
    private long bytes;
    private final Predicate<String> counted;
    private long countedLines;
    private int maxLength;

    RecordingContext(Duration timeout) {
        this(timeout, 10_000, s -> false);
    }

    RecordingContext(Duration timeout, int keep, Predicate<String> counted) {
        this.timeout = timeout;
        this.keep = keep;
        this.counted = counted;
    }

    @Override
    public void phase(TaskPhase phase, String message) {
        phases.add(phase);
        onPhase.accept(phase);
    }

    @Override
    public synchronized void log(LogStream stream, String line) {
        count++;
        bytes += line.length();
        maxLength = Math.max(maxLength, line.length());
        if (counted.test(line)) {
            countedLines++;
        } else if (lines.size() < keep) {
            lines.add(stream.wire() + ": " + line);
        }
    }

    synchronized List<String> lines() {
        return new ArrayList<>(lines);
    }

    synchronized boolean logged(String fragment) {
        return lines.stream().anyMatch(l -> l.contains(fragment));
    }

    synchronized long count() {
        return count;
    }

    synchronized long countedLines() {
        return countedLines;
    }

    synchronized int maxLength() {
        return maxLength;
    }

    @Override
    public void report(TaskResult result) {
        reports.add(result);
        onReport.accept(result);
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

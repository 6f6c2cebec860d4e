package dev.aireview.runner.observability;

import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.ResultStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** See {@link RunnerMetrics#guarded(RunnerMetrics)}. */
final class GuardedMetrics implements RunnerMetrics {
    private static final Logger log = LoggerFactory.getLogger(GuardedMetrics.class);

    private final RunnerMetrics delegate;
    private final Set<String> warned = ConcurrentHashMap.newKeySet();

    GuardedMetrics(RunnerMetrics delegate) {
        this.delegate = delegate;
    }

    private void run(String what, Runnable call) {
        try {
            call.run();
        } catch (RuntimeException | Error e) {
            if (warned.add(what)) {
                log.warn("recording metric '{}' failed (further failures of it are not logged): {}", what, e.toString());
            }
        }
    }

    @Override
    public void bind(Gauges gauges) {
        run("bind", () -> delegate.bind(gauges));
    }

    @Override
    public void poll(PollOutcome outcome) {
        run("poll", () -> delegate.poll(outcome));
    }

    @Override
    public void tasksClaimed(int count) {
        run("tasksClaimed", () -> delegate.tasksClaimed(count));
    }

    @Override
    public void taskStarted(Duration queued) {
        run("taskStarted", () -> delegate.taskStarted(queued));
    }

    @Override
    public void taskFinished(ResultStatus status, ErrorKind errorKind, Duration duration) {
        run("taskFinished", () -> delegate.taskFinished(status, errorKind, duration));
    }

    @Override
    public void heartbeatFailed() {
        run("heartbeatFailed", delegate::heartbeatFailed);
    }

    @Override
    public void resultRetry() {
        run("resultRetry", delegate::resultRetry);
    }

    @Override
    public void logLinesDropped(long lines) {
        run("logLinesDropped", () -> delegate.logLinesDropped(lines));
    }

    @Override
    public void threadDied(String thread) {
        run("threadDied", () -> delegate.threadDied(thread));
    }

    @Override
    public void executorEscalated(String step) {
        run("executorEscalated", () -> delegate.executorEscalated(step));
    }
}

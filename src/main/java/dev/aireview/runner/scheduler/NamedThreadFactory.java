package dev.aireview.runner.scheduler;

import dev.aireview.runner.observability.RunnerMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Threads named {@code <prefix>-<n>}, daemon, logging anything that escapes them and counting it as a death of
 * thread {@code <prefix>} in the metrics ({@code ai_review_runner_thread_deaths_total{thread="<prefix>"}}).
 */
public final class NamedThreadFactory implements ThreadFactory {
    private static final Logger log = LoggerFactory.getLogger(NamedThreadFactory.class);
    private final String prefix;
    private final RunnerMetrics metrics;
    private final AtomicInteger counter = new AtomicInteger();

    public NamedThreadFactory(String prefix) {
        this(prefix, RunnerMetrics.NOOP);
    }

    /** @param prefix the thread name's prefix and the {@code thread} label of its deaths (keep it free of task ids) */
    public NamedThreadFactory(String prefix, RunnerMetrics metrics) {
        this.prefix = prefix;
        this.metrics = metrics;
    }

    @Override
    public Thread newThread(Runnable r) {
        Thread t = new Thread(r, prefix + "-" + counter.incrementAndGet());
        t.setDaemon(true);
        t.setUncaughtExceptionHandler((th, e) -> {
            log.error("uncaught error in thread {}", th.getName(), e);
            metrics.threadDied(prefix);
        });
        return t;
    }
}

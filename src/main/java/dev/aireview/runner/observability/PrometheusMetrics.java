package dev.aireview.runner.observability;

import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.ResultStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * {@link RunnerMetrics} on a Micrometer {@link PrometheusMeterRegistry}; {@link #scrape()} is the body of
 * {@code GET /metrics}. Every metric is prefixed {@code ai_review_runner_} and carries the common label
 * {@code runner} (the runner name). Labels are bounded enums only: no task id, repository URL or secret.
 * docs/operations.md ("Metrics") lists every metric.
 */
public final class PrometheusMetrics implements RunnerMetrics {
    /** The content type of {@link #scrape()} (Prometheus text exposition format 0.0.4). */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    static final String PREFIX = "ai.review.runner.";

    private static final Duration[] TASK_BUCKETS = {
            Duration.ofSeconds(5), Duration.ofSeconds(15), Duration.ofSeconds(30), Duration.ofMinutes(1),
            Duration.ofMinutes(2), Duration.ofMinutes(5), Duration.ofMinutes(10), Duration.ofMinutes(20)};
    private static final Duration[] QUEUE_BUCKETS = {
            Duration.ofMillis(10), Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(1),
            Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofMinutes(2)};

    private final PrometheusMeterRegistry registry;
    private final Counter claimed;
    private final Map<PollOutcome, Counter> polls = new EnumMap<>(PollOutcome.class);
    private final Timer queue;
    private final Counter heartbeatFailures;
    private final Counter resultRetries;
    private final Counter logLinesDropped;

    public PrometheusMetrics(String runnerName) {
        Objects.requireNonNull(runnerName, "runnerName");
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config().commonTags("runner", runnerName);
        claimed = Counter.builder(PREFIX + "tasks.claimed").description("Tasks the server handed to this runner")
                .register(registry);
        for (PollOutcome o : PollOutcome.values()) {
            polls.put(o, Counter.builder(PREFIX + "polls").description("Polls for tasks, by outcome (tasks, empty, error)")
                    .tag("outcome", o.label()).register(registry));
        }
        queue = Timer.builder(PREFIX + "task.queue").description("Time from a task's claim to its executor start")
                .serviceLevelObjectives(QUEUE_BUCKETS).register(registry);
        heartbeatFailures = Counter.builder(PREFIX + "heartbeat.failures").description("Heartbeats that failed")
                .register(registry);
        resultRetries = Counter.builder(PREFIX + "result.retries")
                .description("Result delivery attempts that failed and were retried").register(registry);
        logLinesDropped = Counter.builder(PREFIX + "log.lines.dropped")
                .description("Task output lines dropped by the per-task log cap (RUNNER_LOG_LIMIT_BYTES)").register(registry);
        // the long-lived threads and both escalation steps are there at zero from the start (so increase() alerts work)
        for (String thread : new String[]{"poll-loop", "heartbeat", "task-worker"}) {
            threadDeaths(thread);
        }
        escalations("kill");
        escalations("stuck");
    }

    private Counter threadDeaths(String thread) {
        return Counter.builder(PREFIX + "thread.deaths")
                .description("Unexpected errors that escaped a runner thread (the thread died or its loop resumed), by thread")
                .tag("thread", thread == null ? "unknown" : thread).register(registry);
    }

    private Counter escalations(String step) {
        return Counter.builder(PREFIX + "executor.escalations")
                .description("Cancelled executors that did not stop in time: kill = killed, stuck = still running after the kill")
                .tag("step", step == null ? "unknown" : step).register(registry);
    }

    /** Registers the gauges; they hold {@code g} strongly (Micrometer's default weak reference would read NaN after a GC). */
    @Override
    public void bind(Gauges g) {
        Gauge.builder(PREFIX + "slots.max", g, x -> x.maxSlots()).description("Task slots (RUNNER_MAX_CONCURRENT_JOBS)")
                .strongReference(true).register(registry);
        Gauge.builder(PREFIX + "tasks.active", g, x -> x.activeTasks().getAsInt()).description("Tasks running now")
                .strongReference(true).register(registry);
        Gauge.builder(PREFIX + "slots.free", g, x -> x.freeSlots().getAsInt()).description("Slots not taken by a running task")
                .strongReference(true).register(registry);
        Gauge.builder(PREFIX + "seconds.since.last.heartbeat", g, x -> x.secondsSinceHeartbeat().getAsDouble())
                .description("Seconds since the last heartbeat the server accepted (since start before the first one)")
                .strongReference(true).register(registry);
        Gauge.builder(PREFIX + "leftover.reports.pending", g, x -> x.leftoverReportsPending().getAsInt())
                .description("Reports of tasks an earlier process left owing a result, still being sent (undelivered ones "
                        + "stay in the claim journal for the next start)").strongReference(true).register(registry);
        if (g.pooledContainersReady() != null) {
            Gauge.builder(PREFIX + "pool.containers.ready", g, x -> x.pooledContainersReady().getAsInt())
                    .description("Pre-warmed containers ready to take a task").strongReference(true).register(registry);
        }
    }

    @Override
    public void poll(PollOutcome outcome) {
        polls.get(outcome).increment();
    }

    @Override
    public void tasksClaimed(int count) {
        if (count > 0) {
            claimed.increment(count);
        }
    }

    @Override
    public void taskStarted(Duration queued) {
        queue.record(Math.max(0, queued.toNanos()), TimeUnit.NANOSECONDS);
    }

    @Override
    public void taskFinished(ResultStatus status, ErrorKind errorKind, Duration duration) {
        String s = status == null ? "unknown" : status.wire();
        Counter.builder(PREFIX + "task.results").description("Task results, by status and error kind (none when completed)")
                .tag("status", s).tag("error_kind", errorKind == null ? "none" : errorKind.wire())
                .register(registry).increment();
        Timer.builder(PREFIX + "task.duration").description("Task run time from executor start to result, by status")
                .tag("status", s).serviceLevelObjectives(TASK_BUCKETS).register(registry)
                .record(Math.max(0, duration.toNanos()), TimeUnit.NANOSECONDS);
    }

    @Override
    public void heartbeatFailed() {
        heartbeatFailures.increment();
    }

    @Override
    public void resultRetry() {
        resultRetries.increment();
    }

    @Override
    public void logLinesDropped(long lines) {
        if (lines > 0) {
            logLinesDropped.increment(lines);
        }
    }

    @Override
    public void threadDied(String thread) {
        threadDeaths(thread).increment();
    }

    @Override
    public void executorEscalated(String step) {
        escalations(step).increment();
    }

    /** The Prometheus text exposition of every metric ({@link #CONTENT_TYPE}). */
    public String scrape() {
        return registry.scrape();
    }
}

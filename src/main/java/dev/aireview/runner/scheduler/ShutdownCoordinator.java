package dev.aireview.runner.scheduler;

import dev.aireview.runner.config.RunnerConfig;
import dev.aireview.runner.execution.CancelReason;
import dev.aireview.runner.execution.TaskExecutor;
import dev.aireview.runner.server.Heartbeat;
import dev.aireview.runner.server.RunnerStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The stop of a {@link RunnerDaemon}, as named steps run one after the other, each on its own thread under its own
 * deadline: a step that hangs (a final heartbeat whose answer stalls, an executor close stuck in a Docker call) is
 * logged, interrupted and left behind, and the next step runs, so the process always exits.
 *
 * <ol>
 *   <li>{@value #STOP_CLAIMING}: announce {@code draining}; no new poll; an in-flight poll is <em>not</em>
 *       interrupted (the server may already have handed its tasks over) but finishes within its own deadline, and
 *       what it brings is taken over like any claim: run while draining, reported {@code runner_shutdown} once
 *       cancelling;</li>
 *   <li>{@value #DRAIN} (only when stopping gracefully): running tasks may finish within {@code RUNNER_SHUTDOWN_GRACE_MS},
 *       unless a second stop request comes;</li>
 *   <li>{@value #CANCEL}: state {@code cancelling}; every remaining task, and every one still handed over, is cancelled
 *       with {@code runner_shutdown}; the supervisors stop, kill and report them (cancel grace, twice: stop, then kill);</li>
 *   <li>{@value #FLUSH_RESULTS}: results still being retried get the result grace, then delivery gives up;</li>
 *   <li>{@value #GO_OFFLINE}: the heartbeat stops and one {@code offline} heartbeat is sent;</li>
 *   <li>{@value #CLOSE_EXECUTOR}: the executor releases what it holds (pre-warmed containers, clients).</li>
 * </ol>
 * Then the state is {@code stopped}.
 */
final class ShutdownCoordinator {
    private static final Logger log = LoggerFactory.getLogger(ShutdownCoordinator.class);

    static final String STOP_CLAIMING = "stop claiming";
    static final String DRAIN = "drain";
    static final String CANCEL = "cancel";
    static final String FLUSH_RESULTS = "flush results";
    static final String GO_OFFLINE = "go offline";
    static final String CLOSE_EXECUTOR = "close executor";

    /** Extra time every step's deadline allows over the waits it makes itself. */
    private static final Duration SLACK = Duration.ofSeconds(5);
    /** How long the executor may take to close (it removes pooled containers). */
    static final Duration CLOSE_EXECUTOR_DEADLINE = Duration.ofSeconds(90);

    /** How one step ended. */
    enum Outcome { DONE, SKIPPED, FAILED, TIMED_OUT }

    record StepReport(String step, Outcome outcome, long millis) {
    }

    @FunctionalInterface
    interface StepBody {
        /** Runs the step; returns false when it had nothing to do (reported {@link Outcome#SKIPPED}). */
        boolean run() throws Exception;
    }

    private final Lifecycle lifecycle;
    private final RunnerConfig config;
    private final SchedulerSettings settings;
    private final PollLoop pollLoop;
    private final Heartbeater heartbeater;
    private final ActiveTasks active;
    private final SlotPool slots;
    private final TaskExecutor executor;
    private final ExecutorService workers;
    private final Map<String, Duration> deadlineOverrides = new LinkedHashMap<>();
    private volatile boolean resultsGiveUp;
    private volatile List<StepReport> reports = List.of();

    ShutdownCoordinator(Lifecycle lifecycle, RunnerConfig config, SchedulerSettings settings, PollLoop pollLoop,
                        Heartbeater heartbeater, ActiveTasks active, SlotPool slots, TaskExecutor executor,
                        ExecutorService workers) {
        this.lifecycle = lifecycle;
        this.config = config;
        this.settings = settings;
        this.pollLoop = pollLoop;
        this.heartbeater = heartbeater;
        this.active = active;
        this.slots = slots;
        this.executor = executor;
        this.workers = workers;
    }

    /** False once the flush step's grace is over: result deliveries stop retrying. */
    boolean resultsMayRetry() {
        return !resultsGiveUp;
    }

    /** A test seam: another deadline for one step. */
    void overrideDeadline(String step, Duration deadline) {
        deadlineOverrides.put(step, deadline);
    }

    /** How each step of the last {@link #run()} ended. */
    List<StepReport> reports() {
        return reports;
    }

    /** Runs every step (on the calling thread, each step body on its own) and ends in {@code stopped}. */
    void run() {
        boolean wasRunning = lifecycle.wasRunning();
        Duration cancelPhase = settings.cancelGrace().multipliedBy(2).plus(settings.logFlushTimeout());
        List<StepReport> done = new ArrayList<>();
        log.info("stopping: no new tasks will be claimed");
        done.add(step(STOP_CLAIMING, config.pollTimeout().plus(config.requestTimeout()).plus(SLACK), () -> {
            if (!wasRunning) {
                return false;
            }
            heartbeater.beatNow();
            pollLoop.stop();
            if (!pollLoop.awaitHandedOver(config.pollTimeout().plus(config.requestTimeout()))) {
                log.warn("the last poll has not ended; tasks it may bring are still taken over when it does");
            }
            return true;
        }));
        done.add(step(DRAIN, config.shutdownGrace().plus(SLACK), () -> {
            if (lifecycle.current() != RunnerState.DRAINING || active.size() == 0 && slots.inUse() == 0) {
                return false;
            }
            log.info("draining: waiting up to {} ms for {} task(s) {}", config.shutdownGrace().toMillis(), active.size(), active.ids());
            long deadline = System.nanoTime() + config.shutdownGrace().toNanos();
            boolean idle = active.awaitEmpty(config.shutdownGrace(), () -> lifecycle.current() != RunnerState.DRAINING)
                    && slots.awaitIdle(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())),
                    () -> lifecycle.current() != RunnerState.DRAINING);
            if (!idle) {
                log.warn("{}: cancelling {} task(s) {}", lifecycle.current() == RunnerState.DRAINING
                        ? "shutdown grace period over" : "stop forced", active.size(), active.ids());
            }
            return true;
        }));
        done.add(step(CANCEL, cancelPhase.plus(SLACK), () -> {
            lifecycle.moveTo(RunnerState.CANCELLING);
            active.cancelAllFromNowOn(CancelReason.RUNNER_SHUTDOWN);
            slots.wakeUp();
            if (active.size() == 0) {
                return false;
            }
            if (!active.awaitEmpty(cancelPhase, () -> false)) {
                log.warn("tasks still reporting: {}; results are retried for up to {} ms more", active.ids(),
                        settings.resultGrace().toMillis());
            }
            return true;
        }));
        done.add(step(FLUSH_RESULTS, settings.resultGrace().plus(SLACK).plus(SLACK), () -> {
            if (active.size() == 0 && slots.inUse() == 0) {
                return false;
            }
            if (!active.awaitEmpty(settings.resultGrace(), () -> false)) {
                resultsGiveUp = true;
                log.error("giving up on {} task(s) still reporting: {}", active.size(), active.ids());
                active.awaitEmpty(SLACK, () -> false);
            }
            if (!slots.awaitIdle(SLACK, () -> false)) {
                log.error("{} slot(s) still held by executors that have not returned; their tasks are reported", slots.inUse());
            }
            return true;
        }));
        done.add(step(GO_OFFLINE, config.requestTimeout().plus(Heartbeater.IN_FLIGHT_WAIT).plus(SLACK).plus(SLACK), () -> {
            heartbeater.stop();
            if (!wasRunning) {
                return false;
            }
            heartbeater.sendFinal(new Heartbeat(RunnerStatus.OFFLINE, 0, config.maxConcurrentJobs(), List.of()));
            return true;
        }));
        done.add(step(CLOSE_EXECUTOR, CLOSE_EXECUTOR_DEADLINE, () -> {
            executor.close();
            return true;
        }));
        workers.shutdown();
        try {
            if (!workers.awaitTermination(1, TimeUnit.SECONDS)) {
                log.warn("task workers still busy at exit");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        reports = List.copyOf(done);
        lifecycle.moveTo(RunnerState.STOPPED);
        log.info("runner stopped");
    }

    private StepReport step(String name, Duration defaultDeadline, StepBody body) {
        Duration deadline = deadlineOverrides.getOrDefault(name, defaultDeadline);
        long t0 = System.nanoTime();
        AtomicReference<Outcome> outcome = new AtomicReference<>(Outcome.FAILED);
        Thread t = new Thread(() -> {
            try {
                outcome.set(body.run() ? Outcome.DONE : Outcome.SKIPPED);
            } catch (InterruptedException e) {
                log.warn("shutdown step '{}' interrupted", name);
            } catch (Throwable e) {
                log.error("shutdown step '{}' failed", name, e);
            }
        }, "shutdown-" + name.replace(' ', '-'));
        t.setDaemon(true);
        t.start();
        try {
            t.join(Math.max(1, deadline.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        Outcome result;
        if (t.isAlive()) {
            t.interrupt();
            result = Outcome.TIMED_OUT;
            log.error("shutdown step '{}' did not finish within {} ms; going on without it", name, deadline.toMillis());
        } else {
            result = outcome.get();
            log.info("shutdown step '{}': {} in {} ms", name, result.name().toLowerCase(), ms);
        }
        return new StepReport(name, result, ms);
    }
}

package dev.aireview.runner.scheduler;

import dev.aireview.runner.execution.CancelReason;
import dev.aireview.runner.execution.CancelSignal;
import dev.aireview.runner.execution.TaskExecutor;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.RepositoryUrl;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskError;
import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.model.TaskStats;
import dev.aireview.runner.observability.Mdc;
import dev.aireview.runner.observability.RunnerMetrics;
import dev.aireview.runner.observability.SecretMasker;
import dev.aireview.runner.observability.Secrets;
import dev.aireview.runner.server.ClaimedTask;
import dev.aireview.runner.server.ServerClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Runs one claimed task on a worker thread and guarantees it ends with exactly one result call:
 * <ul>
 *   <li>bad task JSON → {@code failed/bad_task} (the executor is not called);</li>
 *   <li>executor returns → its result (a cancelled result gets the kind of the cancel reason);</li>
 *   <li>executor hands its result over first ({@link dev.aireview.runner.execution.TaskContext#report}) → that result,
 *       sent at once while the executor cleans up; what {@code execute} then returns or throws, and a second report,
 *       are ignored;</li>
 *   <li>executor throws → {@code failed/executor_failed} (or the cancel reason's kind when it was cancelled);</li>
 *   <li>executor still running at timeout + margin → cancel(TIMEOUT);</li>
 *   <li>a cancelled executor (timeout, server, 409/410, shutdown) not returning within the cancel grace is escalated:
 *       {@link CancelSignal#kill} (from a helper thread, so a hung kill cannot hold this one), then one more cancel
 *       grace; still running → the task is reported with the reason's kind ({@code timed_out}, {@code cancelled},
 *       {@code runner_shutdown}).</li>
 * </ul>
 * The executor's thread is never interrupted nor abandoned: the task's {@link SlotPermit} is released only once the
 * result is sent <em>and</em> {@code execute} has returned (its container is gone), so a stuck executor keeps its
 * slot (counted as {@code stuck} in the metrics) instead of a second container taking it.
 * Logs are flushed before the result is sent; the result's texts are masked at the boundary (MaskingServerClient); {@code durationMs} and
 * {@code queueToStartMs} (from the claim) are added.
 */
final class TaskSupervisor {
    private static final Logger log = LoggerFactory.getLogger(TaskSupervisor.class);

    private final TaskExecutor executor;
    private final ServerClient client;
    private final Supplier<String> runnerId;
    private final ActiveTasks active;
    private final ResultSender results;
    private final SchedulerSettings settings;
    private final Duration maxTaskTime;
    private final long logLimitBytes;
    private final SecretMasker baseMasker;
    private final Clock clock;
    private final RunnerMetrics metrics;
    private final NamedThreadFactory execThreads;
    private final NamedThreadFactory killThreads;

    /**
     * What {@link #execute} ended with; {@code stillRunning} completes when the executor returns, null when it had
     * returned already; {@code stuck}: it did not stop in time (otherwise it is cleaning up after handing its result over).
     */
    private record Execution(TaskResult result, CompletableFuture<?> stillRunning, boolean stuck) {
    }

    TaskSupervisor(TaskExecutor executor, ServerClient client, Supplier<String> runnerId, ActiveTasks active,
                   ResultSender results, SchedulerSettings settings, Duration maxTaskTime, long logLimitBytes,
                   SecretMasker baseMasker, RunnerMetrics metrics) {
        this.metrics = metrics;
        this.executor = executor;
        this.client = client;
        this.runnerId = runnerId;
        this.active = active;
        this.results = results;
        this.settings = settings;
        this.maxTaskTime = maxTaskTime;
        this.logLimitBytes = logLimitBytes;
        this.baseMasker = baseMasker;
        this.clock = settings.clock();
        this.execThreads = new NamedThreadFactory("task-exec", metrics);
        this.killThreads = new NamedThreadFactory("task-kill", metrics);
    }

    /** Effective timeout: DOCKER_TIMEOUT_SECONDS, lowered (never raised) by the task's timeoutSeconds. */
    static Duration effectiveTimeout(Duration max, Integer taskSeconds) {
        if (taskSeconds == null || taskSeconds <= 0) {
            return max;
        }
        Duration t = Duration.ofSeconds(taskSeconds);
        return t.compareTo(max) < 0 ? t : max;
    }

    /**
     * Runs the task, taken over with {@code cancel} ({@link ActiveTasks#admit}), to its one result, and releases
     * {@code permit} (null: the task got no slot, it was cancelled while waiting) once the executor has returned.
     * A task cancelled before it starts does not reach the executor.
     */
    ResultSender.Delivery run(ClaimedTask claimed, CancelSignal cancel, SlotPermit permit) {
        String taskId = claimed.id();
        MDC.put(Mdc.TASK_ID, taskId);
        Instant start = clock.instant();
        long startNanos = System.nanoTime();
        long queueToStart = Math.max(0, Duration.between(claimed.claimedAt(), start).toMillis());
        List<String> secrets = claimed.isBad() ? List.of() : claimed.task().secrets();
        Secrets.registerAll(secrets);
        SecretMasker masker = baseMasker.with(secrets);
        TaskRun run = null;
        TaskLog taskLog = null;
        TaskResult result;
        CompletableFuture<?> stillRunning = null;
        boolean stuck = false;
        try {
            if (claimed.isBad()) {
                log.warn("task {} cannot be run: {}", taskId, claimed.parseError());
                result = TaskResult.failure(ErrorKind.BAD_TASK, claimed.parseError());
            } else {
                ReviewTask task = claimed.task();
                taskLog = new TaskLog(logLimitBytes, masker, clock);
                TaskReporter reporter = new TaskReporter(client, runnerId, taskId, taskLog, cancel, settings.reportBackoff(),
                        settings.sleeper(), settings.logFlushInterval(), settings.logBatchBytes(), settings.reportAttempts());
                run = new TaskRun(taskId, cancel, effectiveTimeout(maxTaskTime, task.timeoutSeconds()), reporter);
                reporter.start();
                if (!cancel.isCancelled()) {
                    metrics.taskStarted(Duration.ofMillis(queueToStart));
                    log.info("task {} started (repository {}, timeout {} s, waited {} ms since claim)", taskId,
                            task.repository() == null ? "?" : RepositoryUrl.redact(task.repository().url()), run.timeout().toSeconds(), queueToStart);
                }
                Execution execution = execute(task, run);
                result = execution.result();
                stillRunning = execution.stillRunning();
                stuck = execution.stuck();
                if (!run.cancel().isCancelled() && run.lastPhase() != TaskPhase.SUBMITTING) {
                    // the executor may have reported it already (the Docker executor does, when judging the outcome)
                    run.phase(TaskPhase.SUBMITTING, "sending the result");
                }
            }
        } catch (Throwable t) {
            log.error("task {}: unexpected runner error", taskId, t);
            result = TaskResult.failure(ErrorKind.EXECUTOR_FAILED, "runner error: " + t);
        }
        try {
            if (run != null) {
                try {
                    run.reporter().finish(settings.logFlushTimeout());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            long duration = Math.max(0, (System.nanoTime() - startNanos) / 1_000_000);
            TaskResult finalResult = finish(result, duration, queueToStart);
            if (taskLog != null) {
                metrics.logLinesDropped(taskLog.droppedLines());
            }
            metrics.taskFinished(finalResult.status(), finalResult.error() == null ? null : finalResult.error().kind(),
                    Duration.ofMillis(duration));
            return results.deliver(taskId, finalResult);
        } finally {
            active.finish(taskId);
            if (stillRunning != null && !stuck) {
                log.info("task {}: result sent; the executor is still cleaning up, its slot stays taken until it is done", taskId);
            }
            if (permit != null) {
                if (stillRunning == null) {
                    permit.release();
                } else {
                    boolean wasStuck = stuck;
                    long sentNanos = System.nanoTime();
                    stillRunning.whenComplete((r, t) -> {
                        if (wasStuck) {
                            log.warn("task {}: the stuck executor returned at last; its slot is free again", taskId);
                        } else {
                            log.info("task {}: clean-up done {} ms after the result was sent; its slot is free again", taskId,
                                    (System.nanoTime() - sentNanos) / 1_000_000);
                        }
                        permit.release();
                    });
                }
            }
            if (stillRunning == null) {
                Secrets.unregisterAll(secrets);
            } else {
                // the executor may still log the task's secrets: keep masking them until it returns
                List<String> held = secrets;
                stillRunning.whenComplete((r, t) -> Secrets.unregisterAll(held));
            }
            MDC.remove(Mdc.TASK_ID);
        }
    }

    private Execution execute(ReviewTask task, TaskRun run) {
        CancelSignal cancel = run.cancel();
        if (cancel.isCancelled()) {
            return new Execution(TaskResult.failure(cancel.reason().errorKind(),
                    "task cancelled before it started (" + describe(cancel.reason()) + ")"), null, false);
        }
        // the first of: the executor's report (before its clean-up), its return, its throw
        CompletableFuture<TaskResult> outcome = run.handedOver();
        CompletableFuture<Void> returned = new CompletableFuture<>();
        CompletableFuture<Void> cancelled = new CompletableFuture<>();
        cancel.onCancel(() -> cancelled.complete(null));
        String mdcTask = task.id();
        Thread worker = execThreads.newThread(() -> {
            MDC.put(Mdc.TASK_ID, mdcTask);
            try {
                TaskResult r = executor.execute(task, run);
                if (!outcome.complete(r) && r != outcome.getNow(null)) {
                    log.debug("task {}: the executor returned another result than it handed over; the one handed over stands", mdcTask);
                }
            } catch (Throwable t) {
                if (!outcome.completeExceptionally(t)) {
                    log.warn("task {}: the executor failed after handing its result over (the result stands): {}", mdcTask, t.toString());
                }
            } finally {
                returned.complete(null);
                MDC.remove(Mdc.TASK_ID);
            }
        });
        worker.setName("task-exec-" + task.id());
        worker.start();

        long deadline = System.nanoTime() + run.timeout().plus(settings.timeoutMargin()).toNanos();
        try {
            // wait for the executor, the task's deadline or a cancel, whichever first
            while (!outcome.isDone() && !cancel.isCancelled()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    log.warn("task {} still running {} after its time limit of {} s; cancelling it",
                            task.id(), settings.timeoutMargin(), run.timeout().toSeconds());
                    cancel.cancel(CancelReason.TIMEOUT);
                    break;
                }
                awaitQuietly(CompletableFuture.anyOf(outcome, cancelled), left);
            }
            if (!outcome.isDone() && !awaitQuietly(outcome, settings.cancelGrace().toNanos())) {
                CancelReason reason = cancel.reason();
                log.warn("task {}: executor did not stop within {} after {}; killing it", task.id(), settings.cancelGrace(),
                        describe(reason));
                metrics.executorEscalated("kill");
                Thread killer = killThreads.newThread(() -> cancel.kill(reason));
                killer.setName("task-kill-" + task.id());
                killer.start();
                if (!awaitQuietly(outcome, settings.cancelGrace().toNanos())) {
                    log.error("task {}: executor still running {} after the kill; reporting the task, its slot stays taken "
                            + "until the executor returns", task.id(), settings.cancelGrace());
                    metrics.executorEscalated("stuck");
                    return new Execution(stuckResult(run, reason), returned, true);
                }
            }
        } catch (InterruptedException e) {
            // the supervisor itself is told to stop: stop the task, report it, keep its slot until it returns
            Thread.currentThread().interrupt();
            cancel.cancel(CancelReason.RUNNER_SHUTDOWN);
            if (!outcome.isDone()) {
                return new Execution(stuckResult(run, cancel.reason()), returned, true);
            }
        }
        // handed over but not returned: the executor is cleaning up; the slot waits for it, the result does not
        return new Execution(fromOutcome(outcome, cancel), returned.isDone() ? null : returned, false);
    }

    private static TaskResult stuckResult(TaskRun run, CancelReason reason) {
        return TaskResult.failure(reason.errorKind(), reason == CancelReason.TIMEOUT
                ? "task exceeded its time limit of " + run.timeout().toSeconds() + " s and did not stop"
                : "task " + describe(reason) + "; the executor did not stop in time");
    }

    /** Waits up to {@code nanos} for {@code f}; true when it completed (normally or not). */
    private static boolean awaitQuietly(CompletableFuture<?> f, long nanos) throws InterruptedException {
        try {
            f.get(Math.max(1, nanos), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException ignored) {
            // completed exceptionally: done
        }
        return true;
    }

    private static TaskResult fromOutcome(CompletableFuture<TaskResult> outcome, CancelSignal cancel) {
        CancelReason reason = cancel.reason();
        TaskResult result;
        try {
            result = outcome.join();
        } catch (Exception e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            if (reason != null) {
                return TaskResult.failure(reason.errorKind(), "task " + describe(reason) + " (" + cause + ")");
            }
            log.warn("executor failed: {}", cause.toString());
            return TaskResult.failure(ErrorKind.EXECUTOR_FAILED, "executor failed: " + cause);
        }
        if (result == null) {
            return TaskResult.failure(reason != null ? reason.errorKind() : ErrorKind.EXECUTOR_FAILED, "executor returned no result");
        }
        if (reason != null && result.status() == ResultStatus.CANCELLED) {
            // the executor stopped because of our signal: report why it was stopped
            String message = result.error() != null && result.error().message() != null ? result.error().message() : "task " + describe(reason);
            return TaskResult.failure(reason.errorKind(), message).withStats(result.stats());
        }
        return result;
    }

    private static String describe(CancelReason reason) {
        if (reason == null) {
            return "stopped";
        }
        return switch (reason) {
            case SERVER_CANCELLED -> "cancelled by the server";
            case TASK_GONE -> "no longer assigned to this runner";
            case RUNNER_SHUTDOWN -> "cancelled because the runner is shutting down";
            case TIMEOUT -> "timed out";
        };
    }

    /**
     * Stats and status/error consistency. Its texts are masked at the boundary ({@code MaskingServerClient}): the
     * result is delivered while the task's secrets are registered.
     */
    private static TaskResult finish(TaskResult r, long durationMs, long queueToStartMs) {
        TaskStats stats = (r.stats() == null ? TaskStats.EMPTY : r.stats()).withDuration(durationMs, queueToStartMs);
        TaskError error = r.error();
        if (r.status() == ResultStatus.COMPLETED) {
            error = null;
        } else if (error == null || error.kind() == null) {
            ErrorKind kind = switch (r.status()) {
                case TIMED_OUT -> ErrorKind.TIMEOUT;
                case CANCELLED -> ErrorKind.CANCELLED;
                default -> ErrorKind.EXECUTOR_FAILED;
            };
            error = new TaskError(kind, error == null ? null : error.message());
        }
        if (error != null && error.message() == null) {
            error = new TaskError(error.kind(), error.kind().wire());
        }
        return new TaskResult(r.status(), r.summary(), r.comments(), error, stats);
    }
}

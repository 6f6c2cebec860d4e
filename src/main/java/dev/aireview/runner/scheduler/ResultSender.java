package dev.aireview.runner.scheduler;

import dev.aireview.runner.execution.ClaimJournal;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.observability.RunnerMetrics;
import dev.aireview.runner.server.Backoff;
import dev.aireview.runner.server.ErrorClass;
import dev.aireview.runner.server.Retrier;
import dev.aireview.runner.server.ServerClient;
import dev.aireview.runner.server.Sleeper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.BooleanSupplier;

/**
 * Delivers a task's one result through the {@link Retrier}, until the server takes it: an outage of minutes
 * delays a result, it does not lose it. A 404 saying the server does not know the <em>runner</em> registers again
 * and retries; a 413 (too large) sends a small {@code failed/executor_failed} result instead, so the task still
 * ends; a redirect (3xx, never followed) is retried like an outage; only a 404/409/410 for the task (it is no longer
 * this runner's) drops it, and another 400-class rejection ends this delivery with a log line; a runner past its
 * final shutdown deadline gives up.
 *
 * <p>It also closes the task's entry in the {@link ClaimJournal}: only once the result is delivered or the server has
 * said the task is not this runner's (404/409/410) is the entry removed. A rejected or abandoned delivery (another
 * 4xx, the runner stopped first, or was interrupted) keeps it: the server never got a result, so the next start
 * reports {@code failed/runner_shutdown}.
 */
final class ResultSender {
    private static final Logger log = LoggerFactory.getLogger(ResultSender.class);

    /** How a delivery ended ({@code TOO_LARGE} only inside: {@link #deliver} turns it into a small result). */
    enum Delivery { DELIVERED, DROPPED, REJECTED, ABANDONED, TOO_LARGE }

    private final ServerClient client;
    private final RunnerRegistrar registrar;
    private final Retrier retrier;
    private final BooleanSupplier keepTrying;
    private final RunnerMetrics metrics;
    private final ClaimJournal journal;

    ResultSender(ServerClient client, RunnerRegistrar registrar, Backoff backoff, Sleeper sleeper, BooleanSupplier keepTrying) {
        this(client, registrar, backoff, sleeper, keepTrying, RunnerMetrics.NOOP, ClaimJournal.NONE);
    }

    ResultSender(ServerClient client, RunnerRegistrar registrar, Backoff backoff, Sleeper sleeper, BooleanSupplier keepTrying,
                 RunnerMetrics metrics, ClaimJournal journal) {
        this.metrics = metrics;
        this.journal = journal;
        this.client = client;
        this.registrar = registrar;
        this.retrier = new Retrier(backoff, sleeper);
        this.keepTrying = keepTrying;
    }

    Delivery deliver(String taskId, TaskResult result) {
        return deliver(taskId, result, 0, keepTrying);
    }

    /**
     * Delivers with at most {@code maxAttempts} attempts (0: no bound) while {@code keepGoing} (and the runner's own
     * condition) holds; a delivery that runs out of either is {@link Delivery#ABANDONED} and keeps its journal entry.
     */
    Delivery deliver(String taskId, TaskResult result, int maxAttempts, BooleanSupplier keepGoing) {
        BooleanSupplier both = keepGoing == keepTrying ? keepTrying : () -> keepTrying.getAsBoolean() && keepGoing.getAsBoolean();
        Delivery d = deliverTo(taskId, result, maxAttempts, both);
        if (d == Delivery.DELIVERED || d == Delivery.DROPPED) {
            journal.remove(taskId);
        }
        return d;
    }

    private Delivery deliverTo(String taskId, TaskResult result, int maxAttempts, BooleanSupplier keepGoing) {
        Delivery d = deliverOnce(taskId, result, maxAttempts, keepGoing);
        if (d == Delivery.TOO_LARGE) {
            // PROTOCOL.md: the task still ends, with a small result saying why the real one is missing
            TaskResult small = TaskResult.failure(ErrorKind.EXECUTOR_FAILED, "the server refused the result as too large (HTTP 413; "
                    + result.comments().size() + " comment(s), summary of " + (result.summary() == null ? 0 : result.summary().length())
                    + " chars); it was not delivered").withStats(result.stats());
            log.warn("task {} result too large for the server (HTTP 413); sending a failed/executor_failed result instead", taskId);
            d = deliverOnce(taskId, small, maxAttempts, keepGoing);
            return d == Delivery.TOO_LARGE ? Delivery.REJECTED : d;
        }
        return d;
    }

    private Delivery deliverOnce(String taskId, TaskResult result, int maxAttempts, BooleanSupplier keepGoing) {
        Retrier.Policy policy = Retrier.policy("task " + taskId + " result")
                .retry(ErrorClass.RETRYABLE, ErrorClass.UNAUTHORIZED)
                .recover(ErrorClass.REREGISTER, e -> registrar.reRegister("the result call answered HTTP " + e.httpStatus()
                        + " for the runner"))
                .keepGoing(keepGoing)
                .onRetry(e -> metrics.resultRetry());
        if (maxAttempts > 0) {
            policy = policy.maxAttempts(maxAttempts);
        }
        Retrier.Outcome<Void> out;
        try {
            out = retrier.run(policy, () -> {
                client.result(registrar.runnerId(), taskId, result);
                return null;
            });
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            log.error("task {} result delivery interrupted; giving up", taskId);
            return Delivery.ABANDONED;
        }
        if (out.ok()) {
            log.info("task {} result delivered: {}{}{}", taskId, result.status().wire(),
                    result.error() == null ? "" : "/" + result.error().kind().wire(),
                    out.failures() == 0 ? "" : " (after " + out.failures() + " failed attempt(s))");
            return Delivery.DELIVERED;
        }
        if (out.stop() == Retrier.Stop.TERMINAL && out.failure().errorClass() == ErrorClass.TASK_GONE) {
            log.warn("task {} result dropped: the server answered HTTP {} (the task is no longer this runner's)", taskId,
                    out.failure().httpStatus());
            return Delivery.DROPPED;
        }
        if (out.stop() == Retrier.Stop.TERMINAL && out.failure().httpStatus() == 413) {
            return Delivery.TOO_LARGE;
        }
        if (out.stop() == Retrier.Stop.TERMINAL) {
            log.error("task {} result not delivered: the server rejected it ({}); the task stays in the claim journal and is "
                    + "reported failed/runner_shutdown at the next start", taskId, out.failure().getMessage());
            return Delivery.REJECTED;
        }
        log.error("task {} result could not be delivered {} ({}); giving up", taskId,
                out.stop() == Retrier.Stop.ATTEMPTS ? "in " + out.failures() + " attempt(s)" : "before the runner stopped",
                out.failure().getMessage());
        return Delivery.ABANDONED;
    }
}

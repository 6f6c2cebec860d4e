package dev.aireview.runner.scheduler;

import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.observability.RunnerMetrics;
import dev.aireview.runner.server.Backoff;
import dev.aireview.runner.server.ErrorClass;
import dev.aireview.runner.server.ServerClient;
import dev.aireview.runner.server.ServerException;
import dev.aireview.runner.server.Sleeper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Delivers a task's one result. Retries with backoff (and Retry-After) until the server takes it: an outage of
 * minutes delays a result, it does not lose it. Only a 404/409/410 (the task is no longer this runner's) or
 * a 400-class rejection drops it, with a log line; and a runner past its final shutdown deadline gives up.
 */
final class ResultSender {
    private static final Logger log = LoggerFactory.getLogger(ResultSender.class);

    /** How a delivery ended. */
    enum Delivery { DELIVERED, DROPPED, ABANDONED }

    private final ServerClient client;
    private final Supplier<String> runnerId;
    private final Backoff backoff;
    private final Sleeper sleeper;
    private final BooleanSupplier keepTrying;
    private final RunnerMetrics metrics;

    ResultSender(ServerClient client, Supplier<String> runnerId, Backoff backoff, Sleeper sleeper, BooleanSupplier keepTrying) {
        this(client, runnerId, backoff, sleeper, keepTrying, RunnerMetrics.NOOP);
    }

    ResultSender(ServerClient client, Supplier<String> runnerId, Backoff backoff, Sleeper sleeper, BooleanSupplier keepTrying,
                 RunnerMetrics metrics) {
        this.metrics = metrics;
        this.client = client;
        this.runnerId = runnerId;
        this.backoff = backoff;
        this.sleeper = sleeper;
        this.keepTrying = keepTrying;
    }

    Delivery deliver(String taskId, TaskResult result) {
        int failures = 0;
        while (true) {
            try {
                client.result(runnerId.get(), taskId, result);
                log.info("task {} result delivered: {}{}{}", taskId, result.status().wire(),
                        result.error() == null ? "" : "/" + result.error().kind().wire(),
                        failures == 0 ? "" : " (after " + failures + " failed attempt(s))");
                return Delivery.DELIVERED;
            } catch (ServerException e) {
                if (e.errorClass() == ErrorClass.TASK_GONE) {
                    log.warn("task {} result dropped: the server answered HTTP {} (the task is no longer this runner's)", taskId, e.httpStatus());
                    return Delivery.DROPPED;
                }
                if (e.errorClass() == ErrorClass.BAD_REQUEST) {
                    log.error("task {} result dropped: the server rejected it ({})", taskId, e.getMessage());
                    return Delivery.DROPPED;
                }
                if (!keepTrying.getAsBoolean()) {
                    log.error("task {} result could not be delivered before the runner stopped ({}); giving up", taskId, e.getMessage());
                    return Delivery.ABANDONED;
                }
                Duration d = backoff.delay(failures, e);
                failures++;
                metrics.resultRetry();
                log.warn("task {} result not delivered ({}); attempt {}, retrying in {} ms", taskId, e.getMessage(), failures, d.toMillis());
                try {
                    sleeper.sleep(d);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    log.error("task {} result delivery interrupted; giving up", taskId);
                    return Delivery.ABANDONED;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                log.error("task {} result delivery interrupted; giving up", taskId);
                return Delivery.ABANDONED;
            }
        }
    }
}

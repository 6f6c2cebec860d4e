package dev.aireview.runner.scheduler;

import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.TaskError;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.model.TaskStats;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashSet;
import java.util.List;

/**
 * Crash recovery: the tasks an earlier process of this runner was running when it died (the executor found and
 * removed their leftovers at start-up) are reported {@code failed/runner_shutdown} once each, so the server can
 * retry them at once instead of waiting for its heartbeat timeout. Sent after registering and before the first
 * poll, so the report cannot overtake a new claim of the same task. The ids are not remembered as finished:
 * a task the server hands out again is run.
 */
final class LeftoverReports {
    private static final Logger log = LoggerFactory.getLogger(LeftoverReports.class);
    static final String MESSAGE = "the runner restarted while this review ran";
    /** {@code failed} (not {@code cancelled}): nobody cancelled it, the runner lost it. */
    static final TaskResult RESULT = new TaskResult(ResultStatus.FAILED, null, List.of(),
            new TaskError(ErrorKind.RUNNER_SHUTDOWN, MESSAGE), TaskStats.EMPTY);

    private final ResultSender results;

    LeftoverReports(ResultSender results) {
        this.results = results;
    }

    /** Reports every id once (duplicates dropped); returns how many the server took. */
    int report(List<String> taskIds) {
        int delivered = 0;
        for (String id : new LinkedHashSet<>(taskIds)) {
            if (id == null || id.isBlank()) {
                continue;
            }
            log.info("task {} was left running by an earlier process of this runner; reporting it", id);
            if (results.deliver(id, RESULT) == ResultSender.Delivery.DELIVERED) {
                delivered++;
            }
        }
        return delivered;
    }
}

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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * Crash recovery: the tasks an earlier process of this runner was running when it died (the executor found and
 * removed their leftovers at start-up, or the claim journal still lists them) are reported
 * {@code failed/runner_shutdown}, so the server can retry them at once instead of waiting for its heartbeat timeout.
 *
 * <p>Sent on their own thread while the poll loop claims (a server that refuses them must not stop the runner from
 * working), each with at most {@link #ATTEMPTS} attempts per start: what is not delivered stays in the claim journal
 * and is reported at the next start. A task the server hands out again meanwhile is this process's now: its report
 * is skipped ({@code superseded}), its new run reports it. {@link #pending()} says how many are still owed (metric
 * {@code leftover_reports_pending}, {@code /health} {@code unreportedLeftovers}).
 */
final class LeftoverReports {
    private static final Logger log = LoggerFactory.getLogger(LeftoverReports.class);
    static final String MESSAGE = "the runner restarted while this review ran";
    /** Attempts per leftover and start; the backoff between them is the result backoff. */
    static final int ATTEMPTS = 5;
    /** {@code failed} (not {@code cancelled}): nobody cancelled it, the runner lost it. */
    static final TaskResult RESULT = new TaskResult(ResultStatus.FAILED, null, List.of(),
            new TaskError(ErrorKind.RUNNER_SHUTDOWN, MESSAGE), TaskStats.EMPTY);

    private final ResultSender results;
    private final Predicate<String> superseded;
    private final int attempts;
    private final Set<String> pending = ConcurrentHashMap.newKeySet();

    LeftoverReports(ResultSender results) {
        this(results, id -> false, ATTEMPTS);
    }

    /** @param superseded true for an id this process has taken over again (its report must not be sent) */
    LeftoverReports(ResultSender results, Predicate<String> superseded, int attempts) {
        this.results = results;
        this.superseded = superseded;
        this.attempts = attempts;
    }

    /** The ids to report (duplicates and blanks dropped); {@link #pending()} counts them from now on. */
    List<String> expect(List<String> taskIds) {
        LinkedHashSet<String> ids = new LinkedHashSet<>();
        for (String id : taskIds) {
            if (id != null && !id.isBlank()) {
                ids.add(id);
            }
        }
        pending.addAll(ids);
        return List.copyOf(ids);
    }

    /** Reports every id once (duplicates dropped); returns how many the server took. */
    int report(List<String> taskIds) {
        int delivered = 0;
        List<String> ids = expect(taskIds);
        int left = 0;
        for (String id : ids) {
            try {
                if (superseded.test(id)) {
                    log.info("task {} was handed to this runner again; its new run reports it, not the restart", id);
                    continue;
                }
                log.info("task {} was left running by an earlier process of this runner; reporting it", id);
                ResultSender.Delivery d = results.deliver(id, RESULT, attempts, () -> !superseded.test(id));
                if (d == ResultSender.Delivery.DELIVERED) {
                    delivered++;
                } else if (d != ResultSender.Delivery.DROPPED) {
                    left++;
                }
            } finally {
                pending.remove(id);
            }
        }
        if (left > 0) {
            log.warn("{} leftover report(s) not delivered at this start; they stay in the claim journal for the next start", left);
        }
        return delivered;
    }

    /** Leftover reports still to be sent by this start. */
    int pending() {
        return pending.size();
    }
}

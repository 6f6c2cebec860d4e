package dev.aireview.runner.execution;

import java.util.List;

/**
 * The tasks this runner has claimed and still owes a result, kept where a crash does not lose them. The scheduler
 * records an id when it takes the task over (before the executor sees it) and removes it once the task's one result
 * call has ended for good; at start-up every id still listed belonged to an earlier process that died owing its
 * result, and is reported {@code failed/runner_shutdown}. This covers the gaps the executor's leftovers cannot name
 * (a kill between the claim and the container's creation, while a pre-warmed container clones, or while the result
 * is being delivered).
 *
 * <p>Best effort by contract: a journal that cannot write logs why and the task runs all the same (it is then only
 * not crash-safe); no method throws.
 */
public interface ClaimJournal {

    /** Remembers nothing: for executors without a place that survives the process (and tests). */
    ClaimJournal NONE = new ClaimJournal() {
        @Override
        public boolean record(String taskId) {
            return false;
        }

        @Override
        public void remove(String taskId) {
        }

        @Override
        public List<String> list() {
            return List.of();
        }
    };

    /** Records {@code taskId} durably; false when it could not (logged) or the journal keeps nothing. */
    boolean record(String taskId);

    /** Forgets {@code taskId} (nothing when it is not recorded). */
    void remove(String taskId);

    /** Every recorded id, as far as it can be read safely (bounded; unreadable entries skipped). */
    List<String> list();
}

package dev.aireview.runner.server;

import dev.aireview.runner.model.ReviewTask;

import java.time.Instant;
import java.util.Objects;

/**
 * A task the server handed to this runner. Either {@link #task()} is set, or {@link #parseError()} says why
 * the JSON could not be read (a missing or malformed field, or JSON that broke off inside this task, see
 * {@link PollAnswer}); in both cases the task has an id and must end with exactly one result (a bad task ends
 * {@code failed/bad_task}, and never reaches the executor).
 *
 * @param claimedAt when the poll answer arrived (start of {@code queueToStartMs})
 */
public record ClaimedTask(String id, ReviewTask task, String parseError, Instant claimedAt) {
    public ClaimedTask {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(claimedAt, "claimedAt");
        if ((task == null) == (parseError == null)) {
            throw new IllegalArgumentException("exactly one of task and parseError must be set");
        }
    }

    public static ClaimedTask parsed(ReviewTask task, Instant claimedAt) {
        return new ClaimedTask(task.id(), task, null, claimedAt);
    }

    public static ClaimedTask bad(String id, String parseError, Instant claimedAt) {
        return new ClaimedTask(id, null, parseError, claimedAt);
    }

    public boolean isBad() {
        return task == null;
    }
}

package dev.aireview.runner.review.ai;

import dev.aireview.runner.model.ReviewTask;

import java.time.Duration;

/**
 * The time a review may spend on its provider, derived from the task's own limit: the review must end (and write its
 * result) before the runner stops the container at {@code timeoutSeconds}, so a part of that limit is kept back for
 * what comes before and after the model (clone, diff, result). Started when the review starts.
 */
public final class Budget {

    /** The runner's default task limit (DOCKER_TIMEOUT_SECONDS), used when the task names none. */
    public static final int DEFAULT_TASK_SECONDS = 600;
    /** No bound (tests, and callers that bound the review themselves). */
    public static final Budget NONE = new Budget(null, null);

    private final Duration total;
    private final Long end;
    private final Integer taskSeconds;

    private Budget(Duration total, Integer taskSeconds) {
        this.total = total;
        this.taskSeconds = taskSeconds;
        this.end = total == null ? null : System.nanoTime() + total.toNanos();
    }

    public static Budget of(Duration total) {
        return new Budget(total, null);
    }

    /**
     * The provider budget of a task: its {@code timeoutSeconds} (or {@value #DEFAULT_TASK_SECONDS}) less a reserve of
     * a fifth of it, at least 15 s and at most 120 s; at least 5 s in all.
     */
    public static Budget forTask(ReviewTask task) {
        int seconds = task.timeoutSeconds() == null ? DEFAULT_TASK_SECONDS : task.timeoutSeconds();
        long reserve = Math.min(120, Math.max(15, seconds / 5));
        return new Budget(Duration.ofSeconds(Math.max(5, seconds - reserve)), seconds);
    }

    public Duration remaining() {
        if (end == null) {
            return Duration.ofDays(1);
        }
        long left = end - System.nanoTime();
        return left <= 0 ? Duration.ZERO : Duration.ofNanos(left);
    }

    String describe() {
        if (total == null) {
            return "unbounded";
        }
        return total.toSeconds() + " s" + (taskSeconds == null ? "" : " of the task's " + taskSeconds + " s limit");
    }
}

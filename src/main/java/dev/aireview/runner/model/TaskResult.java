package dev.aireview.runner.model;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;

/**
 * The outcome of one task: what the executor returns, and (with the runner id added) the body of the
 * {@code result} call. Also the result file written by the review engine inside the container.
 */
public record TaskResult(
        @JsonProperty("status") ResultStatus status,
        @JsonProperty("summary") String summary,
        @JsonProperty("comments") List<ReviewComment> comments,
        @JsonProperty("error") TaskError error,
        @JsonProperty("stats") TaskStats stats) {

    public TaskResult {
        comments = comments == null ? List.of() : List.copyOf(comments);
        stats = stats == null ? TaskStats.EMPTY : stats;
        if (status == null) {
            status = error == null ? ResultStatus.COMPLETED : ResultStatus.FAILED;
        }
    }

    public static TaskResult completed(String summary, List<ReviewComment> comments, TaskStats stats) {
        return new TaskResult(ResultStatus.COMPLETED, summary, comments, null, stats);
    }

    /** A result that is not {@code completed}; the status follows from the kind (timeout → timed_out, …). */
    public static TaskResult failure(ErrorKind kind, String message) {
        ResultStatus status = switch (kind) {
            case TIMEOUT -> ResultStatus.TIMED_OUT;
            case CANCELLED, RUNNER_SHUTDOWN -> ResultStatus.CANCELLED;
            default -> ResultStatus.FAILED;
        };
        return new TaskResult(status, null, List.of(), new TaskError(kind, message), TaskStats.EMPTY);
    }

    public TaskResult withStats(TaskStats newStats) {
        return new TaskResult(status, summary, comments, error, newStats);
    }
}

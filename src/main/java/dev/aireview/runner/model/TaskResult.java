package dev.aireview.runner.model;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.node.ObjectNode;

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

    /**
     * The JSON of this result, field by field: what the mapper's {@code valueToTree} gives (nulls left out), without its
     * reflective introspection of the records, which costs a short-lived executor JVM about 0.1 s on its first use.
     */
    public ObjectNode toJson() {
        ObjectNode o = Json.mapper().createObjectNode();
        putText(o, "status", status == null ? null : status.wire());
        putText(o, "summary", summary);
        var list = o.putArray("comments");
        for (ReviewComment c : comments) {
            ObjectNode n = list.addObject();
            putText(n, "path", c.path());
            putNumber(n, "line", c.line());
            putNumber(n, "endLine", c.endLine());
            putText(n, "severity", c.severity() == null ? null : c.severity().wire());
            putText(n, "message", c.message());
            putText(n, "suggestion", c.suggestion());
        }
        if (error != null) {
            ObjectNode e = o.putObject("error");
            putText(e, "kind", error.kind() == null ? null : error.kind().wire());
            putText(e, "message", error.message());
        }
        ObjectNode s = o.putObject("stats");
        putNumber(s, "durationMs", stats.durationMs());
        putNumber(s, "queueToStartMs", stats.queueToStartMs());
        putNumber(s, "exitCode", stats.exitCode());
        putNumber(s, "filesReviewed", stats.filesReviewed());
        putNumber(s, "promptTokens", stats.promptTokens());
        putNumber(s, "completionTokens", stats.completionTokens());
        if (stats.partial() != null) {
            s.put("partial", stats.partial());
        }
        putNumber(s, "filesNotReviewed", stats.filesNotReviewed());
        return o;
    }

    private static void putText(ObjectNode o, String name, String value) {
        if (value != null) {
            o.put(name, value);
        }
    }

    private static void putNumber(ObjectNode o, String name, Number value) {
        if (value instanceof Long l) {
            o.put(name, l);
        } else if (value != null) {
            o.put(name, value.intValue());
        }
    }
}

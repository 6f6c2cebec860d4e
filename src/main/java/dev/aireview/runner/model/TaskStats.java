package dev.aireview.runner.model;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonProperty;

/** Figures sent with a result. Any field may be null when unknown. */
public record TaskStats(
        @JsonProperty("durationMs") @JsonAlias("duration_ms") Long durationMs,
        @JsonProperty("queueToStartMs") @JsonAlias("queue_to_start_ms") Long queueToStartMs,
        @JsonProperty("exitCode") @JsonAlias("exit_code") Integer exitCode,
        @JsonProperty("filesReviewed") @JsonAlias("files_reviewed") Integer filesReviewed) {

    public static final TaskStats EMPTY = new TaskStats(null, null, null, null);

    public TaskStats withDuration(long durationMs, Long queueToStartMs) {
        return new TaskStats(durationMs, queueToStartMs, exitCode, filesReviewed);
    }
}

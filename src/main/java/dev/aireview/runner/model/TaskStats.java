package dev.aireview.runner.model;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonProperty;

/** Figures sent with a result. Any field may be null when unknown. */
public record TaskStats(
        @JsonProperty("durationMs") @JsonAlias("duration_ms") Long durationMs,
        @JsonProperty("queueToStartMs") @JsonAlias("queue_to_start_ms") Long queueToStartMs,
        @JsonProperty("exitCode") @JsonAlias("exit_code") Integer exitCode,
        @JsonProperty("filesReviewed") @JsonAlias("files_reviewed") Integer filesReviewed,
        @JsonProperty("promptTokens") @JsonAlias("prompt_tokens") Long promptTokens,
        @JsonProperty("completionTokens") @JsonAlias("completion_tokens") Long completionTokens) {

    public static final TaskStats EMPTY = new TaskStats(null, null, null, null);

    /** Figures without token usage (a review without a model). */
    public TaskStats(Long durationMs, Long queueToStartMs, Integer exitCode, Integer filesReviewed) {
        this(durationMs, queueToStartMs, exitCode, filesReviewed, null, null);
    }

    public TaskStats withDuration(long durationMs, Long queueToStartMs) {
        return new TaskStats(durationMs, queueToStartMs, exitCode, filesReviewed, promptTokens, completionTokens);
    }

    /** The same figures with the review engine's counts (files reviewed, model tokens when a model was asked). */
    public TaskStats withReview(Integer files, Long prompt, Long completion) {
        return new TaskStats(durationMs, queueToStartMs, exitCode, files, prompt, completion);
    }
}

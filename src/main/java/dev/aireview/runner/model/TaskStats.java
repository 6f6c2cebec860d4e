package dev.aireview.runner.model;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Figures sent with a result. Any field may be null when unknown. {@code partial} is true when the review could not
 * cover the whole change (a diff cut at its size limit, files the model was not asked about or did not answer for);
 * {@code filesNotReviewed} then counts the files left out (the summary names them).
 */
public record TaskStats(
        @JsonProperty("durationMs") @JsonAlias("duration_ms") Long durationMs,
        @JsonProperty("queueToStartMs") @JsonAlias("queue_to_start_ms") Long queueToStartMs,
        @JsonProperty("exitCode") @JsonAlias("exit_code") Integer exitCode,
        @JsonProperty("filesReviewed") @JsonAlias("files_reviewed") Integer filesReviewed,
        @JsonProperty("promptTokens") @JsonAlias("prompt_tokens") Long promptTokens,
        @JsonProperty("completionTokens") @JsonAlias("completion_tokens") Long completionTokens,
        @JsonProperty("partial") Boolean partial,
        @JsonProperty("filesNotReviewed") @JsonAlias("files_not_reviewed") Integer filesNotReviewed) {

    public static final TaskStats EMPTY = new TaskStats(null, null, null, null);

    /** Figures without token usage (a review without a model). */
    public TaskStats(Long durationMs, Long queueToStartMs, Integer exitCode, Integer filesReviewed) {
        this(durationMs, queueToStartMs, exitCode, filesReviewed, null, null);
    }

    /** Figures of a review that covered the whole change (no {@code partial} flag). */
    public TaskStats(Long durationMs, Long queueToStartMs, Integer exitCode, Integer filesReviewed, Long promptTokens,
                     Long completionTokens) {
        this(durationMs, queueToStartMs, exitCode, filesReviewed, promptTokens, completionTokens, null, null);
    }

    /** The same figures marked partial, {@code notReviewed} files left out; unchanged when nothing was left out. */
    public TaskStats withNotReviewed(int notReviewed, boolean cut) {
        if (notReviewed <= 0 && !cut) {
            return this;
        }
        return new TaskStats(durationMs, queueToStartMs, exitCode, filesReviewed, promptTokens, completionTokens, true,
                Math.max(0, notReviewed) + (filesNotReviewed == null ? 0 : filesNotReviewed));
    }

    /** The same figures with the executor's wall time and exit code. */
    public TaskStats withExecution(long durationMs, Integer exitCode) {
        return new TaskStats(durationMs, queueToStartMs, exitCode, filesReviewed, promptTokens, completionTokens, partial, filesNotReviewed);
    }

    public TaskStats withDuration(long durationMs, Long queueToStartMs) {
        return new TaskStats(durationMs, queueToStartMs, exitCode, filesReviewed, promptTokens, completionTokens, partial, filesNotReviewed);
    }

    /** The same figures with the review engine's counts (files reviewed, model tokens when a model was asked). */
    public TaskStats withReview(Integer files, Long prompt, Long completion) {
        return new TaskStats(durationMs, queueToStartMs, exitCode, files, prompt, completion, partial, filesNotReviewed);
    }
}

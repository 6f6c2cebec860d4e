package dev.aireview.runner.review.ai;

/**
 * One answer of the provider: the assistant message content (null when the model refused), why generation stopped
 * ({@code stop}, {@code length}, {@code content_filter}, …; null when not given), the refusal text when the model
 * declined, and the token usage the provider reported (0 when it reported none).
 */
public record Completion(String content, String finishReason, String refusal, long promptTokens, long completionTokens) {

    /** The model stopped because it hit {@code max_tokens}: the answer is cut off. */
    public boolean truncated() {
        return "length".equals(finishReason) || "max_tokens".equals(finishReason);
    }

    /** The model (or the provider's content filter) declined to answer. */
    public boolean refused() {
        return refusal != null || "content_filter".equals(finishReason);
    }
}

package dev.aireview.runner.model;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * OpenAI-compatible model settings of a task. {@code apiKey} is a secret. {@code tools}: whether the answer is asked
 * for as a forced function tool call ({@code submit_review}); null means yes (the default), false switches it off.
 */
public record AiConfig(
        @JsonProperty("provider") String provider,
        @JsonProperty("baseUrl") String baseUrl,
        @JsonProperty("model") String model,
        @JsonProperty("apiKey") String apiKey,
        @JsonProperty("temperature") Double temperature,
        @JsonProperty("maxTokens") Integer maxTokens,
        @JsonProperty("tools") Boolean tools) {

    /** Settings with tool calls at their default (on). */
    public AiConfig(String provider, String baseUrl, String model, String apiKey, Double temperature, Integer maxTokens) {
        this(provider, baseUrl, model, apiKey, temperature, maxTokens, null);
    }

    /** Whether the answer is asked for as a tool call: unless {@code tools} is false. */
    public boolean toolsOn() {
        return !Boolean.FALSE.equals(tools);
    }

    @Override
    public String toString() {
        return "AiConfig[provider=" + provider + ", baseUrl=" + baseUrl + ", model=" + model
                + ", apiKey=" + (apiKey == null ? "none" : "****") + ", temperature=" + temperature + ", maxTokens=" + maxTokens
                + (tools == null ? "" : ", tools=" + tools) + "]";
    }
}

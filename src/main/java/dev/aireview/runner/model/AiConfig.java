package dev.aireview.runner.model;

import com.fasterxml.jackson.annotation.JsonProperty;

/** OpenAI-compatible model settings of a task. {@code apiKey} is a secret. */
public record AiConfig(
        @JsonProperty("provider") String provider,
        @JsonProperty("baseUrl") String baseUrl,
        @JsonProperty("model") String model,
        @JsonProperty("apiKey") String apiKey,
        @JsonProperty("temperature") Double temperature,
        @JsonProperty("maxTokens") Integer maxTokens) {

    @Override
    public String toString() {
        return "AiConfig[provider=" + provider + ", baseUrl=" + baseUrl + ", model=" + model
                + ", apiKey=" + (apiKey == null ? "none" : "****") + ", temperature=" + temperature + ", maxTokens=" + maxTokens + "]";
    }
}

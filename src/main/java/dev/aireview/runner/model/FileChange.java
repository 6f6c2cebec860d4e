package dev.aireview.runner.model;

import com.fasterxml.jackson.annotation.JsonProperty;

/** One changed file of the review, with its unified-diff patch when the server sends one. */
public record FileChange(
        @JsonProperty("path") String path,
        @JsonProperty("previousPath") String previousPath,
        @JsonProperty("status") String status,
        @JsonProperty("additions") Integer additions,
        @JsonProperty("deletions") Integer deletions,
        @JsonProperty("patch") String patch) {
}

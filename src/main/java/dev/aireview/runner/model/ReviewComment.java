package dev.aireview.runner.model;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonProperty;

/** One file/line comment of a review. {@code endLine} and {@code suggestion} are optional. */
public record ReviewComment(
        @JsonProperty("path") @JsonAlias({"file", "filename"}) String path,
        @JsonProperty("line") Integer line,
        @JsonProperty("endLine") @JsonAlias("end_line") Integer endLine,
        @JsonProperty("severity") Severity severity,
        @JsonProperty("message") @JsonAlias({"body", "comment"}) String message,
        @JsonProperty("suggestion") String suggestion) {
}

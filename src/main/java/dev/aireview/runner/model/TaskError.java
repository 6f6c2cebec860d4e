package dev.aireview.runner.model;

import com.fasterxml.jackson.annotation.JsonProperty;

/** The {@code error} of a result that did not complete. */
public record TaskError(@JsonProperty("kind") ErrorKind kind, @JsonProperty("message") String message) {
}

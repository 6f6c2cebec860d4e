package dev.aireview.runner.server;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.aireview.runner.model.LogStream;

import java.time.Instant;

/** One task log line as sent to the logs call. */
public record LogLine(@JsonProperty("ts") Instant ts, @JsonProperty("stream") LogStream stream, @JsonProperty("text") String text) {
}

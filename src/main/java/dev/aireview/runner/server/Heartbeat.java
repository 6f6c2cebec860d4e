package dev.aireview.runner.server;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;

/** Body of the heartbeat call. */
public record Heartbeat(
        @JsonProperty("status") RunnerStatus status,
        @JsonProperty("activeJobs") int activeJobs,
        @JsonProperty("maxConcurrentJobs") int maxConcurrentJobs,
        @JsonProperty("runningTaskIds") List<String> runningTaskIds) {

    public Heartbeat {
        runningTaskIds = runningTaskIds == null ? List.of() : List.copyOf(runningTaskIds);
    }
}

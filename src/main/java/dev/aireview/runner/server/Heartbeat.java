package dev.aireview.runner.server;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;

/**
 * Body of the heartbeat call. {@code claimsPaused} (sent only when set) says why the runner is not claiming tasks
 * although it has free slots, e.g. low disk space; servers ignore fields they do not know.
 */
public record Heartbeat(
        @JsonProperty("status") RunnerStatus status,
        @JsonProperty("activeJobs") int activeJobs,
        @JsonProperty("maxConcurrentJobs") int maxConcurrentJobs,
        @JsonProperty("runningTaskIds") List<String> runningTaskIds,
        @JsonProperty("claimsPaused") @JsonInclude(JsonInclude.Include.NON_NULL) String claimsPaused) {

    public Heartbeat(RunnerStatus status, int activeJobs, int maxConcurrentJobs, List<String> runningTaskIds) {
        this(status, activeJobs, maxConcurrentJobs, runningTaskIds, null);
    }

    public Heartbeat {
        runningTaskIds = runningTaskIds == null ? List.of() : List.copyOf(runningTaskIds);
    }
}

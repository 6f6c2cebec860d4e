package dev.aireview.runner.server;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;

/**
 * Body of the heartbeat call. {@code status} is {@code online|busy|offline} only (the upstream server's values);
 * a draining runner sends {@code busy} with {@code draining: true} ({@link #draining(int, int, List)}).
 * {@code claimsPaused} (sent only when set) says why the runner is not claiming tasks although it has free slots,
 * e.g. low disk space; servers ignore fields they do not know.
 */
public record Heartbeat(
        @JsonProperty("status") RunnerStatus status,
        @JsonProperty("draining") boolean draining,
        @JsonProperty("activeJobs") int activeJobs,
        @JsonProperty("maxConcurrentJobs") int maxConcurrentJobs,
        @JsonProperty("runningTaskIds") List<String> runningTaskIds,
        @JsonProperty("claimsPaused") @JsonInclude(JsonInclude.Include.NON_NULL) String claimsPaused) {

    public Heartbeat {
        runningTaskIds = runningTaskIds == null ? List.of() : List.copyOf(runningTaskIds);
        if (draining && status == RunnerStatus.ONLINE) {
            status = RunnerStatus.BUSY;
        }
    }

    /** A heartbeat of a runner that is not draining. */
    public Heartbeat(RunnerStatus status, int activeJobs, int maxConcurrentJobs, List<String> runningTaskIds) {
        this(status, false, activeJobs, maxConcurrentJobs, runningTaskIds, null);
    }

    /** As {@link #Heartbeat(RunnerStatus, int, int, List)}, saying why claims are paused (null: they are not). */
    public Heartbeat(RunnerStatus status, int activeJobs, int maxConcurrentJobs, List<String> runningTaskIds, String claimsPaused) {
        this(status, false, activeJobs, maxConcurrentJobs, runningTaskIds, claimsPaused);
    }

    /** A heartbeat without a claim pause. */
    public Heartbeat(RunnerStatus status, boolean draining, int activeJobs, int maxConcurrentJobs, List<String> runningTaskIds) {
        this(status, draining, activeJobs, maxConcurrentJobs, runningTaskIds, null);
    }

    /** The heartbeat of a draining runner: {@code busy} + {@code draining: true}. */
    public static Heartbeat draining(int activeJobs, int maxConcurrentJobs, List<String> runningTaskIds) {
        return new Heartbeat(RunnerStatus.BUSY, true, activeJobs, maxConcurrentJobs, runningTaskIds, null);
    }

    /** The same heartbeat saying why claims are paused (null: they are not). */
    public Heartbeat withClaimsPaused(String reason) {
        return new Heartbeat(status, draining, activeJobs, maxConcurrentJobs, runningTaskIds, reason);
    }

    /** The state as {@code GET /health} shows it: {@code draining} is a state of its own there. */
    public String healthStatus() {
        return draining && status != RunnerStatus.OFFLINE ? "draining" : status.wire();
    }
}

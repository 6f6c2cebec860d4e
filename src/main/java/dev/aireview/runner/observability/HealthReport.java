package dev.aireview.runner.observability;

import java.time.Instant;
import java.util.List;

/**
 * What {@code GET /health} answers: one snapshot of the runner's state.
 *
 * @param healthy          true when the runner is registered and its last successful heartbeat is recent
 *                         (the endpoint then answers 200, else 503)
 * @param status           {@code starting}, {@code online}, {@code busy}, {@code draining} or {@code stopped}
 * @param runnerId         id the server knows the runner by (null before registration)
 * @param name             RUNNER_NAME
 * @param version          runner version
 * @param lastHeartbeat    time of the last successful heartbeat, null if none yet
 * @param heartbeatAgeMs   milliseconds since then, -1 if none yet
 * @param slots            RUNNER_MAX_CONCURRENT_JOBS
 * @param busySlots        slots taken by running tasks (as the heartbeat's activeJobs; an idle runner's waiting
 *                         long poll is not counted)
 * @param runningTasks     ids of the tasks running now
 * @param reason           why the runner is not healthy, null when healthy
 * @param claimsPaused     why the runner is not claiming tasks right now (e.g. low disk space), null when it claims;
 *                         a paused runner stays healthy: it recovers by itself
 * @param unreportedLeftovers tasks an earlier process of this runner left owing a result whose
 *                         {@code failed/runner_shutdown} report this start is still sending (in the background,
 *                         while tasks are claimed; what is not delivered stays in the claim journal)
 */
public record HealthReport(
        boolean healthy,
        String status,
        String runnerId,
        String name,
        String version,
        Instant lastHeartbeat,
        long heartbeatAgeMs,
        int slots,
        int busySlots,
        List<String> runningTasks,
        String reason,
        String claimsPaused,
        int unreportedLeftovers) {

    public HealthReport(boolean healthy, String status, String runnerId, String name, String version, Instant lastHeartbeat,
                        long heartbeatAgeMs, int slots, int busySlots, List<String> runningTasks, String reason) {
        this(healthy, status, runnerId, name, version, lastHeartbeat, heartbeatAgeMs, slots, busySlots, runningTasks, reason, null);
    }

    public HealthReport(boolean healthy, String status, String runnerId, String name, String version, Instant lastHeartbeat,
                        long heartbeatAgeMs, int slots, int busySlots, List<String> runningTasks, String reason,
                        String claimsPaused) {
        this(healthy, status, runnerId, name, version, lastHeartbeat, heartbeatAgeMs, slots, busySlots, runningTasks, reason,
                claimsPaused, 0);
    }

    public HealthReport {
        runningTasks = runningTasks == null ? List.of() : List.copyOf(runningTasks);
    }
}

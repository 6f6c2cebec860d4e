package dev.aireview.runner.docker;

import java.util.List;
import java.util.Map;

/** The labels every container and volume of this runner carries (PROTOCOL.md "Executor container labels"). */
public final class Labels {
    public static final String RUNNER = "ai-review.runner";
    public static final String TASK = "ai-review.task";
    public static final String MANAGED = "ai-review.managed";
    /** What a pooled container carries in {@link #TASK} before (and, labels being immutable, after) it is assigned. */
    public static final String POOL_TASK = "pool";
    /** Extra label telling what a container is for: {@code clone}, {@code review} or {@code cleanup}. */
    public static final String ROLE = "ai-review.role";

    private Labels() {
    }

    public static Map<String, String> of(String runnerName, String taskId, String role) {
        return Map.of(RUNNER, runnerName, TASK, taskId, MANAGED, "true", ROLE, role);
    }

    /** Label filter selecting everything this runner created. */
    public static List<String> runnerFilter(String runnerName) {
        return List.of(RUNNER + "=" + runnerName);
    }
}

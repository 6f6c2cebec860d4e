package dev.aireview.runner.devserver;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Mutable state of one runner; guarded by the lock of {@link DevServerStore}. */
final class RunnerRecord {
    final String id;
    final Instant registeredAt;
    String name;
    String version;
    String status = "online";
    int maxConcurrency;
    int activeJobs;
    List<String> runningTaskIds = List.of();
    final Set<String> claimed = new LinkedHashSet<>();
    List<String> tags = List.of();
    String hostname;
    Instant lastHeartbeat;
    Instant lastSeen;
    int registrations;
    int heartbeats;
    int polls;
    int tasksClaimed;
    int results;
    int maxClaimed;
    int maxActiveJobs;
    int timeouts;

    RunnerRecord(String id, Instant registeredAt) {
        this.id = id;
        this.registeredAt = registeredAt;
    }

    boolean offline() {
        return "offline".equals(status);
    }

    RunnerSnapshot snapshot() {
        return new RunnerSnapshot(id, name, version, status, maxConcurrency, activeJobs, runningTaskIds,
                new ArrayList<>(claimed), tags, hostname, registeredAt, lastHeartbeat, lastSeen, registrations,
                heartbeats, polls, tasksClaimed, results, maxClaimed, maxActiveJobs, timeouts);
    }
}

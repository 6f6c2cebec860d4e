package dev.aireview.runner.devserver;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aireview.runner.model.Json;

import java.time.Instant;
import java.util.List;

/**
 * An immutable copy of one registered runner.
 *
 * @param status          {@code online}, {@code busy}, {@code draining} (as last reported) or {@code offline}
 *                        (reported, or set by the server when the heartbeat timeout passed)
 * @param activeJobs      as last reported by a heartbeat
 * @param runningTaskIds  as last reported by a heartbeat
 * @param claimedTaskIds  tasks the server counts as this runner's: claimed, no result yet
 * @param maxClaimed      the most tasks this runner ever held at once (server side)
 * @param maxActiveJobs   the highest {@code activeJobs} it ever reported
 */
public record RunnerSnapshot(
        String id,
        String name,
        String version,
        String status,
        int maxConcurrency,
        int activeJobs,
        List<String> runningTaskIds,
        List<String> claimedTaskIds,
        List<String> tags,
        String hostname,
        Instant registeredAt,
        Instant lastHeartbeat,
        Instant lastSeen,
        int registrations,
        int heartbeats,
        int polls,
        int tasksClaimed,
        int results,
        int maxClaimed,
        int maxActiveJobs,
        int timeouts) {

    public RunnerSnapshot {
        runningTaskIds = List.copyOf(runningTaskIds);
        claimedTaskIds = List.copyOf(claimedTaskIds);
        tags = List.copyOf(tags);
    }

    public boolean online() {
        return !"offline".equals(status);
    }

    public ObjectNode toJson() {
        ObjectNode n = Json.mapper().createObjectNode();
        n.put("id", id);
        n.put("name", name);
        n.put("version", version);
        n.put("status", status);
        n.put("maxConcurrency", maxConcurrency);
        n.put("activeJobs", activeJobs);
        ArrayNode running = n.putArray("runningTaskIds");
        runningTaskIds.forEach(running::add);
        ArrayNode claimed = n.putArray("claimedTaskIds");
        claimedTaskIds.forEach(claimed::add);
        ArrayNode t = n.putArray("tags");
        tags.forEach(t::add);
        n.put("hostname", hostname);
        n.put("registeredAt", registeredAt == null ? null : registeredAt.toString());
        n.put("lastHeartbeat", lastHeartbeat == null ? null : lastHeartbeat.toString());
        n.put("lastSeen", lastSeen == null ? null : lastSeen.toString());
        ObjectNode c = n.putObject("counters");
        c.put("registrations", registrations);
        c.put("heartbeats", heartbeats);
        c.put("polls", polls);
        c.put("tasksClaimed", tasksClaimed);
        c.put("results", results);
        c.put("maxClaimed", maxClaimed);
        c.put("maxActiveJobs", maxActiveJobs);
        c.put("heartbeatTimeouts", timeouts);
        return n;
    }
}

package dev.aireview.runner.devserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Mutable state of one task; guarded by the lock of {@link DevServerStore}. */
final class TaskRecord {
    final String id;
    final ObjectNode body;
    final List<String> secrets;
    final Instant enqueuedAt;
    String phase = "pending";
    String runnerId;
    Instant claimedAt;
    Instant startedAt;
    Instant finishedAt;
    boolean cancelRequested;
    JsonNode result;
    String resultStatus;
    int claimCount;
    int resultCalls;
    int statusCalls;
    int logBatches;
    int requeues;
    long nextLogIndex;
    long duplicateLogLines;
    long droppedLogLines;
    int secretLeaks;
    /** Status/result calls from a runner that never held the task (no attempt to count them in). */
    int strayCalls;
    /** Extra copies of the task sent in one poll answer (injected {@code duplicate} fault). */
    int duplicatesSent;
    /** Times the task went back to the queue after its runner reported {@code runner_shutdown}. */
    int shutdownRequeues;
    final List<AttemptRecord> attempts = new ArrayList<>();
    final List<String> formerRunners = new ArrayList<>();
    final List<PhaseChange> phases = new ArrayList<>();
    final List<LogLine> logs = new ArrayList<>();

    TaskRecord(String id, ObjectNode body, List<String> secrets, Instant enqueuedAt) {
        this.id = id;
        this.body = body;
        this.secrets = List.copyOf(secrets);
        this.enqueuedAt = enqueuedAt;
    }

    boolean terminal() {
        return resultStatus != null || (result == null && "cancelled".equals(phase));
    }

    boolean pending() {
        return "pending".equals(phase);
    }

    String reviewId() {
        JsonNode r = body.get("reviewId");
        return r == null || r.isNull() ? null : r.asText();
    }

    /** The latest attempt of {@code runnerId}, or null when it never held the task. */
    AttemptRecord attemptOf(String runnerId) {
        for (int i = attempts.size() - 1; i >= 0; i--) {
            if (attempts.get(i).runnerId.equals(runnerId)) {
                return attempts.get(i);
            }
        }
        return null;
    }

    /** Ends the open attempt, if any. */
    void endAttempt(String how, String message, Instant now) {
        if (!attempts.isEmpty()) {
            attempts.get(attempts.size() - 1).end(how, message, now);
        }
    }

    void record(String newPhase, String by, String message, String at, Instant now) {
        phases.add(new PhaseChange(newPhase, by, message, at, now));
    }

    TaskSnapshot snapshot(boolean withLogs) {
        List<LogLine> lines = List.of();
        if (withLogs) {
            lines = new ArrayList<>(logs.size());
            for (LogLine l : logs) {
                lines.add(new LogLine(l.index(), l.ts(), l.stream(), Secrets.mask(l.text(), secrets), l.receivedAt()));
            }
        }
        List<PhaseChange> ph = new ArrayList<>(phases.size());
        for (PhaseChange p : phases) {
            ph.add(new PhaseChange(p.phase(), p.runnerId(), Secrets.mask(p.message(), secrets), p.at(), p.receivedAt()));
        }
        return new TaskSnapshot(id, reviewId(), phase, runnerId, terminal(), cancelRequested, resultStatus,
                Secrets.mask(result, secrets), Secrets.mask(body, secrets), enqueuedAt, claimedAt, startedAt,
                finishedAt, claimCount, resultCalls, statusCalls, logBatches, requeues, formerRunners, ph, lines,
                duplicateLogLines, droppedLogLines, secretLeaks,
                attempts.stream().map(a -> a.snapshot(secrets)).toList(), strayCalls, duplicatesSent, shutdownRequeues);
    }
}

package dev.aireview.runner.devserver;

import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * One hand-out of a task to a runner (a claim); guarded by the lock of {@link DevServerStore}. A task re-queued
 * (runner offline, never acknowledged, {@code runner_shutdown} reported) is claimed again as a new attempt.
 */
final class AttemptRecord {
    final int number;
    final String runnerId;
    final Instant claimedAt;
    Instant endedAt;
    /** Null while the attempt is open; else {@code result}, {@code requeued}, {@code undelivered}, {@code cancelled}. */
    String end;
    String endMessage;
    /** Distinct {@code at} stamps of the {@code reviewing} reports: a retried report repeats its stamp. */
    final Set<String> reviewingStamps = new LinkedHashSet<>();
    int reviewingWithoutStamp;
    int statusCalls;
    int rejectedStatusCalls;
    int resultCalls;
    int rejectedResultCalls;
    String resultStatus;
    String errorKind;
    String errorMessage;

    AttemptRecord(int number, String runnerId, Instant claimedAt) {
        this.number = number;
        this.runnerId = runnerId;
        this.claimedAt = claimedAt;
    }

    boolean open() {
        return end == null;
    }

    void reviewing(String at) {
        if (at == null || at.isBlank()) {
            reviewingWithoutStamp++;
        } else {
            reviewingStamps.add(at);
        }
    }

    void end(String how, String message, Instant now) {
        if (end == null) {
            end = how;
            endMessage = message;
            endedAt = now;
        }
    }

    /** With the task's secrets masked in the runner's error message. */
    Attempt snapshot(java.util.List<String> secrets) {
        return new Attempt(number, runnerId, claimedAt, endedAt, end, endMessage,
                reviewingStamps.size() + reviewingWithoutStamp, statusCalls, rejectedStatusCalls, resultCalls,
                rejectedResultCalls, resultStatus, errorKind, Secrets.mask(errorMessage, secrets));
    }
}

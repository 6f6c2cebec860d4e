package dev.aireview.runner.execution;

/**
 * Whether the runner may claim tasks now, as the executor sees it (e.g. the Docker executor pauses claims while the
 * disk under its workspaces is nearly full). The poll loop asks before every poll; the heartbeat and {@code /health}
 * report the reason. Implementations are cheap (no network) and never throw.
 */
@FunctionalInterface
public interface ClaimGate {
    /** A gate that never pauses. */
    ClaimGate OPEN = () -> null;

    /** Why claiming must pause now (one line for logs, heartbeat and /health), or null when it may go on. */
    String pausedReason();
}

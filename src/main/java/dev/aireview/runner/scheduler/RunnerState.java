package dev.aireview.runner.scheduler;

import java.util.EnumSet;
import java.util.Set;

/**
 * The one life cycle of a {@link RunnerDaemon}. It only moves forward, along {@link #canMoveTo}:
 * <pre>
 *   STARTING ──registered──▶ RUNNING ──stop──▶ DRAINING ──grace over / 2nd stop──▶ CANCELLING ──▶ STOPPED
 *      │                        └──────────── stop now ──────────────────────────────▲
 *      └── stop before registered ──▶ CANCELLING;  start-up failure ──▶ STOPPED
 * </pre>
 */
public enum RunnerState {
    /** Executor start, health check, register (retried while the server is unreachable). Nothing is claimed. */
    STARTING,
    /** Registered: heartbeating and claiming tasks. */
    RUNNING,
    /** A stop was requested: no new claims; running tasks may finish within the shutdown grace. */
    DRAINING,
    /** Every remaining task is cancelled ({@code runner_shutdown}), and so is every task still handed over. */
    CANCELLING,
    /** Results flushed, offline heartbeat sent, executor closed (or each step's deadline passed). Final. */
    STOPPED;

    /** Whether {@code next} is a legal step from this state. */
    public boolean canMoveTo(RunnerState next) {
        return successors().contains(next);
    }

    private Set<RunnerState> successors() {
        return switch (this) {
            case STARTING -> EnumSet.of(RUNNING, CANCELLING, STOPPED);
            case RUNNING -> EnumSet.of(DRAINING, CANCELLING);
            case DRAINING -> EnumSet.of(CANCELLING);
            case CANCELLING -> EnumSet.of(STOPPED);
            case STOPPED -> EnumSet.noneOf(RunnerState.class);
        };
    }

    /** No new claims: a stop was requested or has happened. */
    public boolean isStopping() {
        return this == DRAINING || this == CANCELLING || this == STOPPED;
    }

    public String wire() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}

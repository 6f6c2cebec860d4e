package dev.aireview.runner.scheduler;

import dev.aireview.runner.execution.ClaimGate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler's side of the executor's {@link ClaimGate}: asked by the poll loop before every poll and by the
 * heartbeat and {@code /health}; logs once when claims pause (with the reason) and once when they resume.
 */
final class ClaimPause {
    private static final Logger log = LoggerFactory.getLogger(ClaimPause.class);

    private final ClaimGate gate;
    private String reason;

    ClaimPause(ClaimGate gate) {
        this.gate = gate == null ? ClaimGate.OPEN : gate;
    }

    /** Asks the gate now: the reason claims are paused, or null when the runner may claim. */
    synchronized String check() {
        String now;
        try {
            now = gate.pausedReason();
        } catch (RuntimeException e) {
            log.debug("claim gate failed: {}", e.toString());
            now = null;
        }
        if (now != null && reason == null) {
            log.warn("not claiming tasks: {}", now);
        } else if (now == null && reason != null) {
            log.info("claiming tasks again (was paused: {})", reason);
        }
        reason = now;
        return now;
    }
}

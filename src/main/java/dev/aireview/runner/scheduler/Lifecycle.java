package dev.aireview.runner.scheduler;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Holds the daemon's {@link RunnerState} and is the only place it changes: {@link #moveTo} takes a legal step
 * (logged) or refuses; an illegal request is refused, never applied. {@link #moveIf} runs an action atomically with
 * the step, so that, e.g., the heartbeat and the poll loop are started only if the runner is still starting.
 */
final class Lifecycle {
    private static final Logger log = LoggerFactory.getLogger(Lifecycle.class);

    private final CountDownLatch stopped = new CountDownLatch(1);
    private RunnerState state = RunnerState.STARTING;
    private boolean wasRunning;

    synchronized RunnerState current() {
        return state;
    }

    /** Moves to {@code next} if that is a legal step from the current state; true when it moved. */
    synchronized boolean moveTo(RunnerState next) {
        return moveIf(state, next, null);
    }

    /** Moves to {@code next} only from {@code from}, running {@code action} (may be null) inside the step. */
    synchronized boolean moveIf(RunnerState from, RunnerState next, Runnable action) {
        if (state != from || !state.canMoveTo(next)) {
            return false;
        }
        log.info("runner state {} -> {}", state.wire(), next.wire());
        state = next;
        wasRunning |= next == RunnerState.RUNNING;
        if (action != null) {
            action.run();
        }
        if (next == RunnerState.STOPPED) {
            stopped.countDown();
        }
        notifyAll();
        return true;
    }

    /** Whether the runner ever reached {@link RunnerState#RUNNING} (registered, heartbeat and poll loop started). */
    synchronized boolean wasRunning() {
        return wasRunning;
    }

    boolean awaitStopped(Duration timeout) throws InterruptedException {
        return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    boolean isStopped() {
        return stopped.getCount() == 0;
    }
}

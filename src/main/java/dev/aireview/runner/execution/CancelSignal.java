package dev.aireview.runner.execution;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A one-shot, thread-safe cancellation flag with listeners. The first reason wins.
 *
 * <p>Two stages: {@link #cancel} asks the executor to stop (SIGTERM, grace, clean up); {@link #kill} is the
 * scheduler's escalation when a cancelled executor has not returned within the cancel grace: whatever still runs
 * must be killed at once. A kill implies a cancel (with the reason given, unless one was set already).
 */
public final class CancelSignal {
    private final AtomicReference<CancelReason> reason = new AtomicReference<>();
    private final CountDownLatch fired = new CountDownLatch(1);
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private final List<Runnable> killListeners = new CopyOnWriteArrayList<>();
    private final AtomicBoolean killed = new AtomicBoolean();

    /** Fires the signal; returns true if this call was the first. Listeners run on the calling thread. */
    public boolean cancel(CancelReason why) {
        if (!reason.compareAndSet(null, why)) {
            return false;
        }
        fired.countDown();
        for (Runnable listener : listeners) {
            try {
                listener.run();
            } catch (RuntimeException ignored) {
                // a failing listener must not stop the others
            }
        }
        return true;
    }

    /**
     * Escalates: cancels (if not yet) and runs every {@link #onKill} listener on the calling thread, once.
     * Returns true if this call was the first kill.
     */
    public boolean kill(CancelReason why) {
        cancel(why);
        if (!killed.compareAndSet(false, true)) {
            return false;
        }
        for (Runnable listener : killListeners) {
            try {
                listener.run();
            } catch (RuntimeException ignored) {
                // a failing listener must not stop the others
            }
        }
        return true;
    }

    public boolean isKilled() {
        return killed.get();
    }

    /**
     * Runs {@code listener} on {@link #kill}, or at once if already killed. Listeners run on the scheduler's thread
     * (not the executor's, which may be stuck), so they must not block long: e.g. one {@code docker kill} call.
     */
    public void onKill(Runnable listener) {
        killListeners.add(listener);
        if (isKilled() && killListeners.remove(listener)) {
            listener.run();
        }
    }

    public boolean isCancelled() {
        return reason.get() != null;
    }

    /** The reason, or null while not cancelled. */
    public CancelReason reason() {
        return reason.get();
    }

    /** Runs {@code listener} on cancel, or at once if already cancelled. */
    public void onCancel(Runnable listener) {
        listeners.add(listener);
        if (isCancelled() && listeners.remove(listener)) {
            listener.run();
        }
    }

    /** Waits up to {@code timeout} for the signal; true if it fired. */
    public boolean await(Duration timeout) throws InterruptedException {
        return fired.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }
}

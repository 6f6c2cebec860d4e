package dev.aireview.runner.execution;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/** A one-shot, thread-safe cancellation flag with listeners. The first reason wins. */
public final class CancelSignal {
    private final AtomicReference<CancelReason> reason = new AtomicReference<>();
    private final CountDownLatch fired = new CountDownLatch(1);
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

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

package dev.aireview.runner.scheduler;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One taken execution slot. Whoever holds it gives it back with {@link #release()}, which is idempotent: a second
 * call is a no-op, so a permit cannot be returned twice and no caller needs a "do I still hold it" flag. The
 * scheduler releases a task's permit only when the task has its result <em>and</em> its executor has returned
 * (its container is gone); an executor that never returns keeps its slot.
 */
final class SlotPermit {
    private final SlotPool pool;
    private final AtomicBoolean released = new AtomicBoolean();

    SlotPermit(SlotPool pool) {
        this.pool = pool;
    }

    /** Gives the slot back; true when this call did (false when it was already released). */
    boolean release() {
        if (!released.compareAndSet(false, true)) {
            return false;
        }
        pool.giveBack();
        return true;
    }

    boolean isReleased() {
        return released.get();
    }
}

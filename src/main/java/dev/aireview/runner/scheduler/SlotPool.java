package dev.aireview.runner.scheduler;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * The runner's execution slots: a counting semaphore (lock + condition, so that a drain can also wait until
 * every permit is back) handing out {@link SlotPermit}s. The poll loop takes all free slots <em>before</em> it polls
 * and asks the server for exactly that many tasks; a permit goes back when its task has its result and its
 * executor has returned, or at once when the poll brought fewer tasks.
 */
public final class SlotPool {
    private final int size;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private int free;

    public SlotPool(int size) {
        if (size < 1) {
            throw new IllegalArgumentException("size must be positive");
        }
        this.size = size;
        this.free = size;
    }

    /** Waits until at least one slot is free, then takes every free slot; returns their permits (at least one). */
    List<SlotPermit> acquireFree() throws InterruptedException {
        lock.lockInterruptibly();
        try {
            while (free == 0) {
                changed.await();
            }
            int n = free;
            free = 0;
            List<SlotPermit> permits = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                permits.add(new SlotPermit(this));
            }
            return permits;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits for one free slot and takes it, unless {@code giveUp} holds first (checked on every change and
     * {@link #wakeUp}); returns the permit, or null when it gave up. Not interruptible: a waiting task is ended by
     * its cancel (which must call {@link #wakeUp}), never dropped by an interrupt.
     */
    SlotPermit acquireOne(BooleanSupplier giveUp) {
        lock.lock();
        try {
            while (free == 0) {
                if (giveUp.getAsBoolean()) {
                    return null;
                }
                changed.awaitUninterruptibly();
            }
            if (giveUp.getAsBoolean()) {
                return null;
            }
            free--;
            return new SlotPermit(this);
        } finally {
            lock.unlock();
        }
    }

    /** Only {@link SlotPermit#release()} calls this, once per permit. */
    void giveBack() {
        lock.lock();
        try {
            if (free + 1 > size) {
                throw new IllegalStateException("released more slots than taken: free=" + free + " of " + size);
            }
            free++;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    public int size() {
        return size;
    }

    public int free() {
        lock.lock();
        try {
            return free;
        } finally {
            lock.unlock();
        }
    }

    public int inUse() {
        return size - free();
    }

    /** Wakes every waiter so it re-checks its condition (used by a forced stop). */
    public void wakeUp() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until every slot is free, the timeout passes or {@code giveUp} holds (checked on every change / {@link #wakeUp}). */
    public boolean awaitIdle(Duration timeout, BooleanSupplier giveUp) throws InterruptedException {
        return GuardedWait.until(lock, changed, () -> free >= size, timeout, giveUp);
    }
}

package dev.aireview.runner.scheduler;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.function.BooleanSupplier;

/** The one bounded wait on a lock's condition that the slot pool and the active-task set share. */
final class GuardedWait {
    private GuardedWait() {
    }

    /**
     * Waits, holding {@code lock}, until {@code done} holds (true), the timeout passes or {@code giveUp} holds
     * (false); both are checked again on every signal of {@code changed}.
     */
    static boolean until(Lock lock, Condition changed, BooleanSupplier done, Duration timeout, BooleanSupplier giveUp)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lockInterruptibly();
        try {
            while (!done.getAsBoolean()) {
                if (giveUp.getAsBoolean()) {
                    return false;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                changed.await(left, TimeUnit.NANOSECONDS);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }
}

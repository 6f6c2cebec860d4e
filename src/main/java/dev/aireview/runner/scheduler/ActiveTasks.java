package dev.aireview.runner.scheduler;

import dev.aireview.runner.execution.CancelReason;
import dev.aireview.runner.execution.CancelSignal;
import dev.aireview.runner.execution.ClaimJournal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * The tasks this runner holds, by id, from the moment the poll hands them over until their result is sent: what the
 * heartbeat reports and what cancels reach (a task still waiting for a slot included). It is also the task-id
 * identity of the process: {@link #admit} refuses an id that is active, or finished among the last
 * {@value #REMEMBERED_FINISHED} tasks, so one id never runs twice here (the first claim keeps it and gives its
 * one result; the duplicate is only logged).
 *
 * <p>An admitted id is recorded in the {@link ClaimJournal} before {@link #admit} returns, so before any executor
 * sees the task; {@link ResultSender} removes it once the task's result call has ended for good.
 */
public final class ActiveTasks {
    private static final Logger log = LoggerFactory.getLogger(ActiveTasks.class);
    /** How many finished task ids are remembered to refuse a repeated hand-over (bounded memory). */
    static final int REMEMBERED_FINISHED = 10_000;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Map<String, CancelSignal> runs = new TreeMap<>();
    private final Map<String, Boolean> finished = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > REMEMBERED_FINISHED;
        }
    };
    private final ClaimJournal journal;
    /** Once set, every admitted task is cancelled with this reason at once (the runner is shutting down). */
    private CancelReason cancelNewWith;

    /** Active tasks recorded nowhere (tests). */
    ActiveTasks() {
        this(ClaimJournal.NONE);
    }

    /** @param journal where each admitted id is recorded before the task is handed on */
    ActiveTasks(ClaimJournal journal) {
        this.journal = journal;
    }

    /**
     * Takes over a claimed task id (recorded in the claim journal first): its cancel signal (already fired when the
     * runner is cancelling its tasks), or null when the id is active or recently finished in this process (logged;
     * the caller must not run it).
     */
    CancelSignal admit(String taskId) {
        CancelSignal signal;
        CancelReason cancelAtOnce;
        lock.lock();
        try {
            if (runs.containsKey(taskId)) {
                log.warn("task {} handed over again while it is still running here; keeping the first, ignoring the duplicate", taskId);
                return null;
            }
            if (finished.containsKey(taskId)) {
                log.warn("task {} handed over again after it finished here; not running it twice", taskId);
                return null;
            }
            signal = new CancelSignal();
            runs.put(taskId, signal);
            cancelAtOnce = cancelNewWith;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        journal.record(taskId); // outside the lock (an fsync); the task is handed on only after it
        if (cancelAtOnce != null) {
            signal.cancel(cancelAtOnce);
        }
        return signal;
    }

    /** Whether {@code taskId} was taken over by this process (running now or finished here). */
    boolean known(String taskId) {
        lock.lock();
        try {
            return runs.containsKey(taskId) || finished.containsKey(taskId);
        } finally {
            lock.unlock();
        }
    }

    /** The task has its result: no longer active, and remembered as finished. */
    void finish(String taskId) {
        lock.lock();
        try {
            runs.remove(taskId);
            finished.put(taskId, Boolean.TRUE);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Fires the task's cancel signal; false when the task is not running here (or already cancelled). */
    public boolean cancel(String taskId, CancelReason reason) {
        CancelSignal signal;
        lock.lock();
        try {
            signal = runs.get(taskId);
        } finally {
            lock.unlock();
        }
        if (signal == null) {
            log.debug("cancel for task {} ignored: not running here", taskId);
            return false;
        }
        boolean first = signal.cancel(reason);
        if (first) {
            log.info("task {} cancelled: {}", taskId, reason);
        }
        return first;
    }

    public void cancelAll(CancelReason reason) {
        for (String id : ids()) {
            cancel(id, reason);
        }
    }

    /** Cancels every task with {@code reason}, and every task admitted from now on as soon as it is admitted. */
    void cancelAllFromNowOn(CancelReason reason) {
        lock.lock();
        try {
            cancelNewWith = reason;
        } finally {
            lock.unlock();
        }
        cancelAll(reason);
    }

    /** Wakes {@link #awaitEmpty} waiters so they re-check their give-up condition. */
    void wakeUp() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until no task is active, the timeout passes or {@code giveUp} holds (checked on every change / {@link #wakeUp}). */
    boolean awaitEmpty(Duration timeout, BooleanSupplier giveUp) throws InterruptedException {
        return GuardedWait.until(lock, changed, runs::isEmpty, timeout, giveUp);
    }

    public List<String> ids() {
        lock.lock();
        try {
            return Collections.unmodifiableList(new ArrayList<>(runs.keySet()));
        } finally {
            lock.unlock();
        }
    }

    public int size() {
        lock.lock();
        try {
            return runs.size();
        } finally {
            lock.unlock();
        }
    }
}

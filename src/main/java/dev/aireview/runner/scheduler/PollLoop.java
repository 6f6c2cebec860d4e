package dev.aireview.runner.scheduler;

import dev.aireview.runner.execution.CancelSignal;
import dev.aireview.runner.observability.RunnerMetrics;
import dev.aireview.runner.observability.RunnerMetrics.PollOutcome;
import dev.aireview.runner.server.Backoff;
import dev.aireview.runner.server.ClaimedTask;
import dev.aireview.runner.server.ServerClient;
import dev.aireview.runner.server.ErrorClass;
import dev.aireview.runner.server.Retrier;
import dev.aireview.runner.server.Sleeper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The claim loop, on one thread, so exactly one poll is in flight: take every free slot, long-poll for that many
 * tasks, take each task over ({@link ActiveTasks#admit}: a duplicate id is dropped, logged), hand each with its slot
 * to {@code dispatch}, give the unused slots back. After an empty answer it waits {@code pollInterval} ±20% (minus
 * the time the server held the poll); after a non-empty one it polls again at once. Errors are retried through the
 * {@link Retrier} (backoff, Retry-After honoured) with the slots kept; a 404 for the runner or a refused token
 * registers again. Before each poll the {@link ClaimPause} is asked: while it gives a reason (low disk space) the
 * loop waits {@code pollInterval} instead of claiming.
 *
 * <p>Tasks a server sends beyond the requested number are claimed all the same: they are taken over at once (in the
 * heartbeat's {@code runningTaskIds}, cancellable) and wait here, in order, for a slot; one cancelled while waiting
 * is dispatched without a slot and reported at once. {@link #stop()} interrupts only the waits between polls,
 * never a poll in flight: its answer may hold tasks the server has already handed over.
 *
 * <p>An unexpected error in one pass (a bug, an {@code Error}) is logged, counted as a death of the
 * {@code poll-loop} thread in the metrics, and the loop resumes after a backoff; a task whose dispatch failed is
 * run on the loop's own thread by {@code fallback}, so it still gets its result.
 */
final class PollLoop implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(PollLoop.class);
    static final String THREAD = "poll-loop";

    private final ServerClient client;
    private final RunnerRegistrar registrar;
    private final SlotPool slots;
    private final ActiveTasks active;
    private final Dispatcher dispatch;
    private final Dispatcher fallback;
    private final Duration pollInterval;
    private final Duration pollWait;
    private final Backoff backoff;
    private final Sleeper sleeper;
    private final Retrier retrier;
    private final Random random;
    private final RunnerMetrics metrics;
    private final ClaimPause claimPause;
    private final Object state = new Object();
    private volatile boolean stopped;
    private volatile Thread thread;
    /** Guarded by {@link #state}: the loop is in a wait that {@link #stop()} may interrupt. */
    private boolean interruptible;
    /** Guarded by {@link #state}: a poll is in flight, or its tasks are being taken over. */
    private boolean polling;

    /** Hands a claimed task, taken over with {@code cancel}, to a worker; {@code permit} is null for a task cancelled before it got a slot. */
    @FunctionalInterface
    interface Dispatcher {
        void dispatch(ClaimedTask task, CancelSignal cancel, SlotPermit permit);
    }

    PollLoop(ServerClient client, RunnerRegistrar registrar, SlotPool slots, ActiveTasks active, Dispatcher dispatch,
             Dispatcher fallback, Duration pollInterval, Duration pollWait, Backoff backoff, Sleeper sleeper, Random random,
             RunnerMetrics metrics) {
        this(client, registrar, slots, active, dispatch, fallback, pollInterval, pollWait, backoff, sleeper, random, metrics,
                new ClaimPause(null));
    }

    /** @param claimPause asked before every poll: while it gives a reason, the loop waits {@code pollInterval} instead */
    PollLoop(ServerClient client, RunnerRegistrar registrar, SlotPool slots, ActiveTasks active, Dispatcher dispatch,
             Dispatcher fallback, Duration pollInterval, Duration pollWait, Backoff backoff, Sleeper sleeper, Random random,
             RunnerMetrics metrics, ClaimPause claimPause) {
        this.metrics = metrics;
        this.claimPause = claimPause;
        this.client = client;
        this.registrar = registrar;
        this.slots = slots;
        this.active = active;
        this.dispatch = dispatch;
        this.fallback = fallback;
        this.pollInterval = pollInterval;
        this.pollWait = pollWait;
        this.backoff = backoff;
        this.sleeper = sleeper;
        this.retrier = new Retrier(backoff, this::retryWait);
        this.random = random;
    }

    /** Starts the loop thread (nothing when already stopped). */
    void start() {
        synchronized (state) {
            if (stopped) {
                return;
            }
            Thread t = new Thread(this, THREAD);
            t.setDaemon(true);
            thread = t;
            t.start();
        }
    }

    /** Stops claiming: no new poll starts; a wait between polls is interrupted, a poll in flight is not. Returns at once. */
    void stop() {
        synchronized (state) {
            stopped = true;
            Thread t = thread;
            if (t != null && interruptible) {
                t.interrupt();
            }
        }
    }

    /**
     * After {@link #stop()}: waits until no poll is in flight any more and the tasks of the last answer are taken over
     * (they may still wait for a slot); false when {@code timeout} passed first.
     */
    boolean awaitHandedOver(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (state) {
            while (polling) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(state, left);
            }
            return true;
        }
    }

    /** Whether the loop thread is alive (false before {@link #start()} and after it ended). */
    boolean isAlive() {
        Thread t = thread;
        return t != null && t.isAlive();
    }

    /** The loop was started and its thread is gone although it was not stopped: nothing is claimed any more. */
    boolean hasDied() {
        Thread t = thread;
        return t != null && !t.isAlive() && !stopped;
    }

    /** Enters (true) or leaves a wait {@link #stop()} may interrupt; false when stopped already. */
    private boolean interruptible(boolean on) {
        synchronized (state) {
            interruptible = on;
            if (!on) {
                Thread.interrupted(); // an interrupt meant for the wait must not hit the poll
            }
            return !stopped;
        }
    }

    /** Marks the start of a poll; false (nothing marked) when stopped already. */
    private boolean beginPoll() {
        synchronized (state) {
            if (stopped) {
                return false;
            }
            polling = true;
            return true;
        }
    }

    private void endPoll() {
        synchronized (state) {
            polling = false;
            state.notifyAll();
        }
    }

    @Override
    public void run() {
        int[] failures = {0};
        while (!stopped) {
            Deque<SlotPermit> unused = new ArrayDeque<>();
            try {
                if (!pass(unused, failures)) {
                    break;
                }
            } catch (Throwable t) {
                metrics.threadDied(THREAD);
                log.error("the poll loop failed unexpectedly; resuming after a backoff", t);
                if (!pause(backoff.delay(failures[0]++))) {
                    break;
                }
            } finally {
                unused.forEach(SlotPermit::release);
                endPoll();
            }
        }
        log.info("poll loop stopped");
    }

    /** One poll and its hand-over; false when the loop should end. Permits not handed to a task stay in {@code unused}. */
    private boolean pass(Deque<SlotPermit> unused, int[] failures) {
        if (!interruptible(true)) {
            interruptible(false);
            return false;
        }
        try {
            unused.addAll(slots.acquireFree());
        } catch (InterruptedException e) {
            interruptible(false);
            return false;
        }
        interruptible(false);
        if (claimPause.check() != null) {
            unused.forEach(SlotPermit::release);
            unused.clear();
            return pause(pollInterval);
        }
        if (!beginPoll()) {
            return false;
        }
        long t0 = System.nanoTime();
        int taken = unused.size();
        List<ClaimedTask> tasks;
        try {
            Retrier.Outcome<List<ClaimedTask>> out = retrier.run(pollPolicy(),
                    () -> client.poll(registrar.runnerId(), taken, pollWait));
            if (!out.ok()) {
                endPoll();
                unused.forEach(SlotPermit::release);
                if (stopped || out.stop() == Retrier.Stop.STOPPED) {
                    return false;
                }
                // the policy retries every class; a failure it does not know must not end the claim loop
                metrics.poll(PollOutcome.ERROR);
                log.error("poll failed: {}", out.failure().getMessage());
                return pause(backoff.delay(failures[0]++, out.failure()));
            }
            tasks = out.value();
            failures[0] = 0;
        } catch (InterruptedException e) {
            return false;
        } catch (RuntimeException e) {
            endPoll();
            unused.forEach(SlotPermit::release);
            metrics.poll(PollOutcome.ERROR);
            log.error("poll failed unexpectedly", e);
            return pause(backoff.delay(failures[0]++));
        }
        metrics.poll(tasks.isEmpty() ? PollOutcome.EMPTY : PollOutcome.TASKS);
        metrics.tasksClaimed(tasks.size());
        if (!tasks.isEmpty()) {
            log.info("claimed {} task(s) for {} free slot(s): {}", tasks.size(), taken,
                    tasks.stream().map(ClaimedTask::id).toList());
        }
        // take every task over first (tracked and cancellable from now on), then hand them out
        List<ClaimedTask> admitted = new ArrayList<>();
        List<CancelSignal> signals = new ArrayList<>();
        for (ClaimedTask task : tasks) {
            CancelSignal cancel = active.admit(task.id());
            if (cancel != null) {
                admitted.add(task);
                signals.add(cancel);
            }
        }
        endPoll();
        for (int i = 0; i < admitted.size(); i++) {
            ClaimedTask task = admitted.get(i);
            CancelSignal cancel = signals.get(i);
            SlotPermit permit = unused.poll();
            if (permit == null) {
                log.warn("server sent {} task(s) for {} requested; task {} waits for a free slot", tasks.size(), taken, task.id());
                cancel.onCancel(slots::wakeUp);
                permit = slots.acquireOne(cancel::isCancelled);
            }
            hand(task, cancel, permit);
        }
        unused.forEach(SlotPermit::release);
        unused.clear();
        if (tasks.isEmpty()) {
            long jittered = (long) (pollInterval.toMillis() * (0.8 + 0.4 * random.nextDouble()));
            long heldMs = (System.nanoTime() - t0) / 1_000_000;
            return pause(Duration.ofMillis(Math.max(0, jittered - heldMs)));
        }
        return true;
    }

    private void hand(ClaimedTask task, CancelSignal cancel, SlotPermit permit) {
        try {
            dispatch.dispatch(task, cancel, permit);
        } catch (Throwable t) {
            metrics.threadDied(THREAD);
            log.error("task {} could not be dispatched; running it on the poll loop's thread", task.id(), t);
            fallback.dispatch(task, cancel, permit);
        }
    }

    /**
     * The poll's retry policy: every failure is retried for as long as the loop runs, with backoff (Retry-After
     * honoured); a 404 for the runner registers again first; a refused token backs off, then registers again
     * (running tasks continue); a rejected poll (400) is logged and retried after the backoff.
     */
    private Retrier.Policy pollPolicy() {
        return Retrier.policy("poll")
                .retry(ErrorClass.RETRYABLE, ErrorClass.BAD_REQUEST)
                .recover(ErrorClass.REREGISTER, e -> registrar.reRegister("poll answered HTTP " + e.httpStatus()))
                .recover(ErrorClass.UNAUTHORIZED, e -> {
                    log.warn("poll: the server refused the runner token (HTTP {}); backing off, running tasks continue", e.httpStatus());
                    registrar.reRegister("token refused on poll");
                    return false;
                })
                .keepGoing(() -> !stopped)
                .onRetry(e -> metrics.poll(PollOutcome.ERROR));
    }

    private boolean pause(Duration d) {
        if (!interruptible(true)) {
            interruptible(false);
            return false;
        }
        try {
            sleeper.sleep(d);
            return interruptible(false);
        } catch (InterruptedException e) {
            interruptible(false);
            return false;
        }
    }

    /**
     * The Retrier's wait between poll attempts: no request is in flight then, so a stop may interrupt it (and
     * {@link #awaitHandedOver} need not wait for it); the next attempt is marked as a poll in flight again.
     */
    private void retryWait(Duration d) throws InterruptedException {
        endPoll();
        if (!pause(d) || !beginPoll()) {
            throw new InterruptedException("stopped while backing off between polls");
        }
    }
}

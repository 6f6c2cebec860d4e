package dev.aireview.runner.scheduler;

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
import java.util.List;
import java.util.Random;

/**
 * The claim loop, on one thread, so exactly one poll is in flight: take every free slot, long-poll for that many
 * tasks, hand each task with its slot to {@code dispatch}, give the unused slots back. After an empty answer it
 * waits {@code pollInterval} ±20% (minus the time the server held the poll); after a non-empty one it polls again
 * at once. Errors are retried through the {@link Retrier} (backoff, Retry-After) with the slots kept; a 404 for the
 * runner or a refused token registers again.
 */
final class PollLoop implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(PollLoop.class);

    private final ServerClient client;
    private final RunnerRegistrar registrar;
    private final SlotPool slots;
    private final Dispatcher dispatch;
    private final Duration pollInterval;
    private final Duration pollWait;
    private final Backoff backoff;
    private final Sleeper sleeper;
    private final Retrier retrier;
    private final Random random;
    private final RunnerMetrics metrics;
    private final ClaimPause claimPause;
    private volatile boolean stopped;
    private volatile Thread thread;

    /** Hands a claimed task to a worker; {@code holdsSlot} says whether the task owns a slot to give back. */
    @FunctionalInterface
    interface Dispatcher {
        void dispatch(ClaimedTask task, boolean holdsSlot);
    }

    PollLoop(ServerClient client, RunnerRegistrar registrar, SlotPool slots, Dispatcher dispatch,
             Duration pollInterval, Duration pollWait, Backoff backoff, Sleeper sleeper, Random random, RunnerMetrics metrics) {
        this(client, registrar, slots, dispatch, pollInterval, pollWait, backoff, sleeper, random, metrics, new ClaimPause(null));
    }

    /** @param claimPause asked before every poll: while it gives a reason, the loop waits {@code pollInterval} instead */
    PollLoop(ServerClient client, RunnerRegistrar registrar, SlotPool slots, Dispatcher dispatch,
             Duration pollInterval, Duration pollWait, Backoff backoff, Sleeper sleeper, Random random, RunnerMetrics metrics,
             ClaimPause claimPause) {
        this.metrics = metrics;
        this.claimPause = claimPause;
        this.client = client;
        this.registrar = registrar;
        this.slots = slots;
        this.dispatch = dispatch;
        this.pollInterval = pollInterval;
        this.pollWait = pollWait;
        this.backoff = backoff;
        this.sleeper = sleeper;
        this.retrier = new Retrier(backoff, sleeper);
        this.random = random;
    }

    void start() {
        Thread t = new Thread(this, "poll-loop");
        t.setDaemon(true);
        thread = t;
        t.start();
    }

    /** Stops claiming: interrupts a held poll or a wait and returns when the loop has ended (or after {@code timeout}). */
    void stop(Duration timeout) throws InterruptedException {
        stopped = true;
        Thread t = thread;
        if (t != null) {
            t.interrupt();
            t.join(timeout.toMillis());
        }
    }

    @Override
    public void run() {
        int failures = 0;
        while (!stopped) {
            int taken;
            try {
                taken = slots.acquireFree();
            } catch (InterruptedException e) {
                break;
            }
            if (stopped) {
                slots.release(taken);
                break;
            }
            if (claimPause.check() != null) {
                slots.release(taken);
                if (!pause(pollInterval)) {
                    break;
                }
                continue;
            }
            long t0 = System.nanoTime();
            List<ClaimedTask> tasks;
            try {
                int size = taken;
                Retrier.Outcome<List<ClaimedTask>> out = retrier.run(pollPolicy(),
                        () -> client.poll(registrar.runnerId(), size, pollWait));
                if (!out.ok()) {
                    slots.release(taken);
                    if (stopped || out.stop() == Retrier.Stop.STOPPED) {
                        break;
                    }
                    // the policy retries every class; a failure it does not know must not end the claim loop
                    log.error("poll failed: {}", out.failure().getMessage());
                    if (!pause(backoff.delay(failures++, out.failure()))) {
                        break;
                    }
                    continue;
                }
                tasks = out.value();
                failures = 0;
            } catch (InterruptedException e) {
                slots.release(taken);
                break;
            } catch (RuntimeException e) {
                slots.release(taken);
                metrics.poll(PollOutcome.ERROR);
                log.error("poll failed unexpectedly", e);
                if (!pause(backoff.delay(failures++))) {
                    break;
                }
                continue;
            }
            metrics.poll(tasks.isEmpty() ? PollOutcome.EMPTY : PollOutcome.TASKS);
            metrics.tasksClaimed(tasks.size());
            int handed = Math.min(taken, tasks.size());
            slots.release(taken - handed);
            if (!tasks.isEmpty()) {
                log.info("claimed {} task(s) for {} free slot(s): {}", tasks.size(), taken,
                        tasks.stream().map(ClaimedTask::id).toList());
            }
            for (int i = 0; i < tasks.size(); i++) {
                if (i >= taken) {
                    // the server sent more than asked; they are claimed all the same, so each waits for a slot
                    log.warn("server sent {} task(s) for {} requested; task {} waits for a free slot", tasks.size(), taken, tasks.get(i).id());
                    try {
                        slots.acquireOne();
                    } catch (InterruptedException e) {
                        // stopping: the scheduler reports the rest as runner_shutdown without a slot
                        for (int j = i; j < tasks.size(); j++) {
                            dispatch.dispatch(tasks.get(j), false);
                        }
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
                dispatch.dispatch(tasks.get(i), true);
            }
            if (Thread.currentThread().isInterrupted()) {
                break;
            }
            if (tasks.isEmpty()) {
                long jittered = (long) (pollInterval.toMillis() * (0.8 + 0.4 * random.nextDouble()));
                long heldMs = (System.nanoTime() - t0) / 1_000_000;
                if (!pause(Duration.ofMillis(Math.max(0, jittered - heldMs)))) {
                    break;
                }
            }
        }
        log.info("poll loop stopped");
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
        try {
            sleeper.sleep(d);
            return !stopped;
        } catch (InterruptedException e) {
            return false;
        }
    }
}

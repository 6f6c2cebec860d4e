package dev.aireview.runner.scheduler;

import dev.aireview.runner.execution.CancelReason;
import dev.aireview.runner.execution.CancelSignal;
import dev.aireview.runner.model.LogStream;
import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.observability.Mdc;
import dev.aireview.runner.server.Backoff;
import dev.aireview.runner.server.ErrorClass;
import dev.aireview.runner.server.Retrier;
import dev.aireview.runner.server.ServerClient;
import dev.aireview.runner.server.ServerException;
import dev.aireview.runner.server.Sleeper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.Supplier;

/**
 * Sends one task's phase changes and log batches from its own thread, so that {@link #phase} and {@link #log}
 * never block the executor on the network. Logs go out when 64 KiB (configurable) are pending or every flush
 * interval. A failed send is retried a few times ({@link Retrier}), then dropped and counted (never fatal);
 * a 404/409/410 cancels the task ({@link CancelReason#TASK_GONE}) and stops further sends.
 */
final class TaskReporter {
    private static final Logger log = LoggerFactory.getLogger(TaskReporter.class);
    static final int MAX_PENDING_PHASES = 32;

    private record Phase(TaskPhase phase, String message) {
    }

    private final ServerClient client;
    private final Supplier<String> runnerId;
    private final String taskId;
    private final TaskLog taskLog;
    private final CancelSignal cancel;
    private final Retrier retrier;
    private final Duration flushInterval;
    private final long batchBytes;
    private final int maxAttempts;
    private final Thread thread;

    private final Object lock = new Object();
    private final Deque<Phase> phases = new ArrayDeque<>();
    private boolean closing;
    private volatile boolean gone;
    private volatile int droppedBatches;
    private volatile int droppedPhases;

    TaskReporter(ServerClient client, Supplier<String> runnerId, String taskId, TaskLog taskLog, CancelSignal cancel,
                 Backoff backoff, Sleeper sleeper, Duration flushInterval, long batchBytes, int maxAttempts) {
        this.client = client;
        this.runnerId = runnerId;
        this.taskId = taskId;
        this.taskLog = taskLog;
        this.cancel = cancel;
        this.retrier = new Retrier(backoff, sleeper);
        this.flushInterval = flushInterval;
        this.batchBytes = batchBytes;
        this.maxAttempts = maxAttempts;
        this.thread = new NamedThreadFactory("task-report-" + taskId).newThread(this::loop);
    }

    void start() {
        thread.start();
    }

    void phase(TaskPhase phase, String message) {
        synchronized (lock) {
            if (closing || gone) {
                return;
            }
            if (phases.size() >= MAX_PENDING_PHASES) {
                droppedPhases++;
                return;
            }
            phases.addLast(new Phase(phase, message));
            lock.notifyAll();
        }
    }

    void log(LogStream stream, String line) {
        taskLog.append(stream, line);
        if (taskLog.pendingBytes() >= batchBytes) {
            synchronized (lock) {
                lock.notifyAll();
            }
        }
    }

    /**
     * Ends the log (tail + drop notice), sends everything still pending and stops the thread; waits at most
     * {@code timeout}. Returns true when everything was handed to the server (or dropped after retries).
     */
    boolean finish(Duration timeout) throws InterruptedException {
        taskLog.close();
        synchronized (lock) {
            closing = true;
            lock.notifyAll();
        }
        thread.join(Math.max(1, timeout.toMillis()));
        if (thread.isAlive()) {
            log.warn("task {}: log/status upload did not finish within {} ms; continuing without it", taskId, timeout.toMillis());
            thread.interrupt();
            return false;
        }
        return true;
    }

    boolean gone() {
        return gone;
    }

    int droppedBatches() {
        return droppedBatches;
    }

    private void loop() {
        MDC.put(Mdc.TASK_ID, taskId);
        try {
            while (true) {
                Phase next;
                boolean finishing;
                synchronized (lock) {
                    if (phases.isEmpty() && !closing && taskLog.pendingBytes() < batchBytes) {
                        lock.wait(Math.max(1, flushInterval.toMillis()));
                    }
                    next = phases.pollFirst();
                    finishing = closing;
                }
                if (next != null) {
                    sendPhase(next);
                    continue;
                }
                TaskLog.Batch batch;
                while ((batch = taskLog.take(batchBytes)) != null) {
                    sendLogs(batch);
                    synchronized (lock) {
                        if (!phases.isEmpty()) {
                            break;
                        }
                    }
                }
                if (finishing) {
                    synchronized (lock) {
                        if (phases.isEmpty() && !taskLog.hasPending()) {
                            break;
                        }
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (droppedBatches > 0 || droppedPhases > 0) {
                log.warn("task {}: {} log batch(es) and {} status update(s) could not be delivered", taskId, droppedBatches, droppedPhases);
            }
            MDC.remove(Mdc.TASK_ID);
        }
    }

    private void sendPhase(Phase p) throws InterruptedException {
        if (!send("status " + p.phase().wire(), () -> client.status(runnerId.get(), taskId, p.phase(), p.message()))) {
            droppedPhases++;
        }
    }

    private void sendLogs(TaskLog.Batch b) throws InterruptedException {
        if (!send("logs at offset " + b.offset(), () -> client.logs(runnerId.get(), taskId, b.offset(), b.lines()))) {
            droppedBatches++;
        }
    }

    private interface Send {
        void run() throws ServerException, InterruptedException;
    }

    /** One status or log send through the {@link Retrier}: a few attempts, then dropped (never fatal). */
    private boolean send(String what, Send call) throws InterruptedException {
        if (gone) {
            return false;
        }
        Retrier.Policy policy = Retrier.policy("task " + taskId + ": " + what)
                .retry(ErrorClass.RETRYABLE, ErrorClass.UNAUTHORIZED, ErrorClass.REREGISTER)
                .maxAttempts(maxAttempts)
                .quiet();
        Retrier.Outcome<Void> out = retrier.run(policy, () -> {
            call.run();
            return null;
        });
        if (out.ok()) {
            return true;
        }
        ServerException e = out.failure();
        if (e.errorClass() == ErrorClass.TASK_GONE) {
            gone = true;
            log.warn("task {}: server answered HTTP {} to {}: the task is no longer this runner's; stopping it",
                    taskId, e.httpStatus(), what);
            cancel.cancel(CancelReason.TASK_GONE);
            return false;
        }
        log.warn("task {}: {} dropped: {}", taskId, what, e.getMessage());
        return false;
    }
}

package dev.aireview.runner.scheduler;

import dev.aireview.runner.execution.ClaimJournal;
import dev.aireview.runner.execution.TaskContext;
import dev.aireview.runner.execution.TaskExecutor;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.LogStream;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.model.TaskStats;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test executor whose behaviour follows the task id's prefix:
 * {@code ok-} completes at once, {@code gate-} completes when {@link #gate} opens (or returns cancelled when
 * cancelled), {@code throw-} throws, {@code hang-} returns only when cancelled, {@code stuck-} ignores cancel and
 * interrupts until {@link #unstick} opens, {@code stubborn-} ignores cancel and interrupts but returns cancelled
 * once killed ({@link dev.aireview.runner.execution.CancelSignal#kill}), {@code log-} prints the given lines then
 * completes. {@link #executions} counts every start per id, {@link #interrupted} records ids whose thread saw an
 * interrupt, {@link #leftovers} is what {@link #leftoverTaskIds()} returns, {@link #journal} what
 * {@link #claimJournal()} returns ({@link #journaledAtStart}: the ids that were in it when their execute began).
 * {@code reports-} hands a completed result over ({@link TaskContext#report}) and then "cleans up" until
 * {@link #cleanup} opens ({@link #cleaning}: the ids doing so), returning another result; {@code reports-twice-}
 * reports a second, failed result too; {@code reports-throw-} throws after its clean-up.
 */
final class FakeExecutor implements TaskExecutor {
    final AtomicInteger running = new AtomicInteger();
    final AtomicInteger maxRunning = new AtomicInteger();
    final Set<String> executed = ConcurrentHashMap.newKeySet();
    final Set<String> sawTimeout = ConcurrentHashMap.newKeySet();
    final CountDownLatch gate = new CountDownLatch(1);
    final CountDownLatch unstick = new CountDownLatch(1);
    final AtomicBoolean started = new AtomicBoolean();
    final AtomicBoolean closed = new AtomicBoolean();
    final Map<String, AtomicInteger> executions = new ConcurrentHashMap<>();
    final Set<String> interrupted = ConcurrentHashMap.newKeySet();
    final Set<String> killed = ConcurrentHashMap.newKeySet();
    volatile List<String> leftovers = List.of();
    volatile ClaimJournal journal = ClaimJournal.NONE;
    final Set<String> journaledAtStart = ConcurrentHashMap.newKeySet();
    /** When set, close() blocks until it opens (a hung executor close). */
    volatile CountDownLatch closeBlocker;
    volatile List<String> linesToLog = List.of();
    volatile String summary = "looks good";
    final CountDownLatch cleanup = new CountDownLatch(1);
    final Set<String> cleaning = ConcurrentHashMap.newKeySet();

    @Override
    public void start() {
        started.set(true);
    }

    @Override
    public void close() {
        closed.set(true);
        CountDownLatch b = closeBlocker;
        if (b != null) {
            awaitIgnoringInterrupts(b);
        }
    }

    @Override
    public List<String> leftoverTaskIds() {
        return leftovers;
    }

    @Override
    public ClaimJournal claimJournal() {
        return journal;
    }

    int executionsOf(String id) {
        AtomicInteger n = executions.get(id);
        return n == null ? 0 : n.get();
    }

    private static void awaitIgnoringInterrupts(CountDownLatch latch) {
        while (latch.getCount() > 0) {
            try {
                latch.await();
            } catch (InterruptedException ignored) {
                // a badly behaved executor
            }
        }
    }

    @Override
    public TaskResult execute(ReviewTask task, TaskContext ctx) throws Exception {
        executed.add(task.id());
        if (journal.list().contains(task.id())) {
            journaledAtStart.add(task.id());
        }
        executions.computeIfAbsent(task.id(), k -> new AtomicInteger()).incrementAndGet();
        int now = running.incrementAndGet();
        maxRunning.accumulateAndGet(now, Math::max);
        sawTimeout.add(task.id() + "=" + ctx.timeout().toSeconds());
        try {
            ctx.phase(TaskPhase.PREPARING, "preparing");
            String id = task.id();
            if (id.startsWith("throw-")) {
                throw new IllegalStateException("boom in executor");
            }
            if (id.startsWith("hang-")) {
                ctx.cancel().await(Duration.ofMinutes(5));
                return TaskResult.failure(ErrorKind.CANCELLED, "stopped on request");
            }
            if (id.startsWith("stuck-")) {
                while (unstick.getCount() > 0) {
                    try {
                        unstick.await();
                    } catch (InterruptedException ignored) {
                        // a badly behaved executor: ignores interrupts too
                        interrupted.add(id);
                    }
                }
                return TaskResult.completed("too late", List.of(), TaskStats.EMPTY);
            }
            if (id.startsWith("stubborn-")) {
                CountDownLatch kill = new CountDownLatch(1);
                ctx.cancel().onKill(() -> {
                    killed.add(id);
                    kill.countDown();
                });
                while (kill.getCount() > 0) {
                    try {
                        kill.await();
                    } catch (InterruptedException ignored) {
                        interrupted.add(id);
                    }
                }
                return TaskResult.failure(ErrorKind.CANCELLED, "killed");
            }
            if (id.startsWith("reports-")) {
                ctx.phase(TaskPhase.SUBMITTING, "judging the outcome");
                ctx.report(TaskResult.completed("handed over", List.of(), new TaskStats(null, null, 0, 3)));
                if (id.startsWith("reports-twice-")) {
                    ctx.report(TaskResult.failure(ErrorKind.EXECUTOR_FAILED, "a second report"));
                }
                cleaning.add(id);
                try {
                    awaitIgnoringInterrupts(cleanup);
                } finally {
                    cleaning.remove(id);
                }
                if (id.startsWith("reports-throw-")) {
                    throw new IllegalStateException("clean-up failed");
                }
                return TaskResult.failure(ErrorKind.EXECUTOR_FAILED, "returned after the report");
            }
            if (id.startsWith("gate-")) {
                while (!gate.await(Duration.ofMillis(10).toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                    if (ctx.cancel().isCancelled()) {
                        return TaskResult.failure(ErrorKind.CANCELLED, "cancelled while running");
                    }
                }
            }
            for (String line : linesToLog) {
                ctx.log(LogStream.STDOUT, line);
            }
            ctx.phase(TaskPhase.REVIEWING, "reviewing");
            if (id.startsWith("submits-")) {
                ctx.phase(TaskPhase.SUBMITTING, "judging the outcome"); // as the Docker executor does
            }
            return TaskResult.completed(summary, List.of(), new TaskStats(null, null, 0, 3));
        } finally {
            running.decrementAndGet();
        }
    }
}

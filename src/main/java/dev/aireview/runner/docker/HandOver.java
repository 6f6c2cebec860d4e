package dev.aireview.runner.docker;

import dev.aireview.runner.execution.CancelSignal;
import dev.aireview.runner.execution.ClaimJournal;
import dev.aireview.runner.execution.TaskContext;
import dev.aireview.runner.model.LogStream;
import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * The result before the clean-up: the {@link TaskContext} a task's {@link DockerTaskExecutor#execute} works with. Its
 * {@link #report} first marks the task as cleaning ({@code <runner>/cleaning/}, a {@link ClaimJournal} entry: written,
 * fsync'd and renamed before the call returns), then hands the result to the scheduler, which sends it while the
 * executor removes the containers and deletes the workspace. A runner that dies in between leaves the mark: the next
 * start's {@link OrphanReaper} removes the task's leftovers and does not report the task again (its result was sent, or
 * its claim-journal entry still names it). A mark that cannot be written keeps the old order: the result goes back
 * with {@code execute}'s return, after the clean-up. {@link #cleaned} removes the mark once nothing of the task is left.
 */
final class HandOver implements TaskContext {
    private static final Logger LOG = LoggerFactory.getLogger(HandOver.class);

    private final TaskContext ctx;
    private final String taskId;
    private final ClaimJournal cleaning;
    private volatile boolean reported;

    HandOver(TaskContext ctx, String taskId, ClaimJournal cleaning) {
        this.ctx = ctx;
        this.taskId = taskId;
        this.cleaning = cleaning;
    }

    @Override
    public void phase(TaskPhase phase, String message) {
        ctx.phase(phase, message);
    }

    @Override
    public void log(LogStream stream, String line) {
        ctx.log(stream, line);
    }

    @Override
    public CancelSignal cancel() {
        return ctx.cancel();
    }

    @Override
    public Duration timeout() {
        return ctx.timeout();
    }

    /** Marks the task cleaning, then hands {@code result} over; only the first call of a task does anything. */
    @Override
    public void report(TaskResult result) {
        if (reported) {
            LOG.warn("task {}: a result was handed over already; this one is ignored", taskId);
            return;
        }
        reported = true;
        if (!cleaning.record(taskId)) {
            LOG.warn("task {}: cannot mark it cleaning; its result is sent after the clean-up", taskId);
            return;
        }
        ctx.report(result);
    }

    /** The clean-up is over: true when it left nothing ({@code complete}), so the mark goes; otherwise the reaper's. */
    void cleaned(boolean complete) {
        if (!reported) {
            return;
        }
        if (complete) {
            cleaning.remove(taskId);
        } else {
            LOG.warn("task {}: its clean-up left something behind; the reaper removes it at the next start (the task is not"
                    + " reported again)", taskId);
        }
    }
}

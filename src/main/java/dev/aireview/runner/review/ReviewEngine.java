package dev.aireview.runner.review;

import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.model.TaskStats;
import dev.aireview.runner.observability.SecretMasker;
import dev.aireview.runner.review.ai.AiReviewer;
import dev.aireview.runner.review.rules.OfflineReviewer;

import java.nio.file.Path;
import java.util.List;

/**
 * Reviews one task: loads the diff ({@link DiffSource}), then runs the AI reviewer when the task has
 * {@code ai}, the offline rules otherwise. Never throws: a review that fails becomes a
 * {@code failed/executor_failed} result whose message never contains the AI key.
 */
public final class ReviewEngine {

    private final OfflineReviewer offline;
    private final AiReviewer ai;

    public ReviewEngine() {
        this(new OfflineReviewer(), new AiReviewer());
    }

    public ReviewEngine(OfflineReviewer offline, AiReviewer ai) {
        this.offline = offline;
        this.ai = ai;
    }

    public TaskResult review(ReviewTask task, Path repoDir, Progress progress) {
        String key = task.ai() == null ? null : task.ai().apiKey();
        try {
            ChangeSet change = new DiffSource(progress).load(task, repoDir);
            progress.line("change: " + change.files().size() + " file(s), +" + change.additions() + " −" + change.deletions());
            TaskResult result = task.ai() != null ? ai.review(task, change, progress)
                    : offline.review(change, task.rules(), progress);
            return result.withStats(new TaskStats(null, null, null, change.files().size()));
        } catch (ReviewFailedException e) {
            String message = mask(e.getMessage(), key);
            progress.line("review failed: " + message);
            return TaskResult.failure(ErrorKind.EXECUTOR_FAILED, message);
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            String message = mask("internal error of the review engine: " + e, key);
            progress.line("review failed: " + message);
            return TaskResult.failure(ErrorKind.EXECUTOR_FAILED, message);
        }
    }

    static String mask(String text, String secret) {
        return secret == null ? text : SecretMasker.of(List.of(secret)).mask(text);
    }
}

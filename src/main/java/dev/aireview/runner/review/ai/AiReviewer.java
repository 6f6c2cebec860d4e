package dev.aireview.runner.review.ai;

import dev.aireview.runner.model.ReviewComment;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.Severity;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.model.TaskStats;
import dev.aireview.runner.review.ChangeSet;
import dev.aireview.runner.review.LineMap;
import dev.aireview.runner.review.Progress;
import dev.aireview.runner.review.ReviewFailedException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The reviewer used when a task has {@code ai}: splits the diff into parts ({@link DiffChunker}), asks the model
 * about each part ({@link ChatClient}), validates the answers ({@link ModelAnswer}), places every comment on a
 * line of the diff ({@link LineMap}: kept on an added line, moved to the nearest added line within
 * {@value LineMap#MAX_MOVE_DISTANCE} lines, otherwise dropped) and merges the parts into one result.
 * A malformed answer is asked again once; a second malformed answer fails the review, quoting its start.
 */
public final class AiReviewer {

    /** Diff characters per request (roughly 4 characters per token). */
    public static final int DEFAULT_DIFF_BUDGET = 48_000;
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(180);
    static final int QUOTE_CHARS = 200;

    private final int diffBudget;
    private final RetryPolicy retry;
    private final Duration requestTimeout;

    public AiReviewer() {
        this(DEFAULT_DIFF_BUDGET, RetryPolicy.DEFAULT, DEFAULT_REQUEST_TIMEOUT);
    }

    public AiReviewer(int diffBudget, RetryPolicy retry, Duration requestTimeout) {
        this.diffBudget = diffBudget;
        this.retry = retry;
        this.requestTimeout = requestTimeout;
    }

    public TaskResult review(ReviewTask task, ChangeSet change, Progress progress) throws ReviewFailedException {
        ChatClient client = new ChatClient(task.ai(), retry, requestTimeout, progress);
        PromptBuilder prompts = new PromptBuilder(task);
        List<DiffChunker.Chunk> chunks = new DiffChunker(diffBudget).split(change.files());
        LineMap lines = new LineMap(change.files());
        progress.line("AI review: model " + task.ai().model() + " at " + client.endpoint().getHost()
                + ", " + chunks.size() + " request(s) for " + change.files().size() + " file(s)");
        String system = prompts.system();
        List<String> summaries = new ArrayList<>();
        List<ReviewComment> comments = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        int moved = 0;
        int dropped = 0;
        int invalid = 0;
        for (int i = 0; i < chunks.size(); i++) {
            DiffChunker.Chunk chunk = chunks.get(i);
            String user = prompts.user(chunk, i + 1, chunks.size());
            ModelAnswer answer = ask(client, system, user, i + 1, chunks.size(), progress);
            invalid += answer.invalidComments();
            summaries.add(answer.summary());
            for (ReviewComment c : answer.comments()) {
                LineMap.Mapping m = lines.map(c.path(), c.line());
                if (m == null) {
                    dropped++;
                    continue;
                }
                String message = c.message();
                Integer end = lines.mapEndLine(m.path(), m.line(), c.endLine());
                if (m.moved()) {
                    moved++;
                    message = "(about line " + c.line() + ") " + message;
                    end = null;
                }
                String key = m.path() + ":" + m.line() + ":" + message;
                if (seen.add(key)) {
                    comments.add(new ReviewComment(m.path(), m.line(), end, c.severity(), message, c.suggestion()));
                }
            }
            progress.line("AI review: part " + (i + 1) + "/" + chunks.size() + " answered with "
                    + answer.comments().size() + " comment(s)");
        }
        comments.sort(Comparator.comparing(ReviewComment::path).thenComparing(ReviewComment::line));
        if (moved + dropped + invalid > 0) {
            progress.line("AI review: " + moved + " comment(s) moved to the nearest changed line, " + dropped
                    + " dropped (not on a changed line), " + invalid + " invalid");
        }
        String summary = summary(task, change, chunks, summaries, comments, moved, dropped + invalid);
        return TaskResult.completed(summary, comments, new TaskStats(null, null, null, change.files().size()));
    }

    private ModelAnswer ask(ChatClient client, String system, String user, int part, int parts, Progress progress)
            throws ReviewFailedException {
        MalformedAnswerException first = null;
        for (int attempt = 1; attempt <= 2; attempt++) {
            try {
                return ModelAnswer.parse(client.complete(system, user));
            } catch (MalformedAnswerException e) {
                if (first == null) {
                    first = e;
                    progress.line("AI review: part " + part + "/" + parts + ": " + e.getMessage() + "; asking once more");
                } else {
                    throw new ReviewFailedException("the model returned malformed output for part " + part + "/" + parts
                            + " twice (" + e.getMessage() + "); it began: \"" + e.quote(QUOTE_CHARS) + "\"");
                }
            }
        }
        throw new IllegalStateException("unreachable");
    }

    private static String summary(ReviewTask task, ChangeSet change, List<DiffChunker.Chunk> chunks, List<String> summaries,
                                  List<ReviewComment> comments, int moved, int dropped) {
        Map<Severity, Integer> counts = new EnumMap<>(Severity.class);
        comments.forEach(c -> counts.merge(c.severity(), 1, Integer::sum));
        StringBuilder s = new StringBuilder("## AI review\n\n");
        if (summaries.size() == 1) {
            s.append(summaries.get(0).strip()).append("\n\n");
        } else {
            for (int i = 0; i < summaries.size(); i++) {
                List<String> paths = chunks.get(i).paths();
                s.append("**Part ").append(i + 1).append('/').append(summaries.size()).append("** (")
                        .append(paths.size() <= 3 ? "`" + String.join("`, `", paths) + "`" : paths.size() + " files")
                        .append("): ").append(summaries.get(i).strip()).append("\n\n");
            }
        }
        s.append("Reviewed ").append(change.files().size()).append(" file(s) (+").append(change.additions()).append(" −")
                .append(change.deletions()).append(") with `").append(task.ai().model()).append("`");
        if (chunks.size() > 1) {
            s.append(" in ").append(chunks.size()).append(" parts");
        }
        s.append(": ").append(counts.getOrDefault(Severity.ERROR, 0)).append(" error(s), ")
                .append(counts.getOrDefault(Severity.WARNING, 0)).append(" warning(s), ")
                .append(counts.getOrDefault(Severity.INFO, 0)).append(" info.");
        if (moved > 0 || dropped > 0) {
            s.append(" ").append(moved).append(" comment(s) moved to the nearest changed line, ").append(dropped)
                    .append(" dropped (outside the diff or invalid).");
        }
        s.append('\n');
        return s.toString();
    }
}

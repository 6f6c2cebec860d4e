package dev.aireview.runner.review.ai;

import dev.aireview.runner.model.ReviewComment;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.Severity;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.model.TaskStats;
import dev.aireview.runner.review.ChangeSet;
import dev.aireview.runner.review.CommentPolicy;
import dev.aireview.runner.review.FileDiff;
import dev.aireview.runner.review.LineMap;
import dev.aireview.runner.review.Progress;
import dev.aireview.runner.review.ReviewFailedException;
import dev.aireview.runner.review.config.RepoConfig;
import dev.aireview.runner.review.rules.FileKinds;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The reviewer used when a task has {@code ai}:
 * <ol>
 *   <li>leaves generated, vendored, lock, minified and binary files out (listed in the summary) and shows deleted
 *       files by name only;</li>
 *   <li>widens each hunk with context from the file at head ({@link HunkContext}) and packs the diff into parts by
 *       an estimated token budget ({@link DiffChunker}; what does not fit is listed);</li>
 *   <li>asks the model about each part ({@link ChatClient}); an answer cut off at the token limit
 *       ({@code finish_reason: "length"}) splits the part in two and asks again; a malformed answer is asked again
 *       once; a part the model declines is named in the summary;</li>
 *   <li>validates the answers ({@link ModelAnswer}), places every comment on a line of the diff ({@link LineMap}:
 *       kept on an added line, moved to the nearest added line within {@value LineMap#MAX_MOVE_DISTANCE} lines);
 *       comments further away are listed in the summary, not posted;</li>
 *   <li>applies the {@link CommentPolicy} (threshold, near-duplicates, cap) and records token usage per part and in
 *       total ({@code stats.promptTokens}/{@code completionTokens}).</li>
 * </ol>
 */
public final class AiReviewer {

    /** Estimated diff tokens per request (model context minus prompt and answer, for common 16k+ models). */
    public static final int DEFAULT_DIFF_BUDGET = 12_000;
    /** Requests per review at most (cost bound); what lies beyond is listed as not reviewed. */
    public static final int DEFAULT_MAX_PARTS = 16;
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(180);
    static final int QUOTE_CHARS = 200;
    static final int MAX_LISTED = 20;

    private final int diffBudget;
    private final int maxParts;
    private final RetryPolicy retry;
    private final Duration requestTimeout;

    public AiReviewer() {
        this(DEFAULT_DIFF_BUDGET, RetryPolicy.DEFAULT, DEFAULT_REQUEST_TIMEOUT);
    }

    public AiReviewer(int diffBudget, RetryPolicy retry, Duration requestTimeout) {
        this(diffBudget, DEFAULT_MAX_PARTS, retry, requestTimeout);
    }

    /** @param diffBudget estimated diff tokens per request ({@link TokenEstimate}) */
    public AiReviewer(int diffBudget, int maxParts, RetryPolicy retry, Duration requestTimeout) {
        this.diffBudget = diffBudget;
        this.maxParts = maxParts;
        this.retry = retry;
        this.requestTimeout = requestTimeout;
    }

    public TaskResult review(ReviewTask task, ChangeSet change, Progress progress) throws ReviewFailedException {
        return review(task, change, RepoConfig.DEFAULTS, path -> null, progress);
    }

    /** A part of the diff with its label ({@code 2}, {@code 2.1} after a split). */
    private record Part(String label, DiffChunker.Chunk chunk) {
    }

    /** What happened to the comments and parts of one review, for the summary. */
    private static final class Tally {
        final List<String> summaries = new ArrayList<>();
        final List<ReviewComment> comments = new ArrayList<>();
        final List<ReviewComment> outside = new ArrayList<>();
        final List<String> declined = new ArrayList<>();
        final List<String> failed = new ArrayList<>();
        final Set<String> notReviewed = new LinkedHashSet<>();
        final Set<String> seen = new LinkedHashSet<>();
        int answered;
        int moved;
        int invalid;
        int requests;
        long promptTokens;
        long completionTokens;
    }

    /**
     * @param headFiles the lines of a file at head by path, or null when unknown (then no extra context)
     */
    public TaskResult review(ReviewTask task, ChangeSet change, RepoConfig config, Function<String, List<String>> headFiles,
                             Progress progress) throws ReviewFailedException {
        List<FileDiff> reviewed = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (FileDiff f : change.files()) {
            String reason = FileKinds.skipReason(f);
            if (reason != null) {
                skipped.add("`" + f.path() + "` (" + reason + ")");
            } else if (f.change() == FileDiff.ChangeType.DELETED) {
                reviewed.add(new FileDiff(f.path(), f.oldPath(), f.change(), false, List.of(), f.sizeBytes()));
            } else {
                reviewed.add(f);
            }
        }
        List<FileDiff> shown = reviewed.stream().map(f -> HunkContext.expand(f, headFiles.apply(f.path()))).toList();
        DiffChunker.Plan plan = new DiffChunker(diffBudget, maxParts, config::languageOf).split(shown);
        LineMap lines = new LineMap(reviewed);
        // every provider call and retry wait fits what is left of the task's own limit
        ChatClient client = new ChatClient(task.ai(), retry, requestTimeout, progress, Budget.forTask(task), ChatClient.DEFAULT_BODY_CAP);
        PromptBuilder prompts = new PromptBuilder(task, config);
        String host;
        try {
            host = client.endpoint().getHost();
        } catch (IllegalArgumentException e) {
            throw new ReviewFailedException("ai.baseUrl is not usable: " + client.mask(String.valueOf(task.ai().baseUrl())));
        }
        progress.line("AI review: model " + task.ai().model() + " at " + host + ", " + plan.chunks().size() + " request(s) for "
                + reviewed.size() + " file(s)" + (skipped.isEmpty() ? "" : ", " + skipped.size() + " skipped (generated, vendored, lock, minified or binary)")
                + (plan.notFitting().isEmpty() ? "" : ", " + plan.notFitting().size() + " not fitting the budget"));
        String system = prompts.system();
        Tally tally = new Tally();
        Deque<Part> queue = new ArrayDeque<>();
        for (int i = 0; i < plan.chunks().size(); i++) {
            queue.add(new Part(String.valueOf(i + 1), plan.chunks().get(i)));
        }
        int parts = plan.chunks().size();
        tally.notReviewed.addAll(plan.pathsNotSent());
        ReviewFailedException firstFailure = null;
        while (!queue.isEmpty()) {
            Part part = queue.poll();
            String name = "part " + part.label() + "/" + parts;
            Completion answer;
            ModelAnswer parsed;
            try {
                answer = ask(client, system, prompts.user(part.chunk(), part.label(), parts), name, tally, progress);
                if (answer.truncated() && part.chunk().halves() != null) {
                    List<DiffChunker.Chunk> halves = part.chunk().halves();
                    progress.line("AI review: " + name + ": the answer was cut off at the token limit; asking about it in two halves");
                    queue.addFirst(new Part(part.label() + ".2", halves.get(1)));
                    queue.addFirst(new Part(part.label() + ".1", halves.get(0)));
                    continue;
                }
                if (answer.refused()) {
                    String why = answer.refusal() == null ? "the provider's content filter stopped the answer" : clip(answer.refusal(), QUOTE_CHARS);
                    progress.line("AI review: " + name + ": the model declined: " + why);
                    tally.declined.add(name + " (" + String.join(", ", part.chunk().paths()) + "): " + why);
                    tally.notReviewed.addAll(part.chunk().paths());
                    continue;
                }
                parsed = parse(answer, name, client, system, prompts.user(part.chunk(), part.label(), parts), tally, progress);
            } catch (ReviewFailedException e) {
                // one part that could not be reviewed does not lose the others: the review ends partial, naming it
                if (firstFailure == null) {
                    firstFailure = e;
                }
                boolean stop = e instanceof ProviderCallException;
                progress.line("AI review: " + name + " not reviewed: " + e.getMessage() + (stop && !queue.isEmpty() ? "; not asking about the remaining parts" : ""));
                tally.failed.add(name + " (" + String.join(", ", part.chunk().paths()) + "): " + clip(e.getMessage(), 300));
                tally.notReviewed.addAll(part.chunk().paths());
                if (stop) {
                    for (Part left : queue) {
                        tally.failed.add("part " + left.label() + "/" + parts + " (" + String.join(", ", left.chunk().paths()) + "): not asked ("
                                + clip(e.getMessage(), 120) + ")");
                        tally.notReviewed.addAll(left.chunk().paths());
                    }
                    queue.clear();
                }
                continue;
            }
            tally.answered++;
            place(parsed, lines, tally);
            progress.line("AI review: " + name + " answered with " + parsed.comments().size() + " comment(s)");
        }
        if (tally.answered == 0 && firstFailure != null) {
            throw firstFailure;
        }
        if (tally.answered == 0 && !tally.declined.isEmpty()) {
            throw new ReviewFailedException("the model declined to review the change: " + tally.declined.get(0));
        }
        CommentPolicy.Outcome posted = CommentPolicy.apply(tally.comments, config);
        progress.line("AI review: " + posted.kept().size() + " comment(s) posted, " + tally.moved + " moved to the nearest changed line, "
                + tally.outside.size() + " outside the diff, " + tally.invalid + " invalid; tokens: " + tally.promptTokens + " prompt + "
                + tally.completionTokens + " completion in " + tally.requests + " request(s)");
        String summary = summary(task, reviewed, change, plan, skipped, tally, posted);
        TaskStats stats = new TaskStats(null, null, null, change.files().size(), tally.promptTokens, tally.completionTokens)
                .withNotReviewed(tally.notReviewed.size(), false);
        return TaskResult.completed(summary, posted.kept(), stats);
    }

    /** One request, with the token usage recorded and logged. */
    private Completion ask(ChatClient client, String system, String user, String name, Tally tally, Progress progress)
            throws ReviewFailedException {
        Completion c = client.complete(system, user, name);
        tally.requests++;
        tally.promptTokens += c.promptTokens();
        tally.completionTokens += c.completionTokens();
        progress.line("AI review: " + name + ": " + c.promptTokens() + " prompt + " + c.completionTokens() + " completion tokens"
                + (c.finishReason() == null ? "" : ", finish_reason " + c.finishReason()));
        return c;
    }

    /** Parses the answer; a malformed one is asked again once; a cut-off single hunk is a named failure. */
    private ModelAnswer parse(Completion first, String name, ChatClient client, String system, String user, Tally tally,
                              Progress progress) throws ReviewFailedException {
        Completion answer = first;
        for (int attempt = 1; ; attempt++) {
            try {
                return ModelAnswer.parse(answer.content());
            } catch (MalformedAnswerException e) {
                if (answer.truncated()) {
                    throw new ReviewFailedException("the model's answer for " + name + " was cut off at the token limit (finish_reason \""
                            + answer.finishReason() + "\") and the part is a single hunk that cannot be split further; "
                            + "raise ai.maxTokens or use a model with a larger output limit");
                }
                if (attempt == 2) {
                    throw new ReviewFailedException("the model returned malformed output for " + name + " twice (" + e.getMessage()
                            + "); it began: \"" + e.quote(QUOTE_CHARS) + "\"");
                }
                progress.line("AI review: " + name + ": " + e.getMessage() + "; asking once more");
                answer = ask(client, system, user, name, tally, progress);
                if (answer.refused() && answer.content() == null) {
                    throw new ReviewFailedException("the model declined " + name + " after a malformed answer: "
                            + clip(String.valueOf(answer.refusal()), QUOTE_CHARS));
                }
            }
        }
    }

    private static void place(ModelAnswer answer, LineMap lines, Tally tally) {
        tally.invalid += answer.invalidComments();
        if (!answer.summary().isBlank()) {
            tally.summaries.add(answer.summary());
        }
        for (ReviewComment c : answer.comments()) {
            LineMap.Mapping m = lines.map(c.path(), c.line());
            if (m == null) {
                tally.outside.add(c);
                continue;
            }
            String message = c.message();
            Integer end = lines.mapEndLine(m.path(), m.line(), c.endLine());
            if (m.moved()) {
                tally.moved++;
                message = "(about line " + c.line() + ") " + message;
                end = null;
            }
            if (tally.seen.add(m.path() + ":" + m.line() + ":" + message)) {
                tally.comments.add(new ReviewComment(m.path(), m.line(), end, c.severity(), message, c.suggestion()));
            }
        }
    }

    private static String summary(ReviewTask task, List<FileDiff> reviewed, ChangeSet change, DiffChunker.Plan plan, List<String> skipped,
                                  Tally t, CommentPolicy.Outcome posted) {
        Map<Severity, Integer> counts = new EnumMap<>(Severity.class);
        posted.kept().forEach(c -> counts.merge(c.severity(), 1, Integer::sum));
        StringBuilder s = new StringBuilder("## AI review\n\n");
        if (t.summaries.size() == 1) {
            s.append(t.summaries.get(0).strip()).append("\n\n");
        } else {
            for (int i = 0; i < t.summaries.size(); i++) {
                s.append("**Part ").append(i + 1).append('/').append(t.summaries.size()).append("**: ").append(t.summaries.get(i).strip()).append("\n\n");
            }
        }
        if (!t.notReviewed.isEmpty()) {
            s.append("**Partial review**: ").append(t.notReviewed.size()).append(" of ").append(reviewed.size())
                    .append(" file(s) were not (fully) reviewed by the model; they are listed below.\n\n");
        }
        if (posted.kept().isEmpty()) {
            s.append(reviewed.isEmpty() ? "**No findings**: nothing in this change needed the model (every file was skipped or excluded).\n\n"
                    : "**No findings**: the model raised no problems in the reviewed changes.\n\n");
        }
        s.append("Reviewed ").append(reviewed.size()).append(" file(s) (+").append(change.additions()).append(" −")
                .append(change.deletions()).append(") with `").append(task.ai().model()).append("`");
        if (t.requests > 1) {
            s.append(" in ").append(t.requests).append(" requests");
        }
        s.append(": ").append(counts.getOrDefault(Severity.ERROR, 0)).append(" error(s), ")
                .append(counts.getOrDefault(Severity.WARNING, 0)).append(" warning(s), ")
                .append(counts.getOrDefault(Severity.INFO, 0)).append(" info.");
        if (t.moved > 0) {
            s.append(" ").append(t.moved).append(" comment(s) moved to the nearest changed line.");
        }
        if (t.invalid > 0) {
            s.append(" ").append(t.invalid).append(" invalid comment(s) dropped (no path, line or message).");
        }
        s.append(" Tokens: ").append(t.promptTokens).append(" prompt + ").append(t.completionTokens).append(" completion.\n");
        posted.notes().forEach(n -> s.append("\n- ").append(n));
        if (!posted.notes().isEmpty()) {
            s.append('\n');
        }
        list(s, "Comments outside the diff", "The model placed these on lines this change does not touch, so they are not posted as comments:",
                t.outside.stream().map(c -> "`" + c.path() + ":" + c.line() + "` (" + c.severity().wire() + "): " + clip(c.message(), 300)).toList());
        list(s, "Not reviewed by the model", null, concat(skipped, plan.notFitting()));
        list(s, "Parts the model declined", null, t.declined);
        list(s, "Parts not reviewed", "The provider gave no usable answer for these parts:", t.failed);
        return s.toString();
    }

    private static void list(StringBuilder s, String title, String intro, List<String> items) {
        if (items.isEmpty()) {
            return;
        }
        s.append("\n### ").append(title).append("\n\n");
        if (intro != null) {
            s.append(intro).append("\n\n");
        }
        for (int i = 0; i < items.size(); i++) {
            if (i == MAX_LISTED) {
                s.append("- … and ").append(items.size() - MAX_LISTED).append(" more\n");
                break;
            }
            s.append("- ").append(items.get(i).replace('\n', ' ')).append('\n');
        }
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    private static String clip(String s, int max) {
        String one = s.replaceAll("\\s+", " ").strip();
        return one.length() > max ? one.substring(0, max) + "…" : one;
    }
}

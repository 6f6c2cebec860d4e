package dev.aireview.runner.review;

import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.model.TaskStats;
import dev.aireview.runner.observability.SecretMasker;
import dev.aireview.runner.review.ai.AiReviewer;
import dev.aireview.runner.review.config.RepoConfig;
import dev.aireview.runner.review.config.RepoConfigLoader;
import dev.aireview.runner.review.rules.OfflineReviewer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reviews one task: loads the diff ({@link DiffSource}: the whole change, or only what changed since the last
 * reviewed head), reads the repository's {@code .ai-review.yml} at the base commit ({@link RepoConfigLoader}),
 * leaves out the paths it excludes, reads the {@code .gitattributes} of the rest at the same commit
 * ({@link GitAttributes}), then runs the AI reviewer when the task has {@code ai}, the offline rules otherwise.
 * The summary says how the change was chosen, which settings applied (or why the file was ignored) and which paths
 * were excluded. Never throws: a review that fails becomes a {@code failed/executor_failed}
 * result whose message never contains the AI key.
 */
public final class ReviewEngine {

    static final int MAX_PATHS_LISTED = 20;

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
        // one git for the whole review: its object questions share one cat-file process
        GitRepo git = repoDir == null || !java.nio.file.Files.isDirectory(repoDir) ? null : new GitRepo(repoDir);
        try {
            return review(task, repoDir, git, progress);
        } finally {
            if (git != null) {
                git.close();
            }
        }
    }

    private TaskResult review(ReviewTask task, Path repoDir, GitRepo git, Progress progress) {
        String key = task.ai() == null ? null : task.ai().apiKey();
        try {
            ChangeSet change = new DiffSource(progress, git).load(task, repoDir);
            progress.line("change: " + change.files().size() + " file(s), +" + change.additions() + " −" + change.deletions());
            RepoConfigLoader.Loaded loaded = RepoConfigLoader.load(git, task, progress);
            RepoConfig config = loaded.config();
            List<FileDiff> kept = new ArrayList<>();
            List<String> excluded = new ArrayList<>();
            for (FileDiff f : change.files()) {
                if (config.reviews(f.path())) {
                    kept.add(f);
                } else {
                    excluded.add(f.path());
                }
            }
            if (!excluded.isEmpty()) {
                progress.line("repository config: " + excluded.size() + " file(s) excluded from the review");
            }
            RepoConfigLoader.BaseCommit base = baseCommit(git, task);
            ChangeSet scoped = GitAttributes.apply(change.withFiles(kept), git, base == null ? null : base.sha(), progress);
            TaskResult result = task.ai() != null ? ai.review(task, scoped, config, HeadFiles.of(git, task.headSha()), progress)
                    : offline.review(scoped, task.rules(), config, progress);
            String summary = withNotes(result.summary(), change, loaded, excluded);
            TaskStats stats = result.stats().withReview(scoped.files().size(), result.stats().promptTokens(), result.stats().completionTokens())
                    .withNotReviewed(change.filesCut(), change.truncated());
            return new TaskResult(result.status(), summary, result.comments(), result.error(), stats);
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

    private static RepoConfigLoader.BaseCommit baseCommit(GitRepo git, ReviewTask task) {
        try {
            return RepoConfigLoader.baseCommit(git, task);
        } catch (java.io.IOException e) {
            return null; // no attributes: the heuristics decide
        }
    }

    /**
     * Notes that matter for reading the review go right under the heading (incremental or not, a repository config
     * that was ignored); the settings used and the excluded paths go at the end.
     */
    static String withNotes(String summary, ChangeSet change, RepoConfigLoader.Loaded config, List<String> excluded) {
        if (summary == null) {
            return null;
        }
        StringBuilder top = new StringBuilder();
        change.notes().forEach(n -> top.append(n).append("\n\n"));
        if (!config.problems().isEmpty()) {
            top.append("**Note:** the repository configuration (`").append(config.source()).append("`) was ignored and the defaults "
                    + "were used, because: ").append(String.join("; ", config.problems())).append(".\n\n");
        }
        StringBuilder bottom = new StringBuilder();
        if (config.found() && config.problems().isEmpty()) {
            bottom.append("\nRepository settings from `").append(config.source()).append("`: ").append(config.config().describe()).append(".\n");
        }
        if (!excluded.isEmpty()) {
            bottom.append("\n### Excluded by `.ai-review.yml`\n\n");
            for (int i = 0; i < excluded.size(); i++) {
                if (i == MAX_PATHS_LISTED) {
                    bottom.append("- … and ").append(excluded.size() - MAX_PATHS_LISTED).append(" more\n");
                    break;
                }
                bottom.append("- `").append(excluded.get(i)).append("`\n");
            }
        }
        String s = summary.stripTrailing() + "\n";
        if (top.length() > 0) {
            int nl = s.startsWith("#") ? s.indexOf("\n\n") : -1;
            s = nl < 0 ? top + s : s.substring(0, nl + 2) + top + s.substring(nl + 2);
        }
        return s + bottom;
    }

    static String mask(String text, String secret) {
        return secret == null ? text : SecretMasker.of(List.of(secret)).mask(text);
    }
}

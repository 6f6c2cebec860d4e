package dev.aireview.runner.review.rules;

import dev.aireview.runner.model.ReviewComment;
import dev.aireview.runner.model.Severity;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.model.TaskStats;
import dev.aireview.runner.review.ChangeSet;
import dev.aireview.runner.review.CommentPolicy;
import dev.aireview.runner.review.config.RepoConfig;
import dev.aireview.runner.review.FileDiff;
import dev.aireview.runner.review.Progress;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reviewer used when a task has no {@code ai}: runs every {@link Rule} over the added lines and writes a
 * markdown summary (counts by severity, findings by rule, file-level findings, files reviewed, the task's
 * rules). Deterministic: the same change gives the same result.
 */
public final class OfflineReviewer {

    private static final int MAX_FILES_LISTED = 50;

    private final List<Rule> rules;

    public OfflineReviewer() {
        this(defaultRules());
    }

    public OfflineReviewer(List<Rule> rules) {
        this.rules = List.copyOf(rules);
    }

    public static List<Rule> defaultRules() {
        return List.of(new SecretRule(), new ConflictMarkerRule(), new DebugOutputRule(), new TodoRule(),
                new LongLineRule(), new MissingFinalNewlineRule(), new LargeOrGeneratedFileRule());
    }

    /** Runs the rules; returns all findings, most severe first, then by path and line. */
    public List<Finding> findings(List<FileDiff> files) {
        List<Finding> all = new ArrayList<>();
        for (Rule r : rules) {
            r.check(files, all);
        }
        all.sort(ORDER);
        return all;
    }

    private static final Comparator<Finding> ORDER = Comparator.comparing((Finding f) -> -f.severity().ordinal())
            .thenComparing(Finding::path).thenComparingInt(Finding::line).thenComparing(Finding::rule);

    public TaskResult review(ChangeSet change, List<String> taskRules, Progress progress) {
        return review(change, taskRules, RepoConfig.DEFAULTS, progress);
    }

    /**
     * Reviews with the repository's settings: its {@code rules} are listed with the task's, {@code offline_rules}
     * switches rules off, and the {@link CommentPolicy} (threshold and cap; findings are never merged) decides what
     * is posted.
     */
    public TaskResult review(ChangeSet change, List<String> taskRules, RepoConfig config, Progress progress) {
        OfflineReviewer active = new OfflineReviewer(rules.stream().filter(r -> config.runs(r.id(), r.onByDefault())).toList());
        return active.run(change, taskRules, config, progress);
    }

    private TaskResult run(ChangeSet change, List<String> taskRules, RepoConfig config, Progress progress) {
        progress.line("offline review: checking " + change.files().size() + " file(s) with " + rules.size() + " rules");
        // Not sorted as a whole: the rules run in the order of their ids, so the comments come ordered by rule (then as
        // each rule found them), which is how the policy's stable sort breaks ties, as after a full sort by ORDER.
        List<Finding> findings = new ArrayList<>();
        for (Rule r : rules.stream().sorted(Comparator.comparing(Rule::id)).toList()) {
            r.check(change.files(), findings);
        }
        List<ReviewComment> comments = new ArrayList<>();
        List<Finding> fileLevel = new ArrayList<>();
        for (Finding f : findings) {
            if (!f.hasLine()) {
                fileLevel.add(f);
            } else {
                comments.add(f.toComment());
            }
        }
        fileLevel.sort(ORDER);
        CommentPolicy.Outcome posted = CommentPolicy.apply(comments, config, false);
        progress.line("offline review: " + findings.size() + " finding(s), " + posted.kept().size() + " line comment(s) posted");
        List<String> allRules = new ArrayList<>(taskRules);
        allRules.addAll(config.rules());
        String summary = summary(change, findings, fileLevel, posted, allRules, config);
        return TaskResult.completed(summary, posted.kept(), new TaskStats(null, null, null, change.files().size()));
    }

    private String summary(ChangeSet change, List<Finding> findings, List<Finding> fileLevel, CommentPolicy.Outcome posted,
                           List<String> taskRules, RepoConfig config) {
        Map<Severity, Integer> bySeverity = new EnumMap<>(Severity.class);
        Map<String, Integer> byRule = new LinkedHashMap<>();
        for (Rule r : rules) {
            byRule.put(r.id(), 0);
        }
        for (Finding f : findings) {
            bySeverity.merge(f.severity(), 1, Integer::sum);
            byRule.merge(f.rule(), 1, Integer::sum);
        }
        int errors = bySeverity.getOrDefault(Severity.ERROR, 0);
        int warnings = bySeverity.getOrDefault(Severity.WARNING, 0);
        int infos = bySeverity.getOrDefault(Severity.INFO, 0);
        StringBuilder s = new StringBuilder();
        s.append("## Automated review (offline rules)\n\n");
        s.append("Reviewed **").append(change.files().size()).append(" file(s)** (+").append(change.additions())
                .append(" −").append(change.deletions()).append(" lines, diff from ").append(change.source()).append(").\n\n");
        if (rules.isEmpty()) {
            s.append("The offline rules are switched off for this repository (`offline_rules: false` in `.ai-review.yml`), "
                    + "so nothing was checked.\n\n");
        } else if (findings.isEmpty()) {
            s.append("**No findings**: the built-in checks found no problems in this change.\n\n");
        } else if (errors > 0) {
            s.append("**").append(errors).append(" error(s) must be fixed before merging.**\n\n");
        } else if (warnings > 0) {
            s.append("No blocking problems; ").append(warnings).append(" warning(s) worth a look.\n\n");
        } else {
            s.append("Only minor remarks.\n\n");
        }
        s.append("| Severity | Findings |\n|---|---|\n");
        s.append("| error | ").append(errors).append(" |\n");
        s.append("| warning | ").append(warnings).append(" |\n");
        s.append("| info | ").append(infos).append(" |\n\n");
        s.append("Checks run: ");
        List<String> parts = new ArrayList<>();
        for (Rule r : rules) {
            parts.add(r.title() + " (" + byRule.getOrDefault(r.id(), 0) + ")");
        }
        s.append(String.join("; ", parts)).append(".\n");
        if (!posted.notes().isEmpty()) {
            s.append('\n');
            posted.notes().forEach(n -> s.append("- ").append(n).append('\n'));
        }
        if (!fileLevel.isEmpty()) {
            s.append("\n### File-level findings\n\n");
            for (Finding f : fileLevel) {
                s.append("- **").append(f.severity().wire()).append("** `").append(f.path()).append("`: ").append(f.message()).append('\n');
            }
        }
        s.append("\n### Files reviewed\n\n");
        int n = 0;
        for (FileDiff f : change.files()) {
            if (n++ == MAX_FILES_LISTED) {
                s.append("- … and ").append(change.files().size() - MAX_FILES_LISTED).append(" more\n");
                break;
            }
            s.append("- `").append(f.path()).append("` (").append(describe(f)).append(")\n");
        }
        if (!taskRules.isEmpty() || !config.instructions().isEmpty()) {
            s.append("\n### Review rules of this project\n\n");
            s.append("These need judgement and were not checked automatically (no AI model configured for this review):\n\n");
            for (String r : taskRules) {
                s.append("- ").append(r.replace('\n', ' ')).append('\n');
            }
            for (RepoConfig.PathText i : config.instructionsFor(change.files().stream().map(FileDiff::path).toList())) {
                s.append("- for `").append(i.glob()).append("`: ").append(i.text().replace('\n', ' ')).append('\n');
            }
        }
        return s.toString();
    }

    private static String describe(FileDiff f) {
        String what = switch (f.change()) {
            case ADDED -> "added";
            case DELETED -> "deleted";
            case RENAMED -> "renamed from `" + f.oldPath() + "`";
            case COPIED -> "copied from `" + f.oldPath() + "`";
            case MODIFIED -> "modified";
        };
        String how = f.binary() ? what + ", binary" : what + ", +" + f.additions() + " −" + f.deletions();
        return FileKinds.markedGeneratedOrVendored(f) ? how + "; " + FileKinds.skipReason(f) : how;
    }
}

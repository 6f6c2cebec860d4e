package dev.aireview.runner.review.rules;

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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

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
            r.check(files, all::add);
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
        // each rule found them), which is how the policy's stable selection breaks ties, as after a full sort by ORDER.
        Tally tally = new Tally(rules, config);
        for (Rule r : rules.stream().sorted(Comparator.comparing(Rule::id)).toList()) {
            r.check(change.files(), tally);
        }
        tally.fileLevel.sort(ORDER);
        CommentPolicy.Outcome posted = tally.comments.outcome();
        progress.line("offline review: " + tally.total + " finding(s), " + posted.kept().size() + " line comment(s) posted");
        List<String> allRules = new ArrayList<>(taskRules);
        allRules.addAll(config.rules());
        String summary = summary(change, tally, posted, allRules, config);
        return TaskResult.completed(summary, posted.kept(), new TaskStats(null, null, null, change.files().size()));
    }

    /**
     * What the summary and the result need of the findings, taken one at a time as the rules find them: counts, the
     * file-level findings (at most a few per file) and the line comments the policy keeps. The findings themselves
     * are not held (a 40 MiB diff gives 125 000 of them).
     */
    private static final class Tally implements Consumer<Finding> {
        final int[] bySeverity = new int[Severity.values().length];
        /** per rule id, one counter each (no boxed count per finding) */
        final Map<String, int[]> byRule = new HashMap<>();
        final List<Finding> fileLevel = new ArrayList<>();
        final CommentPolicy.MostSevere comments;
        int total;

        Tally(List<Rule> rules, RepoConfig config) {
            rules.forEach(r -> byRule.put(r.id(), new int[1]));
            comments = new CommentPolicy.MostSevere(config);
        }

        @Override
        public void accept(Finding f) {
            total++;
            bySeverity[f.severity().ordinal()]++;
            byRule.computeIfAbsent(f.rule(), k -> new int[1])[0]++;
            if (f.hasLine()) {
                comments.offer(f.toComment());
            } else {
                fileLevel.add(f);
            }
        }
    }

    private String summary(ChangeSet change, Tally tally, CommentPolicy.Outcome posted, List<String> taskRules, RepoConfig config) {
        List<Finding> fileLevel = tally.fileLevel;
        int errors = tally.bySeverity[Severity.ERROR.ordinal()];
        int warnings = tally.bySeverity[Severity.WARNING.ordinal()];
        int infos = tally.bySeverity[Severity.INFO.ordinal()];
        StringBuilder s = new StringBuilder();
        s.append("## Automated review (offline rules)\n\n");
        s.append("Reviewed **").append(change.files().size()).append(" file(s)** (+").append(change.additions())
                .append(" −").append(change.deletions()).append(" lines, diff from ").append(change.source()).append(").\n\n");
        if (rules.isEmpty()) {
            s.append("The offline rules are switched off for this repository (`offline_rules: false` in `.ai-review.yml`), "
                    + "so nothing was checked.\n\n");
        } else if (tally.total == 0) {
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
            parts.add(r.title() + " (" + tally.byRule.get(r.id())[0] + ")");
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

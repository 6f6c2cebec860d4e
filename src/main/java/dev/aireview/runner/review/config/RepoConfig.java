package dev.aireview.runner.review.config;

import dev.aireview.runner.model.Severity;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A repository's review settings from {@code .ai-review.yml} (read at the base commit, see {@link RepoConfigLoader}).
 *
 * @param exclude           paths not reviewed at all (listed in the summary)
 * @param include           when not empty, only these paths are reviewed
 * @param instructions      extra instructions for the model, per path glob
 * @param rules             review rules added to the task's
 * @param severityThreshold comments below this severity are not posted (null: all)
 * @param maxComments       per-review cap on comments, the most severe kept (null: {@link #DEFAULT_MAX_COMMENTS})
 * @param language          natural language of the review's summary and comments (null: the model's choice)
 * @param languages         programming-language hints per path glob, for files the model might misread
 * @param offlineRules      whether the offline rules run at all
 * @param disabledRules     offline rule ids switched off ({@code todo}, {@code debug-output}, …)
 * @param enabledRules      offline rule ids switched on, among them rules that are off by default ({@code long-line}, …)
 */
public record RepoConfig(List<Glob> exclude, List<Glob> include, List<PathText> instructions, List<String> rules,
                         Severity severityThreshold, Integer maxComments, String language, List<PathText> languages,
                         boolean offlineRules, Set<String> disabledRules, Set<String> enabledRules) {

    public static final int DEFAULT_MAX_COMMENTS = 50;
    public static final int MAX_MAX_COMMENTS = 200;
    public static final RepoConfig DEFAULTS = new RepoConfig(List.of(), List.of(), List.of(), List.of(), null, null, null,
            List.of(), true, Set.of(), Set.of());

    /** Settings that switch no rule on. */
    public RepoConfig(List<Glob> exclude, List<Glob> include, List<PathText> instructions, List<String> rules,
                      Severity severityThreshold, Integer maxComments, String language, List<PathText> languages,
                      boolean offlineRules, Set<String> disabledRules) {
        this(exclude, include, instructions, rules, severityThreshold, maxComments, language, languages, offlineRules, disabledRules, Set.of());
    }

    /** Whether an offline rule runs: switched on, or on by default and not switched off. */
    public boolean runs(String ruleId, boolean onByDefault) {
        return offlineRules && (enabledRules.contains(ruleId) || onByDefault && !disabledRules.contains(ruleId));
    }

    /** A text (instruction or language name) that applies to paths matching a glob. */
    public record PathText(Glob glob, String text) {
    }

    public RepoConfig {
        exclude = List.copyOf(exclude);
        include = List.copyOf(include);
        instructions = List.copyOf(instructions);
        rules = List.copyOf(rules);
        languages = List.copyOf(languages);
        disabledRules = Set.copyOf(disabledRules);
        enabledRules = Set.copyOf(enabledRules);
    }

    /** Whether the path is reviewed: not excluded, and included when an include list is given. */
    public boolean reviews(String path) {
        if (exclude.stream().anyMatch(g -> g.matches(path))) {
            return false;
        }
        return include.isEmpty() || include.stream().anyMatch(g -> g.matches(path));
    }

    public int commentCap() {
        return maxComments == null ? DEFAULT_MAX_COMMENTS : maxComments;
    }

    /** Instructions whose glob matches any of the paths, in file order, each once. */
    public List<PathText> instructionsFor(List<String> paths) {
        return instructions.stream().filter(i -> paths.stream().anyMatch(i.glob()::matches)).toList();
    }

    /** The language hint for a path, or null. */
    public String languageOf(String path) {
        return languages.stream().filter(l -> l.glob().matches(path)).map(PathText::text).findFirst().orElse(null);
    }

    /** The settings worth naming in the summary, e.g. {@code exclude 2 glob(s), max_comments 20}. */
    public String describe() {
        List<String> parts = new java.util.ArrayList<>();
        if (!exclude.isEmpty()) parts.add("exclude " + exclude.size() + " glob(s)");
        if (!include.isEmpty()) parts.add("include " + include.size() + " glob(s)");
        if (!instructions.isEmpty()) parts.add(instructions.size() + " path instruction(s)");
        if (!rules.isEmpty()) parts.add(rules.size() + " rule(s)");
        if (severityThreshold != null) parts.add("severity_threshold " + severityThreshold.wire());
        if (maxComments != null) parts.add("max_comments " + maxComments);
        if (language != null) parts.add("language " + language);
        if (!languages.isEmpty()) parts.add(languages.size() + " language hint(s)");
        if (!offlineRules) parts.add("offline rules off");
        if (!disabledRules.isEmpty()) parts.add("offline rules off: " + String.join(", ", new java.util.TreeSet<>(disabledRules)));
        if (!enabledRules.isEmpty()) parts.add("offline rules on: " + String.join(", ", new java.util.TreeSet<>(enabledRules)));
        return parts.isEmpty() ? "no settings" : String.join(", ", parts);
    }

    static Map<String, String> aliases() {
        return Map.of("severityThreshold", "severity_threshold", "maxComments", "max_comments",
                "offlineRules", "offline_rules", "pathInstructions", "instructions", "path_instructions", "instructions");
    }
}

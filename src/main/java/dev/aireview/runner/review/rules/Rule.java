package dev.aireview.runner.review.rules;

import dev.aireview.runner.review.FileDiff;

import java.util.List;
import java.util.function.Consumer;

/** A deterministic check of the offline reviewer. Rules look only at what the change adds. */
public interface Rule {

    /** Short stable id, used in the summary ({@code debug-output}, {@code secret}, …). */
    String id();

    /** One line describing what the rule looks for. */
    String title();

    /**
     * Whether the rule runs unless a repository switches it off. Rules that are mostly noise on real-world commits
     * (below 80 % useful findings) are off by default; {@code offline_rules: {id: true}} in {@code .ai-review.yml}
     * switches them on.
     */
    default boolean onByDefault() {
        return true;
    }

    /** Adds findings for the given files (the rule decides which files it applies to). */
    void check(List<FileDiff> files, Consumer<Finding> out);
}

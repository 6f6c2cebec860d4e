package dev.aireview.runner.review.rules;

import dev.aireview.runner.review.FileDiff;

import java.util.List;

/** A deterministic check of the offline reviewer. Rules look only at what the change adds. */
public interface Rule {

    /** Short stable id, used in the summary ({@code debug-output}, {@code secret}, …). */
    String id();

    /** One line describing what the rule looks for. */
    String title();

    /** Adds findings for the given files (the rule decides which files it applies to). */
    void check(List<FileDiff> files, List<Finding> out);
}

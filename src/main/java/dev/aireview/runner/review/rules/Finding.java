package dev.aireview.runner.review.rules;

import dev.aireview.runner.model.ReviewComment;
import dev.aireview.runner.model.Severity;

/**
 * What a rule found. {@code line} is a new-side line number; 0 for a file-level finding that has no line
 * (a binary file): those go into the summary only, never into the result's comments.
 */
public record Finding(String rule, String path, int line, Integer endLine, Severity severity, String message, String suggestion) {

    public boolean hasLine() {
        return line > 0;
    }

    public ReviewComment toComment() {
        return new ReviewComment(path, line, endLine, severity, message, suggestion);
    }
}

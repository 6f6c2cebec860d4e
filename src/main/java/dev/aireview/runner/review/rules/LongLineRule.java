package dev.aireview.runner.review.rules;

import dev.aireview.runner.model.Severity;
import dev.aireview.runner.review.DiffLine;
import dev.aireview.runner.review.FileDiff;

import java.util.List;
import java.util.function.Consumer;

/**
 * Very long added lines in source files (over {@value #DEFAULT_LIMIT} characters; prose, data, lock and
 * minified files excluded). Consecutive long lines become one comment with a line range; at most
 * {@value #MAX_PER_FILE} comments per file.
 */
public final class LongLineRule implements Rule {

    public static final int DEFAULT_LIMIT = 200;
    static final int MAX_PER_FILE = 5;

    private final int limit;

    public LongLineRule() {
        this(DEFAULT_LIMIT);
    }

    public LongLineRule(int limit) {
        this.limit = limit;
    }

    /** Off by default (0 of 121 findings useful on real commits: long lines are a formatter's business). */
    @Override
    public boolean onByDefault() {
        return false;
    }

    @Override
    public String id() {
        return "long-line";
    }

    @Override
    public String title() {
        return "lines longer than " + limit + " characters";
    }

    @Override
    public void check(List<FileDiff> files, Consumer<Finding> out) {
        for (FileDiff f : files) {
            if (FileKinds.skipLineRules(f) || FileKinds.isProseOrData(f)) {
                continue;
            }
            int reported = 0;
            int start = -1;
            int end = -1;
            int longest = 0;
            for (DiffLine l : f.addedLines()) {
                int len = l.text().codePointCount(0, l.text().length());
                if (len <= limit) {
                    continue;
                }
                if (start > 0 && l.newLine() == end + 1) {
                    end = l.newLine();
                    longest = Math.max(longest, len);
                    continue;
                }
                if (start > 0 && reported++ < MAX_PER_FILE) {
                    out.accept(finding(f, start, end, longest));
                }
                start = l.newLine();
                end = start;
                longest = len;
            }
            if (start > 0 && reported < MAX_PER_FILE) {
                out.accept(finding(f, start, end, longest));
            }
        }
    }

    private Finding finding(FileDiff f, int start, int end, int longest) {
        String where = start == end ? "Line is " + longest + " characters long"
                : "Lines " + start + "–" + end + " are up to " + longest + " characters long";
        return new Finding(id(), f.path(), start, end == start ? null : end, Severity.INFO,
                where + " (limit " + limit + "): wrap or split it so it can be read without horizontal scrolling.", null);
    }
}

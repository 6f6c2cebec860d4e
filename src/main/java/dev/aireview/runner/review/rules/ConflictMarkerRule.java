package dev.aireview.runner.review.rules;

import dev.aireview.runner.model.Severity;
import dev.aireview.runner.review.DiffLine;
import dev.aireview.runner.review.FileDiff;

import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Committed merge-conflict markers. One error per conflict block ({@code <<<<<<<} to {@code >>>>>>>});
 * a lone {@code =======} (a Markdown heading underline) only counts inside such a block.
 */
public final class ConflictMarkerRule implements Rule {

    private static final Pattern OPEN = Pattern.compile("^<{7}(\\s.*)?$");
    private static final Pattern CLOSE = Pattern.compile("^>{7}(\\s.*)?$");

    @Override
    public String id() {
        return "conflict-marker";
    }

    @Override
    public String title() {
        return "merge-conflict markers";
    }

    @Override
    public void check(List<FileDiff> files, Consumer<Finding> out) {
        for (FileDiff f : files) {
            if (f.binary()) {
                continue;
            }
            Integer open = null;
            for (DiffLine l : f.addedLines()) {
                String t = l.text();
                if (t.startsWith("<<<<<<<") && OPEN.matcher(t).matches()) {
                    if (open != null) {
                        out.accept(finding(f, open, null));
                    }
                    open = l.newLine();
                } else if (t.startsWith(">>>>>>>") && CLOSE.matcher(t).matches()) {
                    out.accept(finding(f, open == null ? l.newLine() : open, open == null ? null : l.newLine()));
                    open = null;
                }
            }
            if (open != null) {
                out.accept(finding(f, open, null));
            }
        }
    }

    private Finding finding(FileDiff f, int line, Integer end) {
        return new Finding(id(), f.path(), line, end, Severity.ERROR,
                "Unresolved merge conflict committed (`<<<<<<<` / `=======` / `>>>>>>>` markers): the file will not "
                        + "compile or will behave unpredictably. Resolve the conflict and remove the markers.", null);
    }
}

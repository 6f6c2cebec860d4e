package dev.aireview.runner.review.rules;

import dev.aireview.runner.model.Severity;
import dev.aireview.runner.review.DiffLine;
import dev.aireview.runner.review.FileDiff;
import dev.aireview.runner.review.Hunk;

import java.util.List;
import java.util.function.Consumer;

/**
 * An added last line without a final newline ({@code \ No newline at end of file} after an added line).
 * A file that already lacked it before the change (the marker on a context line, or on the removed old last line
 * when the change rewrites or appends to it) is not reported, nor are symbolic
 * links (git stores a link's target without a newline), binaries git diffs as text, and the files every line rule
 * leaves out ({@link FileKinds#skipReason}: lock, minified, generated, vendored), nor test data whose exact bytes
 * may be the point (fixtures, golden files, snapshots) and view templates (where a final newline is output).
 */
public final class MissingFinalNewlineRule implements Rule {

    @Override
    public String id() {
        return "final-newline";
    }

    @Override
    public String title() {
        return "files without a final newline";
    }

    @Override
    public void check(List<FileDiff> files, Consumer<Finding> out) {
        for (FileDiff f : files) {
            if (FileKinds.skipLineRules(f) || FileKinds.looksBinary(f) || FileKinds.isTestData(f) || FileKinds.isTemplate(f) || f.change() == FileDiff.ChangeType.DELETED || f.hunks().isEmpty()) {
                continue;
            }
            Hunk last = f.hunks().get(f.hunks().size() - 1);
            if (last.lines().stream().anyMatch(l -> l.kind() == DiffLine.Kind.REMOVED && l.noNewlineAtEnd())) {
                continue; // the old last line lacked it too: not this change's doing
            }
            for (DiffLine l : last.lines()) {
                if (l.isAdded() && l.noNewlineAtEnd()) {
                    out.accept(new Finding(id(), f.path(), l.newLine(), null, Severity.INFO,
                            "File does not end with a newline: POSIX tools, `cat` and many linters expect one, and the "
                                    + "next change to this line will show up in the diff. Add a final newline.", null));
                }
            }
        }
    }
}

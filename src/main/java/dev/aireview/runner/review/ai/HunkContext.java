package dev.aireview.runner.review.ai;

import dev.aireview.runner.review.DiffLine;
import dev.aireview.runner.review.FileDiff;
import dev.aireview.runner.review.Hunk;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * More context for the model around each hunk of a changed file, from the file at head: up to the start of the
 * enclosing function or class when it is at most {@value #MAX_UP} lines above the hunk (a declaration line at the
 * hunk's indentation or less), otherwise {@value #BEFORE} more lines; and {@value #AFTER} more lines after. Added
 * lines never overlap the neighbouring hunks. Only context lines are added, so what counts as changed (and where
 * comments may go) is unchanged.
 */
final class HunkContext {

    static final int MAX_UP = 30;
    static final int BEFORE = 5;
    static final int AFTER = 3;
    private static final Pattern DECLARATION = Pattern.compile("^\\s*(?:(?:public|private|protected|internal|static|final|abstract|"
            + "override|suspend|async|export|default|open|inline|synchronized)\\s+)*(?:def|func|fun|function|class|interface|object|"
            + "enum|record|struct|impl|fn|module|describe|it)\\b.*|^\\s*(?:(?:public|private|protected|static|final|abstract|"
            + "synchronized)\\s+)+[\\w<>\\[\\],.? ]+\\s+\\w+\\s*\\(.*|^\\s*(?:const|let|var)\\s+\\w+\\s*=\\s*(?:async\\s*)?\\(.*=>.*");

    private HunkContext() {
    }

    /** The file with widened hunks; the file itself when it is not a modified text file or its content is unknown. */
    static FileDiff expand(FileDiff f, List<String> head) {
        if (head == null || f.binary() || f.hunks().isEmpty() || f.change() == FileDiff.ChangeType.ADDED
                || f.change() == FileDiff.ChangeType.DELETED) {
            return f;
        }
        List<Hunk> out = new ArrayList<>();
        int previousEnd = 0;
        for (int i = 0; i < f.hunks().size(); i++) {
            Hunk h = f.hunks().get(i);
            int nextStart = i + 1 < f.hunks().size() ? f.hunks().get(i + 1).newStart() : head.size() + 1;
            int firstShown = h.newCount() == 0 ? h.newStart() + 1 : h.newStart();
            int lastShown = h.newCount() == 0 ? h.newStart() : h.newEnd();
            if (lastShown > head.size() || firstShown < 1) {
                out.add(h);
                previousEnd = Math.max(previousEnd, lastShown);
                continue;
            }
            if (head.isEmpty()) {
                // the change emptied the file (@@ -1,N +0,0 @@): no line at head to add
                out.add(h);
                continue;
            }
            int from = Math.max(previousEnd + 1, firstShown - BEFORE);
            // a deletion at the end of the file shows no line of its own: indent of the line above it
            int indent = indent(head.get(Math.min(firstShown, head.size()) - 1));
            for (int n = firstShown - 1; n >= Math.max(previousEnd + 1, firstShown - MAX_UP); n--) {
                String line = head.get(n - 1);
                if (!line.isBlank() && indent(line) <= indent && DECLARATION.matcher(line).matches()) {
                    from = Math.min(from, n);
                    break;
                }
            }
            int to = Math.min(nextStart - 1, Math.min(head.size(), lastShown + AFTER));
            // First line of each side the hunk covers (a side with no lines starts after its start line).
            int effOld = h.oldCount() == 0 ? h.oldStart() + 1 : h.oldStart();
            int effNew = h.newCount() == 0 ? h.newStart() + 1 : h.newStart();
            int offsetBefore = effOld - effNew;
            int offsetAfter = (effOld + h.oldCount()) - (effNew + h.newCount());
            List<DiffLine> lines = new ArrayList<>();
            for (int n = from; n < firstShown; n++) {
                lines.add(new DiffLine(DiffLine.Kind.CONTEXT, n + offsetBefore, n, head.get(n - 1), false));
            }
            lines.addAll(h.lines());
            for (int n = lastShown + 1; n <= to; n++) {
                lines.add(new DiffLine(DiffLine.Kind.CONTEXT, n + offsetAfter, n, head.get(n - 1), false));
            }
            int before = firstShown - from;
            int after = Math.max(0, to - lastShown);
            if (before + after == 0) {
                out.add(h);
            } else {
                out.add(new Hunk(effOld - before, h.oldCount() + before + after, from, h.newCount() + before + after, h.section(), lines));
            }
            previousEnd = Math.max(to, lastShown);
        }
        return f.withHunks(out);
    }

    private static int indent(String line) {
        int n = 0;
        while (n < line.length() && (line.charAt(n) == ' ' || line.charAt(n) == '\t')) {
            n++;
        }
        return n;
    }
}

package dev.aireview.runner.review.rules;

import dev.aireview.runner.model.Severity;
import dev.aireview.runner.review.DiffLine;
import dev.aireview.runner.review.FileDiff;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Newly added TODO/FIXME/XXX/HACK markers in comments (after {@code //}, {@code #}, {@code /*}, {@code *},
 * {@code <!--}, or a line starting with {@code --} or {@code ;}, so {@code case "TODO":} in code is not one).
 * FIXME, XXX and HACK mark known problems (warning); TODO is info.
 */
public final class TodoRule implements Rule {

    private static final Pattern COMMENT = Pattern.compile("//|#|/\\*|^\\s*\\*|<!--|^\\s*--|\\s--\\s|^\\s*;");
    private static final Pattern MARKER = Pattern.compile("(?<![A-Za-z0-9_-])(TODO|FIXME|XXX|HACK)(?![A-Za-z0-9_-])\\s*(\\([^)]*\\))?\\s*:?\\s*(.*)$");

    private static boolean inComment(String text, int markerAt) {
        Matcher c = COMMENT.matcher(text);
        return c.find() && c.start() < markerAt;
    }

    @Override
    public String id() {
        return "todo";
    }

    @Override
    public String title() {
        return "new TODO/FIXME/XXX markers";
    }

    @Override
    public void check(List<FileDiff> files, List<Finding> out) {
        for (FileDiff f : files) {
            if (FileKinds.skipLineRules(f)) {
                continue;
            }
            for (DiffLine l : f.addedLines()) {
                Matcher m = MARKER.matcher(l.text());
                if (!m.find() || !inComment(l.text(), m.start())) {
                    continue;
                }
                String marker = m.group(1);
                String note = m.group(3).replaceAll("\\s*(\\*/|-->)\\s*$", "").strip();
                if (note.length() > 80) {
                    note = note.substring(0, 77) + "…";
                }
                boolean todo = marker.equals("TODO");
                String what = note.isEmpty() ? "" : ": “" + note + "”";
                String message = todo
                        ? "New TODO added" + what + ". Link it to a ticket or resolve it before merging."
                        : "New " + marker + " added" + what + ". It marks a known problem: fix it in this change or track it in a ticket.";
                out.add(new Finding(id(), f.path(), l.newLine(), null, todo ? Severity.INFO : Severity.WARNING, message, null));
            }
        }
    }
}

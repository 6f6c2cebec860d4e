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
 * FIXME, XXX and HACK mark known problems (warning); TODO is info. The {@code //} of a URL ({@code https://}) does
 * not start a comment, and {@code XXX} counts only as a marker ({@code XXX:}, or first in the comment), not as a
 * placeholder ({@code 'XXX'}, {@code 555-XXXX}, {@code XXX.XXX}).
 */
public final class TodoRule implements Rule {

    private static final Pattern COMMENT = Pattern.compile("(?<![:\\w])//|(?:^|\\s)#+(?=\\s|$)|^\\s*#|/\\*|^\\s*\\*|<!--|^\\s*--|\\s--\\s|^\\s*;");
    /** XXX as a marker: followed by a colon, or the first word of the comment. */
    private static final Pattern XXX_MARKER = Pattern.compile("(?://+|#+|/\\*+|^\\s*\\*|<!--|--|;)\\s*XXX\\b|\\bXXX\\s*(\\([^)]*\\))?:");
    static final Pattern MARKER = Pattern.compile("(?<![A-Za-z0-9_-])(TODO|FIXME|XXX|HACK)(?![A-Za-z0-9_-])\\s*(\\([^)]*\\))?\\s*:?\\s*(.*)$");

    /** The end of a comment, cut from the note. */
    private static final Pattern COMMENT_END = Pattern.compile("\\s*(\\*/|-->)\\s*$");

    /** One of the markers occurs in the line (as any substring): {@link #MARKER} can only match such a line. */
    static boolean mayHoldMarker(String text) {
        return text.contains("TODO") || text.contains("FIXME") || text.contains("XXX") || text.contains("HACK");
    }

    private static boolean inComment(String text, int markerAt) {
        Matcher c = COMMENT.matcher(text);
        return c.find() && c.start() < markerAt;
    }

    /** The marker sits inside a string literal (an odd number of quotes of one kind before it). */
    private static boolean quoted(String text, int at) {
        int dq = 0;
        int sq = 0;
        for (int i = 0; i < at; i++) {
            char c = text.charAt(i);
            if (c == '"') {
                dq++;
            } else if (c == '\'' && (i == 0 || !Character.isLetter(text.charAt(i - 1)))) {
                sq++;
            }
        }
        return dq % 2 == 1 || sq % 2 == 1;
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
                if (!mayHoldMarker(l.text())) {
                    continue; // a cheap literal test first: most lines hold no marker
                }
                Matcher m = MARKER.matcher(l.text());
                if (!m.find() || !inComment(l.text(), m.start())) {
                    continue;
                }
                String marker = m.group(1);
                if (marker.equals("XXX") && !XXX_MARKER.matcher(l.text()).find()) {
                    continue;
                }
                if (quoted(l.text(), m.start())) {
                    continue;
                }
                String note = m.group(3);
                if (note.contains("*/") || note.contains("-->")) {
                    note = COMMENT_END.matcher(note).replaceAll("");
                }
                note = note.strip();
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

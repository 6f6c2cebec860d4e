package dev.aireview.runner.review.rules;

import dev.aireview.runner.model.Severity;
import dev.aireview.runner.review.DiffLine;
import dev.aireview.runner.review.FileDiff;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Newly added TODO/FIXME/XXX/HACK markers in comments (after {@code //}, {@code #}, {@code /*}, {@code *},
 * {@code <!--}, or a line starting with {@code --} or {@code ;}, so {@code case "TODO":} in code is not one).
 * FIXME, XXX and HACK mark known problems (warning); TODO is info. The {@code //} of a URL ({@code https://}) does
 * not start a comment, and {@code XXX} counts only as a marker ({@code XXX:}, or first in the comment), not as a
 * placeholder ({@code 'XXX'}, {@code 555-XXXX}, {@code XXX.XXX}).
 * <p>
 * Only notes the change brings in: a note also on a removed line of the change (any file: code moved, re-indented,
 * commented out or renamed) is carried over, not new (each removed note carries one added copy over); and one file's
 * repeated note (the same marker and text) is one finding on its first line that names the others.
 */
public final class TodoRule implements Rule {

    private static final Pattern COMMENT = Pattern.compile("(?<![:\\w])//|(?:^|\\s)#+(?=\\s|$)|^\\s*#|/\\*|^\\s*\\*|<!--|^\\s*--|\\s--\\s|^\\s*;");
    /** XXX as a marker: followed by a colon, or the first word of the comment. */
    private static final Pattern XXX_MARKER = Pattern.compile("(?://+|#+|/\\*+|^\\s*\\*|<!--|--|;)\\s*XXX\\b|\\bXXX\\s*(\\([^)]*\\))?:");
    static final Pattern MARKER = Pattern.compile("(?<![A-Za-z0-9_-])(TODO|FIXME|XXX|HACK)(?![A-Za-z0-9_-])\\s*(\\([^)]*\\))?\\s*:?\\s*(.*)$");

    /** The end of a comment, cut from the note. */
    private static final Pattern COMMENT_END = Pattern.compile("\\s*(\\*/|-->)\\s*$");

    private static final AnyLiteral MARKERS = new AnyLiteral("TODO", "FIXME", "XXX", "HACK");

    /** One of the markers occurs in the line (as any substring): {@link #MARKER} can only match such a line. */
    static boolean mayHoldMarker(String text) {
        return MARKERS.in(text);
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

    /**
     * A marker in a comment on one line, with its note (the comment end cut off), or null. A map key: equals and hashCode
     * are written out, since a record's own are bootstrapped through method handles on first use (~15 ms in the executor).
     */
    private record Note(String marker, String text) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Note n && marker.equals(n.marker) && text.equals(n.text);
        }

        @Override
        public int hashCode() {
            return 31 * marker.hashCode() + text.hashCode();
        }
    }

    private static Note note(String text) {
        if (!mayHoldMarker(text)) {
            return null; // a cheap literal test first: most lines hold no marker
        }
        Matcher m = MARKER.matcher(text);
        if (!m.find() || !inComment(text, m.start())) {
            return null;
        }
        String marker = m.group(1);
        if (marker.equals("XXX") && !XXX_MARKER.matcher(text).find()) {
            return null;
        }
        if (quoted(text, m.start())) {
            return null;
        }
        String note = m.group(3);
        if (note.contains("*/") || note.contains("-->")) {
            note = COMMENT_END.matcher(note).replaceAll("");
        }
        return new Note(marker, note.strip());
    }

    @Override
    public void check(List<FileDiff> files, Consumer<Finding> out) {
        // notes on removed lines of the whole change: an added copy of one is carried over, not new
        Map<Note, Integer> removed = new HashMap<>();
        for (FileDiff f : files) {
            if (FileKinds.skipLineRules(f)) {
                continue;
            }
            for (var h : f.hunks()) {
                for (DiffLine l : h.lines()) {
                    if (l.kind() == DiffLine.Kind.REMOVED) {
                        Note n = note(l.text());
                        if (n != null) {
                            removed.merge(n, 1, Integer::sum);
                        }
                    }
                }
            }
        }
        for (FileDiff f : files) {
            if (FileKinds.skipLineRules(f)) {
                continue;
            }
            Map<Note, List<Integer>> lines = new LinkedHashMap<>();
            for (DiffLine l : f.addedLines()) {
                Note n = note(l.text());
                if (n == null) {
                    continue;
                }
                if (!removed.isEmpty()) {
                    Integer carried = removed.get(n);
                    if (carried != null && carried > 0) {
                        removed.put(n, carried - 1);
                        continue;
                    }
                }
                lines.computeIfAbsent(n, k -> new ArrayList<>(1)).add(l.newLine());
            }
            lines.forEach((n, at) -> out.accept(finding(f.path(), n, at)));
        }
    }

    private Finding finding(String path, Note n, List<Integer> at) {
        String note = n.text();
        if (note.length() > 80) {
            note = note.substring(0, 77) + "…";
        }
        boolean todo = n.marker().equals("TODO");
        String what = note.isEmpty() ? "" : ": “" + note + "”";
        String also = "";
        if (at.size() > 1) {
            List<String> others = at.subList(1, Math.min(at.size(), 6)).stream().map(String::valueOf).toList();
            also = " The same note is on line" + (at.size() > 2 ? "s " : " ") + String.join(", ", others)
                    + (at.size() > 6 ? " and " + (at.size() - 6) + " more" : "") + ".";
        }
        String message = todo
                ? "New TODO added" + what + ". Link it to a ticket or resolve it before merging." + also
                : "New " + n.marker() + " added" + what + ". It marks a known problem: fix it in this change or track it in a ticket." + also;
        return new Finding(id(), path, at.get(0), null, todo ? Severity.INFO : Severity.WARNING, message, null);
    }
}

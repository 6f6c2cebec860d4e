package dev.aireview.runner.review;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeSet;

/**
 * Which new-side lines of which files a review comment may point at. A comment is kept on an added line;
 * a comment elsewhere in a changed file is moved to the nearest added line of that file when it is at most
 * {@link #MAX_MOVE_DISTANCE} lines away (a context line of a hunk, or just outside one), and dropped
 * otherwise; comments on files that are not part of the diff, or that have no added lines, are dropped.
 */
public final class LineMap {

    /** How far (in lines) a comment may be moved to reach an added line. */
    public static final int MAX_MOVE_DISTANCE = 20;

    private final Map<String, NavigableSet<Integer>> added = new HashMap<>();
    private final Map<String, NavigableSet<Integer>> visible = new HashMap<>();

    public LineMap(List<FileDiff> files) {
        for (FileDiff f : files) {
            if (f.change() == FileDiff.ChangeType.DELETED) {
                continue;
            }
            NavigableSet<Integer> a = added.computeIfAbsent(f.path(), k -> new TreeSet<>());
            NavigableSet<Integer> v = visible.computeIfAbsent(f.path(), k -> new TreeSet<>());
            for (Hunk h : f.hunks()) {
                for (DiffLine l : h.lines()) {
                    if (l.kind() == DiffLine.Kind.ADDED) {
                        a.add(l.newLine());
                        v.add(l.newLine());
                    } else if (l.kind() == DiffLine.Kind.CONTEXT) {
                        v.add(l.newLine());
                    }
                }
            }
        }
    }

    /** The outcome of mapping one comment position. */
    public record Mapping(String path, int line, boolean moved) {
    }

    public boolean hasFile(String path) {
        return added.containsKey(normalize(path));
    }

    public boolean isAdded(String path, int line) {
        NavigableSet<Integer> lines = added.get(normalize(path));
        return lines != null && lines.contains(line);
    }

    /** Whether the line is shown in the diff (added or context). */
    public boolean isVisible(String path, int line) {
        NavigableSet<Integer> lines = visible.get(normalize(path));
        return lines != null && lines.contains(line);
    }

    /** Where a comment on {@code path:line} goes, or null when it is dropped. */
    public Mapping map(String path, int line) {
        String p = normalize(path);
        NavigableSet<Integer> lines = added.get(p);
        if (lines == null || lines.isEmpty()) {
            return null;
        }
        if (lines.contains(line)) {
            return new Mapping(p, line, false);
        }
        Integer below = lines.floor(line);
        Integer above = lines.ceiling(line);
        Integer best;
        if (below == null) {
            best = above;
        } else if (above == null) {
            best = below;
        } else {
            best = (line - below) <= (above - line) ? below : above;
        }
        if (best == null || Math.abs(best - line) > MAX_MOVE_DISTANCE) {
            return null;
        }
        return new Mapping(p, best, true);
    }

    /** The end line of a range comment when it still lies in the diff after {@code line}; else null. */
    public Integer mapEndLine(String path, int line, Integer endLine) {
        if (endLine == null || endLine <= line) {
            return null;
        }
        return isVisible(path, endLine) ? endLine : null;
    }

    /** Paths as models and tools write them: {@code ./x}, {@code /x}, {@code a/x}, {@code b/x}, backslashes. */
    public String normalize(String path) {
        if (path == null) {
            return "";
        }
        String p = path.strip().replace('\\', '/');
        while (p.startsWith("./")) {
            p = p.substring(2);
        }
        while (p.startsWith("/")) {
            p = p.substring(1);
        }
        if (!added.containsKey(p) && (p.startsWith("a/") || p.startsWith("b/")) && added.containsKey(p.substring(2))) {
            p = p.substring(2);
        }
        return p;
    }
}

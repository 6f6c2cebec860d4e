package dev.aireview.runner.review.ai;

import dev.aireview.runner.review.DiffLine;
import dev.aireview.runner.review.FileDiff;
import dev.aireview.runner.review.Hunk;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Renders the diff for the model and splits it into parts of at most {@code budget} characters. Every line
 * carries its new-file line number, so the model can cite lines exactly:
 * <pre>
 * ### src/cart.ts (modified)
 * @@ -10,3 +10,4 @@ function total()
 *   10 |  const items = cart.items;
 *   11 |+ console.log(items);
 *      |- return 0;
 * </pre>
 * Files are packed whole when they fit; a larger file is split at hunk boundaries, a huge hunk by lines.
 * Binary files and files without hunks are listed by name only.
 */
public final class DiffChunker {

    /** One request's worth of diff. */
    public record Chunk(String text, List<String> paths) {
    }

    private final int budget;

    public DiffChunker(int budget) {
        if (budget < 200) {
            throw new IllegalArgumentException("diff budget too small: " + budget);
        }
        this.budget = budget;
    }

    public List<Chunk> split(List<FileDiff> files) {
        List<Chunk> chunks = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        Set<String> paths = new LinkedHashSet<>();
        for (FileDiff f : files) {
            for (String piece : renderFile(f)) {
                if (current.length() > 0 && current.length() + piece.length() > budget) {
                    chunks.add(new Chunk(current.toString(), List.copyOf(paths)));
                    current.setLength(0);
                    paths.clear();
                }
                current.append(piece);
                paths.add(f.path());
            }
        }
        if (current.length() > 0) {
            chunks.add(new Chunk(current.toString(), List.copyOf(paths)));
        }
        return chunks;
    }

    /** The file as one or more pieces, each within the budget and each starting with the file header. */
    List<String> renderFile(FileDiff f) {
        String header = header(f);
        List<String> pieces = new ArrayList<>();
        if (f.hunks().isEmpty()) {
            pieces.add(header + (f.binary() ? "(binary file, not shown)\n" : "(no textual changes)\n") + "\n");
            return pieces;
        }
        StringBuilder piece = new StringBuilder(header);
        for (Hunk h : f.hunks()) {
            for (String part : renderHunk(h, budget - header.length() - 1)) {
                if (piece.length() > header.length() && piece.length() + part.length() > budget) {
                    pieces.add(piece.append('\n').toString());
                    piece = new StringBuilder(header);
                }
                piece.append(part);
            }
        }
        pieces.add(piece.append('\n').toString());
        return pieces;
    }

    private static List<String> renderHunk(Hunk h, int max) {
        List<String> parts = new ArrayList<>();
        String head = "@@ -" + h.oldStart() + "," + h.oldCount() + " +" + h.newStart() + "," + h.newCount() + " @@"
                + (h.section().isEmpty() ? "" : " " + h.section()) + "\n";
        StringBuilder sb = new StringBuilder(head);
        for (DiffLine l : h.lines()) {
            String line = renderLine(l);
            if (line.length() > max - head.length()) {
                line = line.substring(0, Math.max(0, max - head.length() - 20)) + " …(line cut)\n";
            }
            if (sb.length() > head.length() && sb.length() + line.length() > max) {
                parts.add(sb.toString());
                sb = new StringBuilder("@@ (hunk continued) @@\n");
            }
            sb.append(line);
        }
        parts.add(sb.toString());
        return parts;
    }

    private static String renderLine(DiffLine l) {
        return switch (l.kind()) {
            case ADDED -> String.format("%5d |+%s%n", l.newLine(), l.text());
            case CONTEXT -> String.format("%5d | %s%n", l.newLine(), l.text());
            case REMOVED -> String.format("      |-%s%n", l.text());
        };
    }

    private static String header(FileDiff f) {
        String what = switch (f.change()) {
            case ADDED -> "added";
            case DELETED -> "deleted";
            case RENAMED -> "renamed from " + f.oldPath();
            case COPIED -> "copied from " + f.oldPath();
            case MODIFIED -> "modified";
        };
        return "### " + f.path() + " (" + what + ")\n";
    }
}

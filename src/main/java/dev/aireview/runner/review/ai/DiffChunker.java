package dev.aireview.runner.review.ai;

import dev.aireview.runner.review.DiffLine;
import dev.aireview.runner.review.FileDiff;
import dev.aireview.runner.review.Hunk;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.function.Function;

/**
 * Renders the diff for the model and packs it into parts by an estimated token budget ({@link TokenEstimate}).
 * Every line carries its new-file line number, so the model can cite lines exactly:
 * <pre>
 * ### src/cart.ts (modified)
 * @@ -10,3 +10,4 @@ function total()
 *   10 |  const items = cart.items;
 *   11 |+ console.log(items);
 *      |- return 0;
 * </pre>
 * A hunk is never split: a file goes into the current part when it fits, else into the next; a file larger than a
 * part is split at hunk boundaries (each piece repeats the file header). A hunk larger than a whole part, and
 * everything beyond {@code maxParts} parts, is not sent; {@link Plan#notFitting()} lists it for the summary.
 * Binary files and files without hunks are listed by name only.
 */
public final class DiffChunker {

    /** One hunk (or a name-only file) as rendered, with its file header and estimated cost. */
    public record Unit(String path, String header, String text, int tokens) {
    }

    /** One request's worth of diff. */
    public record Chunk(String text, List<String> paths, List<Unit> units, int tokens) {

        static Chunk of(List<Unit> units) {
            StringBuilder sb = new StringBuilder();
            LinkedHashSet<String> paths = new LinkedHashSet<>();
            String open = null;
            int tokens = 0;
            for (Unit u : units) {
                if (!u.path().equals(open)) {
                    if (open != null) {
                        sb.append('\n');
                    }
                    sb.append(u.header());
                    open = u.path();
                }
                sb.append(u.text());
                paths.add(u.path());
                tokens += u.tokens();
            }
            sb.append('\n');
            return new Chunk(sb.toString(), List.copyOf(paths), List.copyOf(units), tokens);
        }

        /** This part in two halves (by hunks), or null when it is a single hunk. */
        public List<Chunk> halves() {
            if (units.size() < 2) {
                return null;
            }
            int total = 0;
            int half = tokens / 2;
            int cut = 1;
            for (int i = 0; i < units.size() - 1; i++) {
                total += units.get(i).tokens();
                cut = i + 1;
                if (total >= half) {
                    break;
                }
            }
            return List.of(of(units.subList(0, cut)), of(units.subList(cut, units.size())));
        }
    }

    /** The parts to send, what did not fit (path and why) and the paths of which some hunk is not sent. */
    public record Plan(List<Chunk> chunks, List<String> notFitting, java.util.Set<String> pathsNotSent) {
    }

    private final int tokenBudget;
    private final int maxParts;
    private final Function<String, String> languageOf;

    /**
     * @param tokenBudget estimated diff tokens per part
     * @param maxParts    at most this many parts (requests) per review
     * @param languageOf  a language hint per path (null: none), shown in the file header
     */
    public DiffChunker(int tokenBudget, int maxParts, Function<String, String> languageOf) {
        if (tokenBudget < 50) {
            throw new IllegalArgumentException("diff token budget too small: " + tokenBudget);
        }
        this.tokenBudget = tokenBudget;
        this.maxParts = Math.max(1, maxParts);
        this.languageOf = languageOf == null ? p -> null : languageOf;
    }

    public Plan split(List<FileDiff> files) {
        List<Chunk> chunks = new ArrayList<>();
        List<String> notFitting = new ArrayList<>();
        LinkedHashSet<String> notSent = new LinkedHashSet<>();
        List<Unit> current = new ArrayList<>();
        int used = 0;
        for (FileDiff f : files) {
            List<Unit> units = units(f);
            int fileTokens = units.stream().mapToInt(Unit::tokens).sum();
            if (!current.isEmpty() && used + fileTokens > tokenBudget && fileTokens <= tokenBudget) {
                chunks.add(Chunk.of(current));
                current = new ArrayList<>();
                used = 0;
            }
            for (Unit u : units) {
                int cost = u.tokens() + (current.isEmpty() || !last(current).path().equals(u.path()) ? TokenEstimate.of(u.header()) : 0);
                if (u.tokens() + TokenEstimate.of(u.header()) > tokenBudget) {
                    notFitting.add("`" + u.path() + "` " + u.text().lines().findFirst().orElse("").strip()
                            + " (about " + u.tokens() + " tokens, more than the " + tokenBudget + " of one request)");
                    notSent.add(u.path());
                    continue;
                }
                if (!current.isEmpty() && used + cost > tokenBudget) {
                    chunks.add(Chunk.of(current));
                    current = new ArrayList<>();
                    used = 0;
                    cost = u.tokens() + TokenEstimate.of(u.header());
                }
                current.add(u);
                used += cost;
            }
        }
        if (!current.isEmpty()) {
            chunks.add(Chunk.of(current));
        }
        if (chunks.size() > maxParts) {
            LinkedHashSet<String> left = new LinkedHashSet<>();
            for (Chunk c : chunks.subList(maxParts, chunks.size())) {
                left.addAll(c.paths());
            }
            left.forEach(p -> notFitting.add("`" + p + "` (beyond the limit of " + maxParts + " requests per review)"));
            notSent.addAll(left);
            chunks = new ArrayList<>(chunks.subList(0, maxParts));
        }
        return new Plan(chunks, notFitting, java.util.Collections.unmodifiableSet(notSent));
    }

    private static Unit last(List<Unit> units) {
        return units.get(units.size() - 1);
    }

    /** The file's hunks as units (name-only files as one unit). */
    List<Unit> units(FileDiff f) {
        String header = header(f);
        List<Unit> units = new ArrayList<>();
        if (f.hunks().isEmpty()) {
            String text = f.binary() ? "(binary file, not shown)\n" : "(no textual changes)\n";
            units.add(new Unit(f.path(), header, text, TokenEstimate.of(text)));
            return units;
        }
        for (Hunk h : f.hunks()) {
            String text = renderHunk(h);
            units.add(new Unit(f.path(), header, text, TokenEstimate.of(text)));
        }
        return units;
    }

    private static String renderHunk(Hunk h) {
        StringBuilder sb = new StringBuilder("@@ -" + h.oldStart() + "," + h.oldCount() + " +" + h.newStart() + "," + h.newCount() + " @@"
                + (h.section().isEmpty() ? "" : " " + h.section()) + "\n");
        for (DiffLine l : h.lines()) {
            sb.append(renderLine(l));
        }
        return sb.toString();
    }

    private static String renderLine(DiffLine l) {
        return switch (l.kind()) {
            case ADDED -> String.format("%5d |+%s%n", l.newLine(), l.text());
            case CONTEXT -> String.format("%5d | %s%n", l.newLine(), l.text());
            case REMOVED -> String.format("      |-%s%n", l.text());
        };
    }

    private String header(FileDiff f) {
        String what = switch (f.change()) {
            case ADDED -> "added";
            case DELETED -> "deleted";
            case RENAMED -> "renamed from " + f.oldPath();
            case COPIED -> "copied from " + f.oldPath();
            case MODIFIED -> "modified";
        };
        String language = languageOf.apply(f.path());
        return "### " + f.path() + " (" + what + (language == null ? "" : "; language: " + language) + ")\n";
    }
}

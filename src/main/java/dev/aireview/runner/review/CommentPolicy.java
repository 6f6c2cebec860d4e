package dev.aireview.runner.review;

import dev.aireview.runner.model.ReviewComment;
import dev.aireview.runner.model.Severity;
import dev.aireview.runner.review.config.RepoConfig;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What of a reviewer's comments gets posted, for the offline and the AI reviewer alike (teams switch review bots
 * off for noise, so this is the one place that decides it):
 * <ol>
 *   <li>comments below the repository's {@code severity_threshold} are not posted;</li>
 *   <li>near-duplicates are merged (model comments; the offline rules never repeat themselves, and two identical
 *       findings on neighbouring lines are two problems): same file, at most {@value #NEAR_LINES} lines apart, and
 *       messages that say the same (one contains the other, or at least {@value #SIMILAR_PERCENT}% of their words
 *       are shared); the most severe is kept, and names the other lines ("Similar on line 12.");</li>
 *   <li>at most {@code max_comments} are posted, the most severe first (ties: file and line order).</li>
 * </ol>
 * Everything not posted is counted; {@link Outcome#notes()} says so in the summary.
 */
public final class CommentPolicy {

    static final int NEAR_LINES = 3;
    static final int SIMILAR_PERCENT = 60;

    private CommentPolicy() {
    }

    /** The comments to post (in file and line order) and what happened to the others. */
    public record Outcome(List<ReviewComment> kept, int belowThreshold, Severity threshold, int merged, int capped, int cap) {

        /** Summary lines (markdown bullets) for what was not posted; empty when everything was. */
        public List<String> notes() {
            List<String> notes = new ArrayList<>();
            if (belowThreshold > 0) {
                notes.add(belowThreshold + " comment(s) below the repository's severity threshold `" + threshold.wire() + "` not posted.");
            }
            if (merged > 0) {
                notes.add(merged + " near-duplicate comment(s) merged into others.");
            }
            if (capped > 0) {
                notes.add(capped + " further comment(s) not posted (limit " + cap + " per review, the most severe kept).");
            }
            return notes;
        }
    }

    /** The policy for model comments: threshold, near-duplicates merged, cap. */
    public static Outcome apply(List<ReviewComment> comments, RepoConfig config) {
        return apply(comments, config, true);
    }

    /** @param mergeNearDuplicates false for the offline rules' findings */
    public static Outcome apply(List<ReviewComment> comments, RepoConfig config, boolean mergeNearDuplicates) {
        if (!mergeNearDuplicates) { // the offline rules' findings: every one is distinct, so only the cap decides
            MostSevere selection = new MostSevere(config);
            comments.forEach(selection::offer);
            return selection.outcome();
        }
        Severity threshold = config.severityThreshold();
        List<ReviewComment> sorted = new ArrayList<>();
        int below = 0;
        for (ReviewComment c : comments) {
            if (below(c, threshold)) {
                below++;
            } else {
                sorted.add(c);
            }
        }
        int cap = config.commentCap();
        sorted.sort(ORDER);
        List<ReviewComment> distinct = new ArrayList<>();
        int merged = mergeNearDuplicates(sorted, distinct);
        List<ReviewComment> kept = new ArrayList<>(distinct.subList(0, Math.min(cap, distinct.size())));
        kept.sort(Comparator.comparing(ReviewComment::path).thenComparing(ReviewComment::line));
        return new Outcome(kept, below, threshold, merged, distinct.size() - kept.size(), cap);
    }

    /** Merges near-duplicates of {@code sorted} (most severe first) into {@code distinct}; returns how many were merged. */
    private static int mergeNearDuplicates(List<ReviewComment> sorted, List<ReviewComment> distinct) {
        List<Set<String>> words = new ArrayList<>();
        List<java.util.TreeSet<Integer>> alsoOn = new ArrayList<>();
        int merged = 0;
        for (ReviewComment c : sorted) {
            Set<String> w = words(c.message());
            int duplicateOf = -1;
            for (int i = 0; i < distinct.size() && duplicateOf < 0; i++) {
                duplicateOf = nearDuplicate(distinct.get(i), words.get(i), c, w) ? i : -1;
            }
            if (duplicateOf >= 0) {
                merged++;
                if (!c.line().equals(distinct.get(duplicateOf).line())) {
                    alsoOn.get(duplicateOf).add(c.line());
                }
            } else {
                distinct.add(c);
                words.add(w);
                alsoOn.add(new java.util.TreeSet<>());
            }
        }
        for (int i = 0; i < distinct.size(); i++) {
            if (!alsoOn.get(i).isEmpty()) {
                ReviewComment c = distinct.get(i);
                String lines = String.join(", ", alsoOn.get(i).stream().map(String::valueOf).toList());
                distinct.set(i, new ReviewComment(c.path(), c.line(), c.endLine(), c.severity(),
                        c.message() + " (Similar on line" + (alsoOn.get(i).size() > 1 ? "s " : " ") + lines + ".)", c.suggestion()));
            }
        }
        return merged;
    }

    /** Most severe first, then by file and line; the sorts that use it are stable (ties keep their order). */
    private static final Comparator<ReviewComment> ORDER = Comparator.comparing((ReviewComment c) -> -c.severity().ordinal())
            .thenComparing(ReviewComment::path).thenComparing(ReviewComment::line);

    private static boolean below(ReviewComment c, Severity threshold) {
        return threshold != null && c.severity().ordinal() < threshold.ordinal();
    }

    /**
     * The policy for the offline rules' findings, one comment at a time: the threshold, then the cap, keeping the first
     * {@code cap} in {@link #ORDER} (ties: the one offered first), which is what a stable sort and a cut would keep.
     * Only the comments kept so far are held: a 40 MiB diff gives 125 000 findings, of which at most 200 are posted,
     * and holding all of them made the review's garbage collections copy them again and again.
     */
    public static final class MostSevere {

        private record Offered(ReviewComment comment, long seq) {
        }

        private static final Comparator<Offered> BY_ORDER = Comparator.comparing(Offered::comment, ORDER)
                .thenComparingLong(Offered::seq);

        private final Severity threshold;
        private final int cap;
        /** the comments kept so far, the last in order on top */
        private final java.util.PriorityQueue<Offered> heap;
        private long offered;
        private int below;

        public MostSevere(RepoConfig config) {
            this(config.severityThreshold(), config.commentCap());
        }

        MostSevere(Severity threshold, int cap) {
            this.threshold = threshold;
            this.cap = Math.max(0, cap);
            this.heap = new java.util.PriorityQueue<>(Math.min(this.cap, 1024) + 1, BY_ORDER.reversed());
        }

        public void offer(ReviewComment c) {
            if (below(c, threshold)) {
                below++;
                return;
            }
            Offered o = new Offered(c, offered++);
            if (heap.size() < cap) {
                heap.add(o);
            } else if (cap > 0 && BY_ORDER.compare(o, heap.peek()) < 0) {
                heap.poll();
                heap.add(o);
            }
        }

        /** The comments kept, in {@link #ORDER}. */
        List<ReviewComment> inOrder() {
            List<Offered> at = new ArrayList<>(heap);
            at.sort(BY_ORDER);
            List<ReviewComment> kept = new ArrayList<>(at.size());
            at.forEach(o -> kept.add(o.comment()));
            return kept;
        }

        /** The comments to post (in file and line order) and how many were not. */
        public Outcome outcome() {
            List<ReviewComment> kept = inOrder();
            kept.sort(Comparator.comparing(ReviewComment::path).thenComparing(ReviewComment::line));
            return new Outcome(kept, below, threshold, 0, (int) (offered - kept.size()), cap);
        }
    }

    static boolean nearDuplicate(ReviewComment a, Set<String> aw, ReviewComment b, Set<String> bw) {
        if (!a.path().equals(b.path()) || Math.abs(a.line() - b.line()) > NEAR_LINES) {
            return false;
        }
        String am = normalize(a.message());
        String bm = normalize(b.message());
        if (am.equals(bm) || am.contains(bm) || bm.contains(am)) {
            return true;
        }
        if (aw.isEmpty() || bw.isEmpty()) {
            return false;
        }
        Set<String> common = new HashSet<>(aw);
        common.retainAll(bw);
        Set<String> union = new HashSet<>(aw);
        union.addAll(bw);
        return common.size() * 100 >= SIMILAR_PERCENT * union.size();
    }

    private static String normalize(String message) {
        return message.toLowerCase(Locale.ROOT).replaceAll("^\\(about line \\d+\\)\\s*", "").replaceAll("[^\\p{L}\\p{N}]+", " ").strip();
    }

    private static Set<String> words(String message) {
        Set<String> w = new HashSet<>(Arrays.asList(normalize(message).split(" ")));
        w.removeIf(s -> s.length() < 3);
        return w;
    }
}

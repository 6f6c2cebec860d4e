package dev.aireview.runner.review;

import dev.aireview.runner.model.ReviewComment;
import dev.aireview.runner.model.Severity;
import dev.aireview.runner.review.config.RepoConfigLoader;
import dev.aireview.runner.review.config.RepoConfig;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What gets posted: threshold, near-duplicates (model comments only), cap with the most severe kept. */
class CommentPolicyTest {

    private static ReviewComment c(int line, Severity s, String message) {
        return new ReviewComment("a.ts", line, null, s, message, null);
    }

    private final List<ReviewComment> twoLogs = List.of(
            c(2, Severity.WARNING, "Leftover `console.log` call: remove it or use the project's logger."),
            c(3, Severity.WARNING, "Leftover `console.log` call: remove it or use the project's logger."));

    @Test
    void offlineFindingsOnNeighbouringLinesAreNeverMerged() {
        CommentPolicy.Outcome o = CommentPolicy.apply(twoLogs, RepoConfig.DEFAULTS, false);
        assertEquals(twoLogs, o.kept());
        assertEquals(List.of(), o.notes());
    }

    @Test
    void modelNearDuplicatesAreMergedIntoTheMostSevereNamingTheOtherLines() {
        List<ReviewComment> in = List.of(c(10, Severity.WARNING, "user may be null here; check it before use"),
                c(11, Severity.ERROR, "(about line 9) user may be null here, check it before use!"),
                c(30, Severity.WARNING, "user may be null here; check it before use"),
                c(12, Severity.INFO, "Consider a clearer name for this variable."));
        CommentPolicy.Outcome o = CommentPolicy.apply(in, RepoConfig.DEFAULTS);
        assertEquals(3, o.kept().size(), o.kept().toString());
        assertEquals(Severity.ERROR, o.kept().get(0).severity());
        assertTrue(o.kept().get(0).message().endsWith("(Similar on line 10.)"), o.kept().get(0).message());
        assertEquals(30, o.kept().get(2).line(), "far away: not a duplicate");
        assertEquals(1, o.merged());
        CommentPolicy.Outcome logs = CommentPolicy.apply(twoLogs, RepoConfig.DEFAULTS);
        assertEquals(1, logs.kept().size());
    }

    @Test
    void thresholdAndCapKeepTheMostSevere() {
        RepoConfig cfg = RepoConfigLoader.parse("severity_threshold: warning\nmax_comments: 2\n", "t").config();
        List<ReviewComment> in = List.of(c(1, Severity.INFO, "one"), c(20, Severity.WARNING, "two"), c(40, Severity.ERROR, "three"),
                c(60, Severity.WARNING, "four"), c(80, Severity.ERROR, "five"));
        CommentPolicy.Outcome o = CommentPolicy.apply(in, cfg, false);
        assertEquals(List.of(40, 80), o.kept().stream().map(ReviewComment::line).toList());
        assertEquals(1, o.belowThreshold());
        assertEquals(2, o.capped());
        assertEquals(List.of("1 comment(s) below the repository's severity threshold `warning` not posted.",
                "2 further comment(s) not posted (limit 2 per review, the most severe kept)."), o.notes());
        assertEquals(RepoConfig.DEFAULT_MAX_COMMENTS, RepoConfig.DEFAULTS.commentCap());
    }

    @Test
    void theMostSevereAreChosenWithoutSortingAllAsAStableSortAndACutWould() {
        java.util.Random r = new java.util.Random(5);
        for (int round = 0; round < 200; round++) {
            List<ReviewComment> in = new java.util.ArrayList<>();
            int n = r.nextInt(60);
            for (int i = 0; i < n; i++) { // few paths, lines and severities: many ties, told apart by the message
                in.add(new ReviewComment("f" + r.nextInt(3), 1 + r.nextInt(5), null, Severity.values()[r.nextInt(Severity.values().length)],
                        "comment " + i, null));
            }
            List<ReviewComment> sorted = new java.util.ArrayList<>(in);
            sorted.sort(java.util.Comparator.comparing((ReviewComment c) -> -c.severity().ordinal())
                    .thenComparing(ReviewComment::path).thenComparing(ReviewComment::line));
            for (int cap : new int[]{0, 1, 2, 7, 50, 200}) {
                CommentPolicy.MostSevere selection = new CommentPolicy.MostSevere(null, cap);
                in.forEach(selection::offer);
                assertEquals(sorted.subList(0, Math.min(cap, n)), selection.inOrder(), "cap " + cap + " of " + in);
            }
        }
    }
}

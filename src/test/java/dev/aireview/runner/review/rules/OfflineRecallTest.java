package dev.aireview.runner.review.rules;

import dev.aireview.runner.review.FileDiff;
import dev.aireview.runner.review.Fixtures;
import dev.aireview.runner.review.UnifiedDiffParser;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Recall and false-positive rate of the offline reviewer on the planted-issue fixture set
 * {@code review/recall/cases.txt} (small changes in Java, Kotlin, TypeScript, Python, Go and config files, plus
 * clean changes). Recall = expected findings (path, line, rule) found / expected; false-positive rate = findings
 * nobody expected / all findings; clean-case FP rate = clean changes with any finding / clean changes.
 */
class OfflineRecallTest {

    static final double MIN_RECALL = 0.9;
    static final double MAX_FP_RATE = 0.1;

    record Case(String id, String path, Set<String> expected, FileDiff diff) {
        boolean clean() {
            return expected.isEmpty();
        }
    }

    @Test
    void offlineReviewerFindsThePlantedIssuesWithFewFalsePositives() {
        List<Case> cases = cases();
        long planted = cases.stream().filter(c -> !c.clean()).count();
        long clean = cases.size() - planted;
        assertTrue(planted >= 60 && clean >= 20, "fixture set too small: " + planted + " planted, " + clean + " clean");

        OfflineReviewer reviewer = new OfflineReviewer();
        int expectedTotal = 0;
        int found = 0;
        int reported = 0;
        int unexpected = 0;
        int noisyCleanCases = 0;
        Map<String, int[]> byLanguage = new TreeMap<>();
        List<String> misses = new ArrayList<>();
        List<String> falsePositives = new ArrayList<>();
        for (Case c : cases) {
            Set<String> got = new LinkedHashSet<>();
            for (Finding f : reviewer.findings(List.of(c.diff()))) {
                got.add(f.rule() + "@" + f.line());
            }
            int[] lang = byLanguage.computeIfAbsent(language(c.path()), k -> new int[2]);
            for (String e : c.expected()) {
                expectedTotal++;
                lang[1]++;
                if (got.contains(e)) {
                    found++;
                    lang[0]++;
                } else {
                    misses.add(c.id() + " " + e);
                }
            }
            reported += got.size();
            for (String g : got) {
                if (!c.expected().contains(g)) {
                    unexpected++;
                    falsePositives.add(c.id() + " " + g);
                }
            }
            if (c.clean() && !got.isEmpty()) {
                noisyCleanCases++;
            }
        }
        double recall = (double) found / expectedTotal;
        double fpRate = reported == 0 ? 0 : (double) unexpected / reported;
        double cleanFpRate = (double) noisyCleanCases / clean;
        System.out.printf(Locale.ROOT, "offline reviewer on %d planted + %d clean changes: recall %.3f (%d/%d), "
                        + "false-positive rate %.3f (%d/%d findings), clean changes flagged %.3f (%d/%d)%n",
                planted, clean, recall, found, expectedTotal, fpRate, unexpected, reported, cleanFpRate, noisyCleanCases, clean);
        byLanguage.forEach((l, n) -> System.out.printf(Locale.ROOT, "  %-10s recall %d/%d%n", l, n[0], n[1]));
        misses.forEach(m -> System.out.println("  missed: " + m));
        falsePositives.forEach(m -> System.out.println("  false positive: " + m));
        assertTrue(recall >= MIN_RECALL, "recall " + recall + " below " + MIN_RECALL + "; missed " + misses);
        assertTrue(fpRate <= MAX_FP_RATE, "false-positive rate " + fpRate + " above " + MAX_FP_RATE + ": " + falsePositives);
        assertTrue(cleanFpRate <= MAX_FP_RATE, "clean changes flagged " + cleanFpRate + ": " + falsePositives);
    }

    @Test
    void secretFindingsNeverQuoteTheValue() {
        OfflineReviewer reviewer = new OfflineReviewer();
        for (Case c : cases()) {
            for (Finding f : reviewer.findings(List.of(c.diff()))) {
                if (f.rule().equals("secret")) {
                    for (var line : c.diff().addedLines()) {
                        for (String literal : literals(line.text())) {
                            if (literal.matches("(?i)[\\w.-]*(password|secret|token|key|credentials?)")) {
                                continue; // the variable name, which the message does name
                            }
                            assertFalse(f.message().contains(literal), c.id() + ": message quotes " + literal);
                        }
                    }
                }
            }
        }
    }

    /** Quoted strings of 6+ characters on a line (candidate secret values). */
    private static List<String> literals(String text) {
        List<String> out = new ArrayList<>();
        var m = java.util.regex.Pattern.compile("[\"'`]([^\"'`]{6,})[\"'`]").matcher(text);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    private static String language(String path) {
        String ext = path.substring(path.lastIndexOf('.') + 1);
        return switch (ext) {
            case "java" -> "java";
            case "kt" -> "kotlin";
            case "ts", "tsx" -> "typescript";
            case "py" -> "python";
            case "go" -> "go";
            default -> "config";
        };
    }

    static List<Case> cases() {
        List<Case> cases = new ArrayList<>();
        String id = null;
        String path = null;
        Set<String> expected = null;
        List<String> body = new ArrayList<>();
        for (String line : (Fixtures.text("recall/cases.txt") + "### end | - | -\n").split("\n", -1)) {
            if (line.startsWith("#") && !line.startsWith("### ")) {
                continue;
            }
            if (line.startsWith("### ")) {
                if (id != null) {
                    cases.add(new Case(id, path, expected, diff(path, body)));
                }
                String[] parts = line.substring(4).split("\\|");
                id = parts[0].strip();
                path = parts[1].strip();
                expected = new LinkedHashSet<>();
                for (String e : parts[2].strip().split(",")) {
                    if (!e.isBlank() && !e.strip().equals("-")) {
                        expected.add(e.strip());
                    }
                }
                body = new ArrayList<>();
            } else if (id != null && !line.isEmpty()) {
                body.add(line);
            }
        }
        return cases;
    }

    /** One hunk from line 1 on both sides; a change without context or removed lines is a new file. */
    private static FileDiff diff(String path, List<String> body) {
        int oldCount = 0;
        int newCount = 0;
        for (String l : body) {
            char k = l.charAt(0);
            oldCount += k == ' ' || k == '-' ? 1 : 0;
            newCount += k == ' ' || k == '+' ? 1 : 0;
        }
        String patch = "@@ -" + (oldCount == 0 ? 0 : 1) + "," + oldCount + " +1," + newCount + " @@\n" + String.join("\n", body) + "\n";
        return UnifiedDiffParser.parsePatch(path, path, oldCount == 0 ? FileDiff.ChangeType.ADDED : FileDiff.ChangeType.MODIFIED, patch);
    }
}

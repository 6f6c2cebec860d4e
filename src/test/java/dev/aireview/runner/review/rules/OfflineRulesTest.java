package dev.aireview.runner.review.rules;

import dev.aireview.runner.model.Severity;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.review.ChangeSet;
import dev.aireview.runner.review.CommentPolicy;
import dev.aireview.runner.review.FileDiff;
import dev.aireview.runner.review.Fixtures;
import dev.aireview.runner.review.Progress;
import dev.aireview.runner.review.UnifiedDiffParser;
import dev.aireview.runner.review.config.RepoConfig;
import dev.aireview.runner.review.config.RepoConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every rule fires exactly on the planted cases of its fixture and stays silent on the clean twin. */
class OfflineRulesTest {

    static Stream<Arguments> rules() {
        return Stream.of(
                Arguments.of(new DebugOutputRule(), "debug-output", Set.of(
                        "web/cart.ts:2:warning", "web/cart.ts:3:error",
                        "src/main/java/shop/Cart.java:3:warning", "src/main/java/shop/Cart.java:4:warning",
                        "shop/report.py:2:info", "shop/report.py:3:error",
                        "internal/report/report.go:4:info", "public/index.php:2:warning", "app/models/order.rb:3:error",
                        "src/lib.rs:2:warning")),
                Arguments.of(new TodoRule(), "todo", Set.of(
                        "src/pricing.js:1:info", "src/pricing.js:3:warning", "src/pricing.js:5:warning", "src/pricing.js:6:warning",
                        "src/pricing.js:7:info")),
                Arguments.of(new ConflictMarkerRule(), "conflict-marker", Set.of("src/config.yml:2-6:error")),
                Arguments.of(new SecretRule(), "secret", Set.of(
                        "deploy/id_rsa:1:error", "settings.py:1:error", "src/db.js:2:error", ".env:2:error", "ci/publish.yml:2:error")),
                Arguments.of(new LongLineRule(), "long-line", Set.of("src/text.js:2-3:info", "src/text.js:5:info")),
                Arguments.of(new MissingFinalNewlineRule(), "final-newline", Set.of("src/last.py:2:info", "src/edit.py:2:info")),
                Arguments.of(new LargeOrGeneratedFileRule(), "large-or-generated", Set.of(
                        "assets/intro.mp4:0:info", "lib/Helper.class:0:warning", "node_modules/:0:warning",
                        "static/app.min.js:1:warning", "package-lock.json:1:info", "api/service.pb.go:1:warning")));
    }

    @ParameterizedTest(name = "{1} fires on the planted cases")
    @MethodSource("rules")
    void firesOnPlantedCases(Rule rule, String fixture, Set<String> expected) {
        List<Finding> findings = run(rule, fixture + "-planted.diff");
        assertEquals(new TreeSet<>(expected), keys(findings));
        for (Finding f : findings) {
            assertEquals(rule.id(), f.rule());
            assertFalse(f.message().isBlank());
        }
    }

    @ParameterizedTest(name = "{1} is silent on the clean twin")
    @MethodSource("rules")
    void silentOnCleanTwin(Rule rule, String fixture, Set<String> ignored) {
        assertEquals(Set.of(), keys(run(rule, fixture + "-clean.diff")));
    }

    @Test
    void secretMessagesNeverContainTheSecret() {
        List<Finding> findings = run(new SecretRule(), "secret-planted.diff");
        for (Finding f : findings) {
            for (String secret : List.of("AKIAQWERTYUIOPASDFGH", "hunter2-Sup3rS3cret", "correct-horse-battery",
                    "ghp_abcdefghijklmnopqrstuvwxyz0123456789AB", "MIIEowIBAAKCAQEA")) {
                assertFalse(f.message().contains(secret), f.message());
                assertTrue(f.suggestion() == null || !f.suggestion().contains(secret));
            }
        }
        assertTrue(findings.stream().anyMatch(f -> f.message().contains("`password`")), "names the variable");
        assertTrue(findings.stream().anyMatch(f -> f.message().contains("private key")));
    }

    @Test
    void largeBinaryIsAWarningWithItsSize() {
        FileDiff video = new FileDiff("assets/intro.mp4", "assets/intro.mp4", FileDiff.ChangeType.ADDED, true, List.of(), 5L * 1024 * 1024);
        FileDiff icon = new FileDiff("assets/icon.png", "assets/icon.png", FileDiff.ChangeType.ADDED, true, List.of(), 2048);
        List<Finding> out = new ArrayList<>();
        new LargeOrGeneratedFileRule().check(List.of(video, icon), out::add);
        assertEquals(1, out.size());
        assertEquals(Severity.WARNING, out.get(0).severity());
        assertTrue(out.get(0).message().contains("5.0 MiB"), out.get(0).message());
    }

    @Test
    void lineRulesSkipGeneratedLockAndMinifiedFiles() {
        // The minified bundle and the lock file would otherwise trip the long-line and debug rules.
        String longJs = "!function(){console.log('x');" + "var a=1;".repeat(300) + "}();";
        FileDiff min = UnifiedDiffParser.parsePatch("static/vendor.js", null, FileDiff.ChangeType.ADDED, "@@ -0,0 +1 @@\n+" + longJs + "\n");
        List<Finding> out = new OfflineReviewer().findings(List.of(min));
        assertEquals(List.of("large-or-generated"), out.stream().map(Finding::rule).toList());
    }

    @Test
    void summaryCountsBySeverityListsFilesAndTaskRules() {
        List<FileDiff> files = UnifiedDiffParser.parse(Fixtures.text("rules/secret-planted.diff")
                + Fixtures.text("rules/todo-planted.diff") + Fixtures.text("rules/large-or-generated-planted.diff"));
        // large-or-generated is off by default; a repository switches it on
        var config = new dev.aireview.runner.review.config.RepoConfig(List.of(), List.of(), List.of(), List.of(), null, null, null, List.of(),
                true, java.util.Set.of(), java.util.Set.of("large-or-generated"));
        TaskResult result = new OfflineReviewer().review(new ChangeSet(files, "test"), List.of("Flag missing error handling"), config, Progress.none());
        String s = result.summary();
        assertTrue(s.contains("| error | 5 |"), s);
        assertTrue(s.contains("| warning | 7 |"), s);
        assertTrue(s.contains("| info | 4 |"), s);
        assertTrue(s.contains("`deploy/id_rsa` (added, +3 −0)"), s);
        assertTrue(s.contains("- Flag missing error handling"), s);
        assertTrue(s.contains("### File-level findings"), s);
        assertTrue(s.contains("`lib/Helper.class`"), s);
        // File-level findings stay out of the line comments; every comment has a line.
        assertTrue(result.comments().stream().allMatch(c -> c.line() != null && c.line() > 0));
        assertEquals(16 - 3, result.comments().size());
        assertEquals(files.size(), result.stats().filesReviewed());
    }

    @Test
    void rulesThatAreMostlyNoiseAreOffUnlessARepositorySwitchesThemOn() {
        List<FileDiff> files = UnifiedDiffParser.parse(Fixtures.text("rules/long-line-planted.diff") + Fixtures.text("rules/large-or-generated-planted.diff"));
        TaskResult byDefault = new OfflineReviewer().review(new ChangeSet(files, "test"), List.of(), Progress.none());
        assertFalse(byDefault.summary().contains("lines longer than"), byDefault.summary());
        assertFalse(byDefault.summary().contains("### File-level findings"), byDefault.summary());
        var on = new dev.aireview.runner.review.config.RepoConfig(List.of(), List.of(), List.of(), List.of(), null, null, null, List.of(),
                true, java.util.Set.of(), java.util.Set.of("long-line"));
        TaskResult switchedOn = new OfflineReviewer().review(new ChangeSet(files, "test"), List.of(), on, Progress.none());
        assertTrue(switchedOn.comments().stream().anyMatch(c -> c.message().contains("characters long")), switchedOn.summary());
    }

    @Test
    void theReviewTalliesFindingsAsTheyComeAndPostsWhatThePolicyKeepsOfAllOfThem() {
        // many findings of several rules on the same lines (ties), a threshold and a cap: the review counts and keeps
        // them one at a time; the same counts and comments must come out of the whole list and the list's policy
        String[] kinds = {"    console.log(total); // TODO: remove", "    const password = \"hunter2-Sup3r\";",
                "    // FIXME: " + "x".repeat(150), "    debugger;", "    let a = 1;"};
        List<FileDiff> files = new ArrayList<>();
        for (int f = 0; f < 6; f++) {
            StringBuilder patch = new StringBuilder("@@ -0,0 +1,300 @@\n");
            for (int i = 0; i < 300; i++) {
                patch.append('+').append(kinds[(i * 7 + f) % kinds.length]).append('\n');
            }
            files.add(UnifiedDiffParser.parsePatch("src/f" + (5 - f) + ".ts", null, FileDiff.ChangeType.ADDED, patch.toString()));
        }
        for (String yaml : new String[]{"", "severity_threshold: warning\nmax_comments: 7\n", "max_comments: 1\noffline_rules:\n  long-line: true\n"}) {
            RepoConfig config = RepoConfigLoader.parse(yaml, "t").config();
            List<Finding> inRuleOrder = new ArrayList<>();
            for (Rule r : OfflineReviewer.defaultRules().stream().sorted(Comparator.comparing(Rule::id)).toList()) {
                if (config.runs(r.id(), r.onByDefault())) {
                    r.check(files, inRuleOrder::add);
                }
            }
            CommentPolicy.Outcome expected = CommentPolicy.apply(
                    inRuleOrder.stream().filter(Finding::hasLine).map(Finding::toComment).toList(), config, false);
            TaskResult result = new OfflineReviewer().review(new ChangeSet(files, "test"), List.of(), config, Progress.none());
            assertTrue(inRuleOrder.size() > 1000, "many findings: " + inRuleOrder.size());
            assertEquals(expected.kept(), result.comments(), yaml);
            expected.notes().forEach(n -> assertTrue(result.summary().contains(n), n + " in " + result.summary()));
            for (Severity sev : Severity.values()) {
                long n = inRuleOrder.stream().filter(x -> x.severity() == sev).count();
                assertTrue(result.summary().contains("| " + sev.wire() + " | " + n + " |"), sev + " " + n + " in " + result.summary());
            }
        }
    }

    private static List<Finding> run(Rule rule, String fixture) {
        List<FileDiff> files = UnifiedDiffParser.parse(Fixtures.text("rules/" + fixture));
        assertFalse(files.isEmpty(), "fixture " + fixture + " parsed to no files");
        List<Finding> out = new ArrayList<>();
        rule.check(files, out::add);
        return out;
    }

    private static Set<String> keys(List<Finding> findings) {
        Set<String> keys = new TreeSet<>();
        for (Finding f : findings) {
            keys.add(f.path() + ":" + f.line() + (f.endLine() == null ? "" : "-" + f.endLine()) + ":" + f.severity().wire());
        }
        return keys;
    }
}

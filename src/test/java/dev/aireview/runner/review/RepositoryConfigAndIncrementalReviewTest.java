package dev.aireview.runner.review;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aireview.runner.model.BadTaskException;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewComment;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The engine on real git checkouts: {@code .ai-review.yml} read at the base (never the head), and incremental reviews. */
class RepositoryConfigAndIncrementalReviewTest {

    @TempDir
    Path dir;

    private final List<String> progress = new ArrayList<>();

    @Test
    void configIsReadAtTheBaseSoTheChangeCannotSwitchItsOwnReviewOff() throws Exception {
        write(".ai-review.yml", """
                exclude:
                  - "src/Cart.java"
                instructions:
                  - path: "src/**"
                    text: "Check rounding of prices."
                """);
        write("src/cart.js", "export function total(cart) {\n  return 0;\n}\n");
        write("src/Cart.java", "class Cart {\n}\n");
        String base = commit("base");
        write("src/cart.js", "export function total(cart) {\n  console.log(cart);\n  return 0;\n}\n");
        write("src/Cart.java", "class Cart {\n  void p() { System.out.println(1); }\n}\n");
        write(".ai-review.yml", "offline_rules: false\nexclude: [\"**\"]\n");
        String head = commit("change");

        TaskResult result = new ReviewEngine().review(task(base, head, null), dir, progress::add);

        assertEquals(ResultStatus.COMPLETED, result.status(), String.valueOf(result.error()));
        assertEquals(List.of("src/cart.js:2"), result.comments().stream().map(c -> c.path() + ":" + c.line()).toList());
        String s = result.summary();
        assertTrue(s.contains("### Excluded by `.ai-review.yml`\n\n- `src/Cart.java`"), s);
        assertTrue(s.contains("Repository settings from `.ai-review.yml at base " + base.substring(0, 12) + "`: exclude 1 glob(s), 1 path instruction(s)"), s);
        assertTrue(s.contains("- for `src/**`: Check rounding of prices."), s);
        assertEquals(2, result.stats().filesReviewed(), "cart.js and the changed .ai-review.yml");
        assertTrue(progress.stream().anyMatch(l -> l.contains("repository config: .ai-review.yml at base")), progress.toString());
    }

    @Test
    void invalidConfigIsNamedInTheSummaryAndTheDefaultsApply() throws Exception {
        write(".ai-review.yml", "max_comments: lots\nseverity: high\n");
        String base = commitBaseAndALeftoverLog();
        TaskResult result = new ReviewEngine().review(task(base, commit("change"), null), dir, progress::add);

        assertEquals(ResultStatus.COMPLETED, result.status());
        assertEquals(1, result.comments().size(), "defaults: the finding is still posted");
        String s = result.summary();
        assertTrue(s.contains("**Note:** the repository configuration (`.ai-review.yml at base " + base.substring(0, 12) + "`) was ignored"), s);
        assertTrue(s.contains("max_comments must be a whole number") && s.contains("unknown key 'severity'"), s);
        assertTrue(s.indexOf("**Note:**") < s.indexOf("| Severity |"), "the note is near the top: " + s);
    }

    @Test
    void aConfigPathThatIsADirectoryIsIgnoredWithThatReason() throws Exception {
        write(".ai-review.yml/x", "exclude: [\"**\"]\n");
        String base = commitBaseAndALeftoverLog();
        TaskResult result = new ReviewEngine().review(task(base, commit("change"), null), dir, progress::add);

        assertEquals(1, result.comments().size(), "defaults: the finding is still posted");
        assertTrue(result.summary().contains("it is not a file (a tree)"), result.summary());
    }

    @Test
    void offlineRulesCanBeSwitchedOffPerRule() throws Exception {
        write(".ai-review.yml", "offline_rules:\n  todo: false\nseverity_threshold: warning\n");
        write("app.py", "def f():\n    return 1\n");
        String base = commit("base");
        write("app.py", "def f():\n    # TODO: later\n    print(1)\n    password = \"hunter2hunter2\"\n    return 1\n");
        String head = commit("change");

        TaskResult result = new ReviewEngine().review(task(base, head, null), dir, progress::add);

        assertEquals(List.of("app.py:4:error"), result.comments().stream().map(c -> c.path() + ":" + c.line() + ":" + c.severity().wire()).toList(),
                "todo rule off; print() is info, below the threshold");
        assertTrue(result.summary().contains("1 comment(s) below the repository's severity threshold `warning` not posted"), result.summary());
    }

    @Test
    void incrementalReviewShowsOnlyWhatChangedSinceTheLastReviewedHead() throws Exception {
        FixtureRepo repo = FixtureRepo.create(dir.resolve("repo"));
        String head2 = repo.commitExtra();

        TaskResult result = new ReviewEngine().review(task(repo.baseSha, head2, repo.headSha), repo.dir, progress::add);

        assertEquals(ResultStatus.COMPLETED, result.status(), String.valueOf(result.error()));
        assertEquals(List.of("src/extra.py:2"), result.comments().stream().map(c -> c.path() + ":" + c.line()).toList());
        assertTrue(result.summary().contains("**Incremental review**: only the changes since the last reviewed head `"
                + repo.headSha.substring(0, 12) + "`"), result.summary());
        assertEquals(1, result.stats().filesReviewed());
    }

    @Test
    void incrementalReviewFallsBackToTheFullReviewWithANote() throws Exception {
        FixtureRepo repo = FixtureRepo.create(dir.resolve("repo"));
        String head2 = repo.commitExtra();

        TaskResult notAncestor = new ReviewEngine().review(task(repo.baseSha, repo.headSha, head2), repo.dir, progress::add);
        assertTrue(notAncestor.summary().contains("Full review: an incremental review was asked for, but the last reviewed head "
                + head2.substring(0, 12) + " is not an ancestor of head"), notAncestor.summary());
        assertTrue(notAncestor.comments().stream().map(ReviewComment::path).toList().contains("src/cart.js"), "the whole change is reviewed");

        TaskResult missing = new ReviewEngine().review(task(repo.baseSha, head2, "f".repeat(40)), repo.dir, progress::add);
        assertTrue(missing.summary().contains("the last reviewed head ffffffffffff is not in the checkout"), missing.summary());
        assertTrue(missing.comments().stream().map(ReviewComment::path).toList().containsAll(List.of("src/cart.js", "src/extra.py")));
    }

    @Test
    void previousHeadShaIsReadInBothSpellingsAndValidated() throws Exception {
        ObjectNode node = node("a".repeat(40), "b".repeat(40), null);
        node.put("previous_head_sha", "c".repeat(40));
        assertEquals("c".repeat(40), ReviewTask.fromJson(node).previousHeadSha());
        assertEquals("c".repeat(40), ReviewTask.fromJson(node).toContainerJson().get("previousHeadSha").asText(), "passed to the executor");
        node.remove("previous_head_sha");
        node.put("previousHeadSha", "abc123");
        BadTaskException e = assertThrows(BadTaskException.class, () -> ReviewTask.fromJson(node));
        assertTrue(e.getMessage().contains("'previousHeadSha' is not a full (40 hex digit) commit SHA"), e.getMessage());
        node.remove("previousHeadSha");
        assertFalse(ReviewTask.fromJson(node).toContainerJson().has("previousHeadSha"));
    }

    private ReviewTask task(String base, String head, String previous) throws BadTaskException {
        return ReviewTask.fromJson(node(base, head, previous));
    }

    private static ObjectNode node(String base, String head, String previous) {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("id", "task_cfg_1");
        node.putObject("repository").put("url", "https://git.example/acme/shop.git");
        node.put("baseSha", base).put("headSha", head);
        if (previous != null) {
            node.put("previousHeadSha", previous);
        }
        return node;
    }

    /** Commits the base (src/cart.js and whatever was written), then adds a console.log to be committed as the change; the base's id. */
    private String commitBaseAndALeftoverLog() throws Exception {
        write("src/cart.js", "export const a = 1;\n");
        String base = commit("base");
        write("src/cart.js", "export const a = 1;\nconsole.log(a);\n");
        return base;
    }

    private void write(String path, String content) throws Exception {
        Path p = dir.resolve(path);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content, StandardCharsets.UTF_8);
    }

    private String commit(String message) throws Exception {
        if (!Files.exists(dir.resolve(".git"))) {
            FixtureRepo.git(dir, "init", "-q", "-b", "main");
        }
        FixtureRepo.git(dir, "add", "-A");
        FixtureRepo.git(dir, "commit", "-q", "-m", message);
        return FixtureRepo.git(dir, "rev-parse", "HEAD").strip();
    }
}

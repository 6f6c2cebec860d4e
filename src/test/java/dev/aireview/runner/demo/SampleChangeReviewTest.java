package dev.aireview.runner.demo;

import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.review.FixtureRepo;
import dev.aireview.runner.review.ReviewEngine;
import dev.aireview.runner.review.config.RepoConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The demo's sample change, reviewed offline as the demo's executor does: the base's .ai-review.yml takes effect. */
class SampleChangeReviewTest {

    @Test
    void sampleConfigIsValid() {
        assertEquals(List.of(), RepoConfigLoader.parse(SampleChange.REVIEW_CONFIG, "demo").problems());
    }

    @Test
    void reviewOfTheSampleShowsTheExcludedPathAndTheInstruction(@TempDir Path dir) throws Exception {
        write(dir, SampleChange.baseFiles());
        FixtureRepo.git(dir, "init", "-q", "-b", SampleChange.BASE_BRANCH);
        FixtureRepo.git(dir, "add", "-A");
        FixtureRepo.git(dir, "commit", "-q", "-m", "base");
        String base = FixtureRepo.git(dir, "rev-parse", "HEAD").strip();
        write(dir, SampleChange.changedFiles());
        FixtureRepo.git(dir, "add", "-A");
        FixtureRepo.git(dir, "commit", "-q", "-m", "change");
        String head = FixtureRepo.git(dir, "rev-parse", "HEAD").strip();
        var node = Json.mapper().createObjectNode();
        node.put("id", "demo").put("baseSha", base).put("headSha", head).putObject("repository").put("url", "git://127.0.0.1/sample");

        TaskResult result = new ReviewEngine().review(ReviewTask.fromJson(node), dir, l -> { });

        assertEquals(ResultStatus.COMPLETED, result.status(), String.valueOf(result.error()));
        assertFalse(result.comments().stream().anyMatch(c -> c.path().startsWith("scripts/")), "excluded path commented on");
        assertTrue(result.comments().stream().anyMatch(c -> c.path().equals("src/main/java/shop/Checkout.java") && c.severity().wire().equals("error")),
                "the hard-coded password is still found: " + result.comments());
        assertTrue(result.summary().contains("### Excluded by `.ai-review.yml`\n\n- `scripts/seed.py`"), result.summary());
        assertTrue(result.summary().contains("- for `src/main/java/shop/**`: Amounts are long cents"), result.summary());
    }

    private static void write(Path dir, Map<String, String> files) throws Exception {
        for (Map.Entry<String, String> f : files.entrySet()) {
            Path p = dir.resolve(f.getKey());
            Files.createDirectories(p.getParent());
            Files.writeString(p, f.getValue());
        }
    }
}

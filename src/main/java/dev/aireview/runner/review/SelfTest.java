package dev.aireview.runner.review;

import dev.aireview.runner.model.FileChange;
import dev.aireview.runner.model.Repository;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code execute --self-test}: reviews a built-in change offline through the whole file contract (task file in
 * a temp dir, result file out) and checks the planted findings. Used as the image's health check and, at image
 * build time, to record the class-data-sharing archive of the classes a review loads.
 */
public final class SelfTest {

    private static final String PATCH = String.join("\n",
            "@@ -1,3 +1,6 @@",
            " export function total(items) {",
            "+  console.log(items);",
            "+  // TODO: handle discounts",
            "   return items.reduce((a, b) => a + b.price, 0);",
            "+  const password = \"s3cr3t-value-123\";",
            " }",
            "\\ No newline at end of file",
            "");

    private SelfTest() {
    }

    public static int run(PrintStream out, PrintStream err) {
        try {
            Path dir = Scratch.directory("ai-review-self-test-");
            try {
                Path taskFile = dir.resolve("task.json");
                Path resultFile = dir.resolve("result.json");
                ReviewTask task = new ReviewTask("self-test", null, new Repository("https://example.invalid/self-test.git", "self-test", null),
                        null, null, "0000000000000000000000000000000000000000",
                        List.of(new FileChange("src/total.js", null, "modified", 3, 0, PATCH)), null,
                        List.of("Flag missing error handling"), null, null);
                Files.write(taskFile, task.toContainerJson().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                int code = new ReviewExecution(new ReviewEngine(), out, err, java.time.Duration.ofMillis(20), java.time.Duration.ofSeconds(5))
                        .run(new ReviewExecution.ContractPaths(taskFile, dir.resolve("repo"), resultFile));
                if (code != 0) {
                    return code;
                }
                TaskResult result = dev.aireview.runner.model.Json.mapper().readValue(resultFile.toFile(), TaskResult.class);
                long linesFlagged = result.comments().stream().map(c -> c.line()).distinct().count();
                if (result.status() != ResultStatus.COMPLETED || linesFlagged < 3) {
                    err.println("self-test failed: unexpected result " + result.status() + " with " + result.comments().size() + " comment(s)");
                    return 1;
                }
                out.println("[review] self-test ok: " + result.comments().size() + " comment(s)");
                return 0;
            } finally {
                try (var walk = Files.walk(dir)) {
                    walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        } catch (Exception e) {
            err.println("self-test failed: " + e);
            return 1;
        }
    }
}

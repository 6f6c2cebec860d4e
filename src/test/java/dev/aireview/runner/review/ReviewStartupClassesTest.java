package dev.aireview.runner.review;

import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.TaskResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A review in a JVM of its own, as the executor image runs {@code execute}: it must not load what a short-lived JVM
 * pays for on first use and the image's class-data archive cannot hold (docs/review-engine.md): the records' generated
 * equality ({@code ObjectMethods}), Jackson's reflective serialization of the result records, a {@code SecureRandom}
 * for scratch names; and the project's classes hold no string concatenation by {@code invokedynamic}
 * ({@code -XDstringConcat=inline}: its bootstrap class is loaded with the JVM, so only the class files can tell).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ReviewStartupClassesTest {

    private static final List<String> NOT_LOADED = List.of(
            "java.lang.runtime.ObjectMethods",
            "com.fasterxml.jackson.databind.ser.BeanSerializerBuilder",
            "com.fasterxml.jackson.databind.jdk14.JDK14Util",
            "sun.security.provider.SecureRandom");

    @Test
    void aReviewLoadsNoneOfTheFirstUseCosts(@TempDir Path dir) throws Exception {
        FixtureRepo repo = FixtureRepo.create(dir.resolve("repo"));
        Path task = dir.resolve("task.json");
        Files.writeString(task, "{\"id\":\"startup\",\"repository\":{\"url\":\"https://example.invalid/shop.git\",\"fullName\":\"a/shop\"},"
                + "\"branch\":\"main\",\"headSha\":\"" + repo.headSha + "\",\"baseSha\":\"" + repo.baseSha + "\"}");
        Path classes = dir.resolve("classes.log");
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xlog:class+load:file=" + classes,
                "-Djava.io.tmpdir=" + tmp, "-cp", System.getProperty("java.class.path"),
                "dev.aireview.runner.cli.Main", "execute")
                .redirectErrorStream(true).redirectOutput(dir.resolve("out.log").toFile());
        Map<String, String> env = pb.environment();
        env.put("AI_REVIEW_TASK_FILE", task.toString());
        env.put("AI_REVIEW_REPO_DIR", repo.dir.toString());
        env.put("AI_REVIEW_RESULT_FILE", dir.resolve("result.json").toString());
        env.put("AI_REVIEW_WARM_UP", "false");
        Process p = pb.start();
        assertTrue(p.waitFor(90, TimeUnit.SECONDS), "the review ended");
        String out = Files.readString(dir.resolve("out.log"), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        TaskResult result = Json.mapper().readValue(dir.resolve("result.json").toFile(), TaskResult.class);
        assertEquals(ResultStatus.COMPLETED, result.status(), out);
        assertFalse(result.comments().isEmpty(), "the planted findings were reviewed: " + result);

        String loaded = Files.readString(classes, StandardCharsets.UTF_8);
        assertTrue(loaded.contains(" dev.aireview.runner.review.rules.TodoRule "), "the log lists the review's classes");
        for (String c : NOT_LOADED) {
            assertFalse(loaded.contains(" " + c + " "), () -> c + " was loaded by a review");
        }
        try (var left = Files.list(tmp)) {
            assertEquals(List.of(), left.toList(), "no scratch file left behind");
        }
    }

    @Test
    void noClassOfTheProjectConcatenatesByInvokedynamic() throws Exception {
        Path root = Path.of(ReviewExecution.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        int checked = 0;
        try (var files = Files.walk(root)) {
            for (Path f : files.filter(x -> x.toString().endsWith(".class")).toList()) {
                String bytes = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
                assertFalse(bytes.contains("makeConcatWithConstants"), () -> f + " concatenates by invokedynamic");
                checked++;
            }
        }
        assertTrue(checked > 300, "the project's classes were read: " + checked);
    }
}

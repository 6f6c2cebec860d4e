package dev.aireview.runner.testsupport;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real executor image ({@code Dockerfile.executor}) built from the packaged jar ({@code JAR_FROM=prebuilt}), once
 * per jar + Dockerfile content: the tag is {@code ai-review-executor:test-<hash of both>}, so every test class of a
 * build shares one image and an unchanged build reuses it.
 *
 * <p>Built with the {@code docker build} CLI because the Dockerfile needs BuildKit (cache mount, skipped stages),
 * which docker-java's build call does not speak.
 */
public final class ExecutorImages {
    /** Label on the images built here (and on test containers of the image test). */
    public static final String LABEL = "ai-review.test";
    private static final String TAG_PREFIX = "ai-review-executor:test-";

    private ExecutorImages() {
    }

    /** The packaged jar (failsafe's {@code runner.jar}, else {@code target/ai-review-runner.jar}). */
    public static Path runnerJar() {
        Path root = projectRoot();
        Path jar = Path.of(System.getProperty("runner.jar", root.resolve("target/ai-review-runner.jar").toString()));
        assertTrue(Files.isRegularFile(jar), "packaged jar missing: " + jar);
        return jar;
    }

    public static Path projectRoot() {
        return Path.of(System.getProperty("project.root", "."));
    }

    /** Builds the image unless a tag for this jar + Dockerfile exists; returns the tag. */
    public static synchronized String ensureBuilt(DockerClient docker) throws Exception {
        Path jar = runnerJar();
        Path dockerfile = projectRoot().resolve("Dockerfile.executor");
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        sha.update(Files.readAllBytes(jar));
        sha.update(Files.readAllBytes(dockerfile));
        String image = TAG_PREFIX + HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        boolean present = docker.listImagesCmd().withImageNameFilter(image).exec().stream()
                .anyMatch(i -> i.getRepoTags() != null && List.of(i.getRepoTags()).contains(image));
        if (!present) {
            removeStaleTestImages(docker);
            build(image, dockerfile, jar);
        }
        return image;
    }

    /** {@code docker build} in a small context holding only the Dockerfile and target/ai-review-runner.jar. */
    private static void build(String image, Path dockerfile, Path jar) throws Exception {
        Path ctx = Files.createTempDirectory("executor-image-ctx");
        try {
            Files.createDirectories(ctx.resolve("target"));
            Files.copy(jar, ctx.resolve("target/ai-review-runner.jar"));
            Files.copy(dockerfile, ctx.resolve("Dockerfile.executor"));
            Path log = ctx.resolve("build.log");
            ProcessBuilder pb = new ProcessBuilder("docker", "build", "-f", "Dockerfile.executor", "--build-arg", "JAR_FROM=prebuilt",
                    "--label", LABEL + "=true", "-t", image, ".")
                    .directory(ctx.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
            pb.environment().put("DOCKER_BUILDKIT", "1");
            Process p = pb.start();
            boolean done = p.waitFor(10, TimeUnit.MINUTES);
            if (!done) {
                p.destroyForcibly();
            }
            assertTrue(done && p.exitValue() == 0, "docker build failed:\n" + tail(Files.readString(log), 3000));
        } finally {
            deleteTree(ctx);
        }
    }

    /** Earlier test images (other jar builds) are removed so they do not pile up. */
    private static void removeStaleTestImages(DockerClient docker) {
        for (Image i : docker.listImagesCmd().withLabelFilter(Map.of(LABEL, "true")).exec()) {
            if (i.getRepoTags() == null) {
                continue;
            }
            for (String tag : i.getRepoTags()) {
                if (tag.startsWith(TAG_PREFIX)) {
                    try {
                        docker.removeImageCmd(tag).exec();
                    } catch (RuntimeException ignored) {
                        // in use by a parallel run: leave it
                    }
                }
            }
        }
    }

    private static String tail(String s, int max) {
        return s.length() <= max ? s : s.substring(s.length() - max);
    }

    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}

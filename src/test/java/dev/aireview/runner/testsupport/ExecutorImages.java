package dev.aireview.runner.testsupport;

import dev.aireview.runner.demo.Demo;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Image;
import dev.aireview.runner.docker.DockerTestSupport;
import dev.aireview.runner.docker.ExecutorImageBuilder;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

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
    private static final String TAG_PREFIX = "ai-review-executor:test-" + CheckoutTag.value() + "-";

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
        byte[] jarBytes = Files.readAllBytes(jar);
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        sha.update(jarBytes);
        sha.update(Files.readAllBytes(dockerfile));
        String image = TAG_PREFIX + HexFormat.of().formatHex(sha.digest()).substring(0, 16);
        boolean present = docker.listImagesCmd().withImageNameFilter(image).exec().stream()
                .anyMatch(i -> i.getRepoTags() != null && List.of(i.getRepoTags()).contains(image));
        if (!present) {
            removeStaleTestImages(docker);
            // labelled like the demo's own build, so the demo (RealExecutorIT) uses this image instead of rebuilding it
            build(image, dockerfile, jar, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(jarBytes)));
        }
        return image;
    }

    /** {@code docker build} of the packaged jar, at most 10 minutes; the failure message carries the output's tail. */
    private static void build(String image, Path dockerfile, Path jar, String jarSha256) throws Exception {
        StringBuilder log = new StringBuilder();
        try (InputStream in = Files.newInputStream(dockerfile)) {
            ExecutorImageBuilder.build(image, in, jar, DockerTestSupport.dockerHost(), List.of("--label", LABEL + "=true", "--label", Demo.JAR_LABEL + "=" + jarSha256),
                    Duration.ofMinutes(10), line -> {
                        synchronized (log) {
                            log.append(line).append('\n');
                        }
                    });
        } catch (IOException e) {
            synchronized (log) {
                fail(e.getMessage() + ":\n" + tail(log.toString(), 3000));
            }
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
}

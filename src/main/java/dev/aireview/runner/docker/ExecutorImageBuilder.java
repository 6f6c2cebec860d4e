package dev.aireview.runner.docker;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Builds the executor image from a packaged runner jar: a two-file context ({@code Dockerfile.executor} and
 * {@code target/ai-review-runner.jar}) built with {@code docker build --build-arg JAR_FROM=prebuilt}. The Docker
 * CLI is used because the Dockerfile needs BuildKit (cache mount, skipped stages), which docker-java's build call
 * does not speak. Used by the demo and by the tests of the real image.
 */
public final class ExecutorImageBuilder {
    private ExecutorImageBuilder() {
    }

    /**
     * Builds {@code image}; every output line goes to {@code output}. Throws when the CLI is missing, the build
     * fails, or it takes longer than {@code timeout} (the build is then killed).
     *
     * @param dockerfile the content of Dockerfile.executor
     * @param extraArgs  more {@code docker build} arguments (e.g. {@code --label k=v})
     */
    public static void build(String image, InputStream dockerfile, Path jar, String dockerHost, List<String> extraArgs,
                             Duration timeout, Consumer<String> output) throws IOException, InterruptedException {
        Path context = Files.createTempDirectory("ai-review-executor-build-");
        try {
            Files.copy(dockerfile, context.resolve("Dockerfile.executor"));
            Files.createDirectories(context.resolve("target"));
            Files.copy(jar, context.resolve("target/ai-review-runner.jar"));
            List<String> cmd = new ArrayList<>(List.of("docker", "build", "-f", "Dockerfile.executor",
                    "--build-arg", "JAR_FROM=prebuilt", "--progress=plain", "-t", image));
            cmd.addAll(extraArgs);
            cmd.add(".");
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(context.toFile()).redirectErrorStream(true);
            pb.environment().put("DOCKER_BUILDKIT", "1");
            if (dockerHost != null && !dockerHost.isBlank()) {
                pb.environment().put("DOCKER_HOST", dockerHost);
            }
            Process p;
            try {
                p = pb.start();
            } catch (IOException e) {
                throw new IOException("the docker CLI is needed to build the executor image " + image
                        + " (BuildKit); or build it by hand: docker build -f Dockerfile.executor -t " + image + " .", e);
            }
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        output.accept(line);
                    }
                } catch (IOException ignored) {
                    // the process ended or was killed
                }
            }, "docker-build-output");
            reader.setDaemon(true);
            reader.start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IOException("docker build of " + image + " did not finish within " + timeout.toMinutes() + " min");
            }
            reader.join(5_000);
            if (p.exitValue() != 0) {
                throw new IOException("docker build of " + image + " failed (exit " + p.exitValue() + ")");
            }
        } finally {
            Workspaces.deleteTree(context);
        }
    }
}

package dev.aireview.runner.demo;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Builds the executor image from the running jar: a two-file context (the Dockerfile.executor shipped inside
 * the jar, and the jar itself) built with {@code docker build --build-arg JAR_FROM=prebuilt}. The Docker CLI
 * is used because the Dockerfile needs BuildKit, which docker-java's build call does not speak.
 */
final class ExecutorImageBuilder {
    private ExecutorImageBuilder() {
    }

    static void build(String image, String dockerHost, PrintStream out) throws IOException, InterruptedException {
        Path jar = runningJar();
        Path context = Files.createTempDirectory("ai-review-executor-build-");
        try {
            try (InputStream dockerfile = ExecutorImageBuilder.class.getResourceAsStream("/docker/Dockerfile.executor")) {
                if (dockerfile == null) {
                    throw new IOException("this build has no Dockerfile.executor inside; build the image by hand: "
                            + "docker build -f Dockerfile.executor -t " + image + " .");
                }
                Files.copy(dockerfile, context.resolve("Dockerfile.executor"));
            }
            Files.createDirectories(context.resolve("target"));
            Files.copy(jar, context.resolve("target/ai-review-runner.jar"), StandardCopyOption.REPLACE_EXISTING);
            ProcessBuilder pb = new ProcessBuilder(List.of("docker", "build", "-f", "Dockerfile.executor",
                    "--build-arg", "JAR_FROM=prebuilt", "--progress=plain", "-t", image, "."))
                    .directory(context.toFile()).redirectErrorStream(true);
            pb.environment().put("DOCKER_BUILDKIT", "1");
            if (dockerHost != null && !dockerHost.isBlank()) {
                pb.environment().put("DOCKER_HOST", dockerHost);
            }
            Process p;
            try {
                p = pb.start();
            } catch (IOException e) {
                throw new IOException("the executor image " + image + " is missing and the docker CLI is not available to build it: "
                        + "run docker build -f Dockerfile.executor -t " + image + " . in the source tree", e);
            }
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    out.println("    | " + line);
                }
            }
            int code = p.waitFor();
            if (code != 0) {
                throw new IOException("docker build of " + image + " failed (exit " + code + ")");
            }
        } finally {
            deleteTree(context);
        }
    }

    private static Path runningJar() throws IOException {
        try {
            Path path = Path.of(ExecutorImageBuilder.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (!Files.isRegularFile(path)) {
                throw new IOException("not running from the packaged jar (" + path + "); run mvn package and use java -jar target/ai-review-runner.jar demo");
            }
            return path;
        } catch (URISyntaxException e) {
            throw new IOException("cannot locate the running jar", e);
        }
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}

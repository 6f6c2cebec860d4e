package dev.aireview.runner.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.HostConfig;
import dev.aireview.runner.config.DockerConfig;
import dev.aireview.runner.config.PullPolicy;
import dev.aireview.runner.model.ReviewTask;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Shared fixtures of the Docker tests (executor and end-to-end): a real engine, the test executor image, configs and
 * leftovers checks.
 */
public final class DockerTestSupport {
    public static final String IMAGE = dev.aireview.runner.testsupport.CheckoutTag.image("ai-review-test/executor:test");
    /** Every runner name used by these tests starts with this, so leftovers can be found by label. */
    public static final String RUNNER_PREFIX = "it-docker-" + UUID.randomUUID().toString().substring(0, 8) + "-";
    public static final Path WORKSPACE_BASE = Path.of(System.getProperty("java.io.tmpdir"), "ai-review-docker-tests");
    static final long MEMORY = 256L * 1024 * 1024;
    static final long PIDS = 128;

    private static DockerConnection connection;
    private static boolean imageBuilt;

    private DockerTestSupport() {
    }

    public static String dockerHost() {
        String host = System.getenv("DOCKER_HOST");
        return host == null || host.isBlank() ? "unix:///var/run/docker.sock" : host;
    }

    public static synchronized DockerClient docker() {
        if (connection == null) {
            connection = DockerConnection.open(dockerHost());
        }
        return connection.client();
    }

    /** Builds the test executor image once per JVM (Docker's build cache makes repeats cheap). */
    public static synchronized void buildImage() {
        if (imageBuilt) {
            return;
        }
        File dir = new File(DockerTestSupport.class.getResource("/docker/executor-test/Dockerfile").getFile()).getParentFile();
        docker().buildImageCmd(dir).withTags(Set.of(IMAGE)).withLabels(Map.of("ai-review.managed", "true"))
                .withPull(false).start().awaitImageId();
        imageBuilt = true;
    }

    public static String runnerName(String purpose) {
        return RUNNER_PREFIX + purpose + "-" + UUID.randomUUID().toString().substring(0, 6);
    }

    static DockerConfig config(String runnerName, String networkMode, int poolSize) {
        return config(runnerName, networkMode, poolSize, MEMORY, IMAGE, PullPolicy.NEVER);
    }

    static DockerConfig config(String runnerName, String networkMode, int poolSize, long memory, String image, PullPolicy policy) {
        return new DockerConfig(dockerHost(), image, policy, memory, 1.5, networkMode, WORKSPACE_BASE,
                Duration.ofSeconds(120), poolSize, 1, PIDS, "10001:10001", Duration.ofSeconds(2), runnerName);
    }

    /** A task on the test git repository; {@code mode} selects the test image's behaviour. */
    static ReviewTask task(String mode, GitFixture git) {
        return task(mode, git.url(), "feature/x", git.head(), git.base(), null);
    }

    static ReviewTask task(String mode, String url, String branch, String headSha, String baseSha, String token) {
        try {
            var node = dev.aireview.runner.model.Json.mapper().createObjectNode();
            node.put("id", "task-" + UUID.randomUUID().toString().substring(0, 8));
            var repo = node.putObject("repository");
            repo.put("url", url);
            if (token != null) {
                repo.put("cloneToken", token);
            }
            if (branch != null) {
                node.put("branch", branch);
            }
            if (headSha != null) {
                node.put("headSha", headSha);
            }
            if (baseSha != null) {
                node.put("baseSha", baseSha);
            }
            if (mode != null) {
                node.put("prompt", mode);
            }
            return ReviewTask.fromJson(node);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The ids (of the containers) of the engine's events {@code action} (e.g. {@code create}, {@code exec_create}) of
     * containers labelled {@code labels}, from {@code since} to now.
     */
    static List<String> eventIds(String action, java.util.Map<String, String> labels, java.time.Instant since) throws InterruptedException {
        List<String> ids = java.util.Collections.synchronizedList(new ArrayList<>());
        com.github.dockerjava.api.async.ResultCallback.Adapter<com.github.dockerjava.api.model.Event> events =
                new com.github.dockerjava.api.async.ResultCallback.Adapter<>() {
                    @Override
                    public void onNext(com.github.dockerjava.api.model.Event e) {
                        ids.add(e.getId());
                    }
                };
        docker().eventsCmd().withSince(since.getEpochSecond() + "." + String.format("%09d", since.getNano()))
                .withUntil(String.valueOf(java.time.Instant.now().getEpochSecond() + 1))
                .withEventFilter(action).withLabelFilter(labels).exec(events);
        org.junit.jupiter.api.Assertions.assertTrue(events.awaitCompletion(30, java.util.concurrent.TimeUnit.SECONDS),
                "the engine's event stream ended");
        return List.copyOf(ids);
    }

    public static List<Container> containersOfRunner(String runnerName) {
        return docker().listContainersCmd().withShowAll(true).withLabelFilter(Labels.runnerFilter(runnerName)).exec();
    }

    public static List<Container> containersOfTask(String taskId) {
        return docker().listContainersCmd().withShowAll(true).withLabelFilter(List.of(Labels.TASK + "=" + taskId)).exec();
    }

    /** Everything any test of this JVM left behind: containers, volumes and workspaces of runners named with the prefix. */
    public static List<String> leftovers() {
        List<String> left = new ArrayList<>();
        for (Container c : docker().listContainersCmd().withShowAll(true).withLabelFilter(List.of(Labels.MANAGED + "=true")).exec()) {
            String runner = c.getLabels() == null ? null : c.getLabels().get(Labels.RUNNER);
            if (runner != null && runner.startsWith(RUNNER_PREFIX)) {
                left.add("container " + c.getId() + " " + c.getLabels());
            }
        }
        var volumes = docker().listVolumesCmd().withFilter("label", List.of(Labels.MANAGED + "=true")).exec().getVolumes();
        if (volumes != null) {
            volumes.stream().filter(v -> v.getLabels() != null && String.valueOf(v.getLabels().get(Labels.RUNNER)).startsWith(RUNNER_PREFIX))
                    .forEach(v -> left.add("volume " + v.getName()));
        }
        if (Files.isDirectory(WORKSPACE_BASE)) {
            try (Stream<Path> runners = Files.list(WORKSPACE_BASE)) {
                for (Path r : runners.filter(p -> p.getFileName().toString().startsWith(RUNNER_PREFIX)).toList()) {
                    try (Stream<Path> ws = Files.list(r)) {
                        // the claim journal's directory exists only while a claim is unanswered; the repository cache
                        // is kept on purpose (removeRunnerDirs deletes it)
                        ws.filter(w -> !w.getFileName().toString().equals(Workspaces.REPO_CACHE_DIR)).forEach(w -> left.add((w.getFileName().toString().equals(Workspaces.CLAIMS_DIR)
                                ? "unanswered claims " : w.getFileName().toString().equals(Workspaces.CLEANING_DIR)
                                ? "unfinished clean-up marks " : "workspace ") + w));
                    }
                }
            } catch (IOException e) {
                left.add("cannot list workspaces: " + e);
            }
        }
        return left;
    }

    /** Removes the per-runner directories (empty by then but for a repository cache, deleted too) so the temp dir does not grow. */
    public static void removeRunnerDirs() throws IOException {
        if (!Files.isDirectory(WORKSPACE_BASE)) {
            return;
        }
        try (Stream<Path> runners = Files.list(WORKSPACE_BASE)) {
            for (Path r : runners.filter(p -> p.getFileName().toString().startsWith(RUNNER_PREFIX)).toList()) {
                Workspaces.deleteTree(r.resolve(Workspaces.REPO_CACHE_DIR));
                try (Stream<Path> ws = Files.list(r)) {
                    if (ws.findAny().isEmpty()) {
                        Files.deleteIfExists(r);
                    }
                }
            }
        }
    }

    /** What Docker reports for a container of ours must carry every limit, hardening option and label. */
    static void assertHardened(InspectContainerResponse info, String runnerName, String taskLabel, String networkMode) {
        HostConfig host = info.getHostConfig();
        assertEquals(MEMORY, host.getMemory(), "memory");
        assertEquals(MEMORY, host.getMemorySwap(), "memory-swap equals memory: no extra swap");
        assertEquals(1_500_000_000L, host.getNanoCPUs(), "nano-CPUs");
        assertEquals(networkMode, host.getNetworkMode(), "network mode");
        assertEquals(PIDS, host.getPidsLimit(), "pids limit");
        assertArrayEquals(new Capability[]{Capability.ALL}, host.getCapDrop(), "cap-drop");
        assertEquals(List.of("no-new-privileges"), host.getSecurityOpts(), "security opts");
        assertEquals(Boolean.TRUE, host.getReadonlyRootfs(), "read-only root fs");
        assertTrue(host.getTmpFs() != null && host.getTmpFs().containsKey("/tmp"), "tmpfs at /tmp: " + host.getTmpFs());
        assertEquals(Boolean.TRUE, host.getInit(), "init process");
        assertEquals("10001:10001", info.getConfig().getUser(), "non-root user");
        Map<String, String> labels = info.getConfig().getLabels();
        assertEquals(runnerName, labels.get(Labels.RUNNER));
        assertEquals(taskLabel, labels.get(Labels.TASK));
        assertEquals("true", labels.get(Labels.MANAGED));
        assertTrue(Arrays.stream(host.getBinds()).anyMatch(b -> b.getVolume().getPath().equals("/workspace")),
                "workspace bind-mounted at /workspace");
    }
}

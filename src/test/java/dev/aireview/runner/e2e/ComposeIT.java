package dev.aireview.runner.e2e;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Container;
import dev.aireview.runner.devserver.DevServer;
import dev.aireview.runner.devserver.DevServerOptions;
import dev.aireview.runner.devserver.RunnerSnapshot;
import dev.aireview.runner.devserver.TaskSnapshot;
import dev.aireview.runner.docker.DockerTestSupport;
import dev.aireview.runner.docker.GitFixture;
import dev.aireview.runner.testsupport.ExecutorImages;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The operator's compose path, exactly as docs/operations.md tells it: {@code docker compose -f
 * docker-compose.runner.yml build} builds both images once, then {@code RUNNER_NAME=a … up -d} and {@code
 * RUNNER_NAME=b … up -d} run two runners side by side (one compose project each, the images shared), each
 * registers, heartbeats, turns healthy and completes a review with the real executor image (Docker out of Docker:
 * the workspace base mounted at the same path, the dev server on the host reached as host.docker.internal through
 * host-gateway); {@code RUNNER_NAME=b … down} drains and removes only b while a goes on serving.
 *
 * <p>The images are built from the packaged jar ({@code JAR_FROM=prebuilt}) under test tags, so a repeated run
 * is a cached build. The dev server listens on the Docker bridge's gateway address (what host-gateway resolves
 * to), not on every interface. The review containers use network {@code host} to reach the fixture git daemon on
 * 127.0.0.1. Whatever happens, both projects are taken down with {@code down -v}: no container, network or
 * volume remains.
 */
class ComposeIT {
    static final String RUNNER_IMAGE = dev.aireview.runner.testsupport.CheckoutTag.image("ai-review-test/compose-runner:it");
    static final String EXECUTOR_IMAGE = dev.aireview.runner.testsupport.CheckoutTag.image("ai-review-test/compose-executor:it");
    static final String GIT_IMAGE = dev.aireview.runner.testsupport.CheckoutTag.image("ai-review-test/compose-git:it");
    static final Duration COMPOSE_TIMEOUT = Duration.ofMinutes(12);

    @Test
    void twoNamedRunnersRunSideBySideFromOneComposeFileAndStopOneByOne() throws Exception {
        long t0 = System.nanoTime();
        DockerClient docker = DockerTestSupport.docker();
        ExecutorImages.runnerJar(); // JAR_FROM=prebuilt needs it
        String gateway = docker.inspectNetworkCmd().withNetworkId("bridge").exec().getIpam().getConfig().get(0).getGateway();
        String suffix = UUID.randomUUID().toString().substring(0, 6);
        String a = DockerTestSupport.RUNNER_PREFIX + "compose-a-" + suffix;
        String b = DockerTestSupport.RUNNER_PREFIX + "compose-b-" + suffix;

        try (GitFixture git = GitFixture.start();
             DevServer server = DevServer.start(DevServerOptions.builder("compose-it-" + UUID.randomUUID())
                     .port(0).bindAddress(gateway).heartbeatTimeout(Duration.ofSeconds(20))
                     .maxPollWait(Duration.ofSeconds(30)).build())) {
            Map<String, String> env = env(server);
            try {
                Compose build = compose(env, null, "build");
                assertEquals(0, build.exit(), build.output());
                long built = System.nanoTime();
                String runnerImageId = docker.inspectImageCmd(RUNNER_IMAGE).exec().getId();
                docker.inspectImageCmd(EXECUTOR_IMAGE).exec();
                docker.inspectImageCmd(GIT_IMAGE).exec();

                for (String name : List.of(a, b)) {
                    Compose up = compose(env, name, "up", "-d");
                    assertEquals(0, up.exit(), up.output());
                }
                assertEquals(runnerImageId, docker.inspectImageCmd(RUNNER_IMAGE).exec().getId(), "up did not rebuild");

                // two projects, one runner container each; `ps` with a name shows only that runner
                for (String name : List.of(a, b)) {
                    Compose ps = compose(env, name, "ps", "--format", "{{.Name}}");
                    assertEquals(0, ps.exit(), ps.output());
                    assertEquals(List.of(name + "-runner-1"), ps.output().lines().filter(l -> !l.isBlank()).toList(), ps.output());
                }

                // both register and heartbeat, and their containers turn healthy through `ai-review-runner health`
                server.awaitRunners(rs -> heartbeating(rs, a) && heartbeating(rs, b), Duration.ofSeconds(120));
                await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(1))
                        .until(() -> health(docker, a).equals("healthy") && health(docker, b).equals("healthy"));
                InspectContainerResponse ca = container(docker, a);
                assertEquals(805_306_368L, ca.getHostConfig().getMemory(), "runner container memory limit (default 768m)");
                assertEquals(1_000_000_000L, ca.getHostConfig().getNanoCPUs(), "runner container CPU limit (default 1.0)");
                assertEquals(512L, ca.getHostConfig().getPidsLimit(), "runner container pids limit (default 512)");
                long up = System.nanoTime();

                // one review through each: enqueue in pairs until both have completed one (1 slot each)
                Map<String, Integer> completedBy = new HashMap<>();
                List<String> cachedReviews = new ArrayList<>();
                for (int round = 0; round < 4 && (completedBy.get(a) == null || completedBy.get(b) == null); round++) {
                    List<String> ids = List.of(server.enqueue(E2e.task(git, null).build()), server.enqueue(E2e.task(git, null).build()));
                    for (String id : ids) {
                        TaskSnapshot t = server.awaitTerminal(id, Duration.ofSeconds(180));
                        assertEquals("completed", t.resultStatus(), t.errorKind() + " " + t.errorMessage() + "\n" + E2e.logText(t));
                        assertEquals(0, t.secretLeaks());
                        completedBy.merge(t.runnerId(), 1, Integer::sum);
                        cachedReviews.add(id);
                    }
                }
                assertTrue(completedBy.containsKey(a) && completedBy.containsKey(b), "each runner completed a review: " + completedBy);
                // the runner image has no git: each runner fetched into its repository cache through helper containers of
                // the compose-built git image on the clone network (host: the git daemon is on 127.0.0.1), and the review
                // checked out from the entry; no helper container is left
                for (String name : List.of(a, b)) {
                    Path entry = DockerTestSupport.WORKSPACE_BASE.resolve(name).resolve(dev.aireview.runner.docker.Workspaces.REPO_CACHE_DIR)
                            .resolve(dev.aireview.runner.source.RepoCacheAccess.keyOf(git.url()));
                    assertTrue(Files.isRegularFile(entry.resolve("ai-review-ready")), "cache entry of " + name + ": " + entry);
                    assertTrue(Files.isDirectory(entry.resolve("objects")), "a bare repository in " + entry);
                    assertEquals(List.of(), DockerTestSupport.containersOfRunner(name).stream()
                            .filter(c -> c.getLabels() != null && "git".equals(c.getLabels().get("ai-review.role"))).toList(),
                            "helper containers of " + name);
                }
                for (String id : cachedReviews) {
                    TaskSnapshot cached = server.awaitTerminal(id, Duration.ofSeconds(5));
                    assertTrue(E2e.logText(cached).contains("from the runner's repository cache"), E2e.logText(cached));
                }
                long reviewed = System.nanoTime();

                // b goes down (drains, exits offline); a keeps its container and serves on
                Compose down = compose(env, b, "down", "-v", "--timeout", "60");
                assertEquals(0, down.exit(), down.output());
                assertEquals(List.of(), projectContainers(docker, b));
                int beatsOfB = server.runner(b).orElseThrow().heartbeats();
                assertEquals("running", container(docker, a).getState().getStatus());
                String last = server.enqueue(E2e.task(git, null).build());
                TaskSnapshot t = server.awaitTerminal(last, Duration.ofSeconds(180));
                assertEquals("completed", t.resultStatus(), t.errorKind() + " " + t.errorMessage());
                assertEquals(a, t.runnerId());
                assertEquals(beatsOfB, server.runner(b).orElseThrow().heartbeats(), "b is gone: no heartbeat since its down");
                assertTrue(heartbeating(server.runners(), a));
                System.out.printf("ComposeIT: build %.1f s, up+healthy %.1f s, reviews %.1f s, total %.1f s%n",
                        secs(built - t0), secs(up - built), secs(reviewed - up), secs(System.nanoTime() - t0));
            } finally {
                for (String name : List.of(a, b)) {
                    Compose down = compose(env, name, "down", "-v", "--timeout", "30");
                    assertEquals(0, down.exit(), down.output());
                }
            }
            for (String name : List.of(a, b)) {
                String project = "com.docker.compose.project=" + name;
                assertEquals(List.of(), projectContainers(docker, name), "containers of " + name);
                assertEquals(List.of(), docker.listNetworksCmd().withFilter("label", List.of(project)).exec(), "networks of " + name);
                var volumes = docker.listVolumesCmd().withFilter("label", List.of(project)).exec().getVolumes();
                assertTrue(volumes == null || volumes.isEmpty(), "volumes of " + name + ": " + volumes);
            }
        }
        E2e.assertNothingLeft();
    }

    /** Settings of both runners, as an operator's .env would hold them; RUNNER_NAME is set per call. */
    static Map<String, String> env(DevServer server) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("RUNNER_SERVER_URL", "http://host.docker.internal:" + server.port());
        env.put("RUNNER_TOKEN", server.token());
        env.put("RUNNER_IMAGE", RUNNER_IMAGE);
        env.put("DOCKER_EXECUTOR_IMAGE", EXECUTOR_IMAGE);
        env.put("RUNNER_GIT_IMAGE", GIT_IMAGE);
        env.put("JAR_FROM", "prebuilt");
        env.put("DOCKER_PULL_POLICY", "never");
        env.put("DOCKER_NETWORK_MODE", "host");
        env.put("DOCKER_WORKSPACE_BASE", DockerTestSupport.WORKSPACE_BASE.toString());
        env.put("DOCKER_MEMORY_LIMIT", "512m");
        env.put("DOCKER_PIDS_LIMIT", "256");
        env.put("DOCKER_TIMEOUT_SECONDS", "150");
        env.put("DOCKER_STOP_GRACE_SECONDS", "1");
        env.put("RUNNER_MAX_CONCURRENT_JOBS", "1");
        env.put("RUNNER_HEARTBEAT_INTERVAL_MS", "500");
        env.put("RUNNER_POLL_TIMEOUT_MS", "5000");
        env.put("RUNNER_POLL_INTERVAL_MS", "200");
        env.put("RUNNER_REQUEST_TIMEOUT_MS", "5000");
        env.put("RUNNER_SHUTDOWN_GRACE_MS", "20000");
        env.put("RUNNER_HEALTHCHECK_INTERVAL", "10s");
        return env;
    }

    record Compose(int exit, String output) {
    }

    /** {@code docker compose -f docker-compose.runner.yml ARGS} with {@code env} and RUNNER_NAME={@code name}. */
    static Compose compose(Map<String, String> env, String name, String... args) throws IOException, InterruptedException {
        Path root = ExecutorImages.projectRoot();
        List<String> cmd = new ArrayList<>(List.of("docker", "compose", "-f", root.resolve("docker-compose.runner.yml").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(root.toFile()).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("RUNNER_") || (k.startsWith("DOCKER_") && !k.equals("DOCKER_HOST"))
                || k.startsWith("COMPOSE_") || k.equals("JAR_FROM"));
        pb.environment().putAll(env);
        pb.environment().put("RUNNER_NAME", name == null ? DockerTestSupport.RUNNER_PREFIX + "compose-build" : name);
        Path out = Files.createTempFile("compose-it", ".out");
        try {
            pb.redirectOutput(out.toFile());
            Process p = pb.start();
            if (!p.waitFor(COMPOSE_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                return new Compose(-1, "timed out: " + cmd + "\n" + Files.readString(out, StandardCharsets.UTF_8));
            }
            return new Compose(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    static boolean heartbeating(List<RunnerSnapshot> runners, String name) {
        return runners.stream().anyMatch(r -> r.id().equals(name) && r.online() && r.heartbeats() >= 2);
    }

    static List<Container> projectContainers(DockerClient docker, String project) {
        return docker.listContainersCmd().withShowAll(true)
                .withLabelFilter(List.of("com.docker.compose.project=" + project)).exec();
    }

    static InspectContainerResponse container(DockerClient docker, String project) {
        List<Container> cs = projectContainers(docker, project);
        assertEquals(1, cs.size(), "one container in project " + project + ": " + cs);
        return docker.inspectContainerCmd(cs.get(0).getId()).exec();
    }

    static String health(DockerClient docker, String project) {
        InspectContainerResponse c = container(docker, project);
        assertNotEquals("exited", c.getState().getStatus(), "runner " + project + " exited");
        return c.getState().getHealth() == null ? "none" : c.getState().getHealth().getStatus();
    }

    static double secs(long nanos) {
        return nanos / 1e9;
    }
}

package dev.aireview.runner.docker;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Container;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.TaskResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The repository cache fetched in helper containers (RUNNER_REPO_CACHE_GIT=container) although this host has git: the
 * runner's own fetches run in short-lived containers of a trusted git image ({@code local/debian-git:bookworm} here) on
 * the clone network ({@code host}, where the smart-HTTP server on 127.0.0.1 is), with the token on their stdin only.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ContainerGitDockerTest {
    static final String GIT_IMAGE = "local/debian-git:bookworm";
    private static final String TOKEN = "tok_Helper+Secr3t/91";

    private GitFixture git;
    private GitHttpServer http;
    private GitHttpServer stalled;
    private String runner;
    private DockerTaskExecutor executor;
    /** {@code docker inspect} of every helper container seen running while the server held a request. */
    private final List<String> inspected = new CopyOnWriteArrayList<>();
    /** Ends the stalled server's hold on its first request (at the end of the class). */
    private final CountDownLatch releaseStalled = new CountDownLatch(1);

    @BeforeAll
    void setUp() throws Exception {
        DockerTestSupport.buildImage();
        git = GitFixture.start();
        runner = DockerTestSupport.runnerName("gitbox");
        http = GitHttpServer.start(git.root(), TOKEN, true).onFirstRequest(this::inspectHelpers);
        // holds its first request until the class is done (30 s at most): its close waits for the handler
        stalled = GitHttpServer.start(git.root(), TOKEN, true).onFirstRequest(() -> {
            try {
                releaseStalled.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        executor = new DockerTaskExecutor(DockerTestSupport.config(runner, "host", 0).withRepoCacheLimit(1L << 30)
                .withRepoCacheGit("container", GIT_IMAGE));
        executor.start();
    }

    @AfterAll
    void tearDown() throws Exception {
        if (executor != null) {
            executor.close();
        }
        http.close();
        releaseStalled.countDown();
        stalled.close();
        git.close();
        Path cache = cacheDir();
        Workspaces.deleteTree(cache);
        assertEquals(List.of(), DockerTestSupport.leftovers(), "containers, volumes or workspaces left behind");
        DockerTestSupport.removeRunnerDirs();
    }

    private Path cacheDir() {
        return new Workspaces(DockerTestSupport.WORKSPACE_BASE, runner).runnerDir().resolve(Workspaces.REPO_CACHE_DIR);
    }

    /**
     * The helper containers are removed after the fetch has returned (off the task's path); {@link
     * ContainerGit#awaitRemovals}, which the executor's close calls, returns only once they are gone.
     */
    private void assertHelpersRemoved(String what) {
        ContainerGit.awaitRemovals(Duration.ofSeconds(60));
        assertEquals(List.of(), helpers().stream().map(Container::getId).toList(), what);
    }

    private List<Container> helpers() {
        return DockerTestSupport.containersOfRunner(runner).stream()
                .filter(c -> c.getLabels() != null && ContainerGit.ROLE.equals(c.getLabels().get(Labels.ROLE))).toList();
    }

    /** How many helper containers of this runner the engine created since {@code since} ({@code docker events}). */
    private int helpersCreatedSince(java.time.Instant since) throws Exception {
        java.time.Instant until = java.time.Instant.now().plusSeconds(1);
        Process p = new ProcessBuilder("docker", "events", "--since", since.getEpochSecond() + "." + String.format("%09d", since.getNano()),
                "--until", until.getEpochSecond() + "." + String.format("%09d", until.getNano()), "--filter", "type=container",
                "--filter", "event=create", "--filter", "label=" + Labels.RUNNER + "=" + runner,
                "--filter", "label=" + Labels.ROLE + "=" + ContainerGit.ROLE, "--format", "{{.ID}}").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, out);
        return (int) out.lines().filter(l -> !l.isBlank()).count();
    }

    /** Runs while the helper container's git waits for the server's first answer. */
    private void inspectHelpers() {
        for (Container c : helpers()) {
            try {
                Process p = new ProcessBuilder("docker", "inspect", c.getId()).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                p.waitFor(30, TimeUnit.SECONDS);
                inspected.add(out);
                InspectContainerResponse info = DockerTestSupport.docker().inspectContainerCmd(c.getId()).exec();
                var host = info.getHostConfig();
                List<String> problems = new ArrayList<>();
                if (!Boolean.TRUE.equals(host.getReadonlyRootfs())) {
                    problems.add("root file system writable");
                }
                if (host.getCapDrop() == null || !List.of(host.getCapDrop()).toString().contains("ALL")) {
                    problems.add("capabilities kept: " + java.util.Arrays.toString(host.getCapDrop()));
                }
                if (host.getSecurityOpts() == null || !host.getSecurityOpts().contains("no-new-privileges")) {
                    problems.add("security options " + host.getSecurityOpts());
                }
                if (!"host".equals(host.getNetworkMode())) {
                    problems.add("network " + host.getNetworkMode() + " is not the clone network");
                }
                if (host.getMemory() == null || host.getMemory() <= 0 || host.getPidsLimit() == null || host.getPidsLimit() <= 0) {
                    problems.add("no memory or pids limit");
                }
                if (host.getBinds() == null || host.getBinds().length != 1
                        || !host.getBinds()[0].getPath().startsWith(cacheDir().toString())
                        || !host.getBinds()[0].getPath().equals(host.getBinds()[0].getVolume().getPath())) {
                    problems.add("mounts " + java.util.Arrays.toString(host.getBinds()));
                }
                if (!GIT_IMAGE.equals(info.getConfig().getImage())) {
                    problems.add("image " + info.getConfig().getImage());
                }
                inspected.add(problems.isEmpty() ? "hardened" : "NOT HARDENED: " + problems);
            } catch (IOException | RuntimeException e) {
                inspected.add("inspect failed: " + e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Test
    void fetchesInHelperContainersReusesTheEntryAndRefusesARefusedToken() throws Exception {
        String url = http.url("shop.git");
        RecordingContext first = new RecordingContext(Duration.ofSeconds(120));
        TaskResult r1 = executor.execute(DockerTestSupport.task(null, url, "feature/x", git.middle(), git.base(), TOKEN), first);
        assertEquals(ResultStatus.COMPLETED, r1.status(), () -> r1 + "\n" + first.lines());
        assertTrue(r1.summary().contains("head=" + git.middle()) && r1.summary().contains("base=yes"), r1.summary());
        assertTrue(first.logged("new entry of the runner's repository cache"), first.lines().toString());
        assertTrue(first.logged("from the runner's repository cache"), first.lines().toString());
        // the fetch ran in a helper container, hardened, and the token is in nothing docker inspect shows
        assertFalse(inspected.isEmpty(), "a helper container was running during the fetch");
        assertTrue(inspected.stream().anyMatch("hardened"::equals), inspected.toString());
        assertFalse(inspected.stream().anyMatch(s -> s.startsWith("NOT HARDENED") || s.startsWith("inspect failed")), inspected.toString());
        assertTrue(inspected.stream().anyMatch(s -> s.contains("\"Labels\"") && s.contains("ai-review.runner")), inspected.toString());
        for (String json : inspected) {
            assertFalse(json.contains("Secr3t") || json.contains(url), "token or URL in docker inspect:\n" + json);
        }
        assertTrue(http.authorizations().contains(GitHttpServer.basic("x-access-token", TOKEN)), "the helper sent the token");
        assertHelpersRemoved("helper containers removed");
        Path entry = cacheDir().resolve(dev.aireview.runner.source.RepoCacheAccess.keyOf(url));
        assertTrue(Files.exists(entry.resolve("ai-review-ready")), "the entry is filled and marked ready");

        java.time.Instant beforeSecond = java.time.Instant.now();
        RecordingContext second = new RecordingContext(Duration.ofSeconds(120));
        TaskResult r2 = executor.execute(DockerTestSupport.task(null, url, "feature/x", git.head(), git.base(), TOKEN), second);
        assertEquals(ResultStatus.COMPLETED, r2.status(), () -> r2 + "\n" + second.lines());
        assertTrue(second.logged("updating the runner's cached repository"), second.lines().toString());
        assertFalse(second.logged("new entry"), second.lines().toString());
        // a repeat task's helper: the fetch, then, in the same container, one lookup of the branch tip, head and base
        // (git's input on the helper's stdin, ended by the entrypoint), not one container per question
        assertEquals(1, helpersCreatedSince(beforeSecond), "helper containers of a repeat task");

        int before = http.seen.size();
        RecordingContext refused = new RecordingContext(Duration.ofSeconds(120));
        TaskResult r3 = executor.execute(DockerTestSupport.task(null, url, "feature/x", git.head(), null, "wrong-token-424242"), refused);
        assertNotNull(r3.error(), () -> r3 + "\n" + refused.lines());
        assertEquals(ErrorKind.CLONE_FAILED, r3.error().kind(), () -> r3 + "\n" + refused.lines());
        assertFalse(r3.error().message().contains("wrong-token-424242"), r3.error().message());
        assertTrue(http.seen.size() > before, "the refused task asked the server");
        assertFalse(refused.logged("from the runner's repository cache"), "a refused task gets nothing from the cache");
        assertHelpersRemoved("helper containers removed");

        // the second task again: the entry holds its commits, so its helper lists the branch with the task's token and
        // looks them up, in one container, and fetches nothing (this server speaks v0: a fetch would POST)
        java.time.Instant beforeFourth = java.time.Instant.now();
        int seenBeforeFourth = http.seen.size();
        RecordingContext fourth = new RecordingContext(Duration.ofSeconds(120));
        TaskResult r4 = executor.execute(DockerTestSupport.task(null, url, "feature/x", git.head(), git.base(), TOKEN), fourth);
        assertEquals(ResultStatus.COMPLETED, r4.status(), () -> r4 + "\n" + fourth.lines());
        assertTrue(fourth.logged("nothing to fetch"), fourth.lines().toString());
        assertEquals(1, helpersCreatedSince(beforeFourth), "helper containers of a listed repeat task");
        List<GitHttpServer.Seen> listing = List.copyOf(http.seen.subList(seenBeforeFourth, http.seen.size()));
        assertTrue(listing.stream().anyMatch(x -> GitHttpServer.basic("x-access-token", TOKEN).equals(x.authorization())), listing.toString());
        assertTrue(listing.stream().noneMatch(x -> x.method().equals("POST")), "no fetch: " + listing);
        assertHelpersRemoved("helper containers removed");

        try (var files = Files.walk(cacheDir())) {
            for (Path f : files.filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).toList()) {
                assertFalse(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1).contains("Secr3t"), f.toString());
            }
        }
    }

    @Test
    void theDeadlineKillsAStalledFetchAndRemovesItsContainer() {
        String url = stalled.url("shop.git");
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(15));
        long t0 = System.nanoTime();
        TaskResult r = executor.execute(DockerTestSupport.task(null, url, "feature/x", git.head(), null, TOKEN), ctx);
        double secs = (System.nanoTime() - t0) / 1e9;
        assertNotNull(r.error(), () -> r + "\n" + ctx.lines());
        assertEquals(ErrorKind.TIMEOUT, r.error().kind(), () -> r + "\n" + ctx.lines());
        assertTrue(secs < 28, "ended at the deadline, not when the server answered: " + secs + " s");
        assertEquals(1, stalled.seen.size(), "the stalled fetch reached the server");
        assertHelpersRemoved("the killed helper container was removed");
    }

    @Test
    void aMissingGitImageLeavesTheCacheOff() {
        var config = DockerTestSupport.config(runner, "host", 0).withRepoCacheGit("container", "ai-review-test/no-such-git:absent");
        var docker = DockerTestSupport.docker();
        assertNull(ContainerGit.open(docker, new ContainerRunner(docker, Duration.ofSeconds(1)), new ContainerSpecs(config), config));
        assertNotNull(ContainerGit.open(docker, new ContainerRunner(docker, Duration.ofSeconds(1)), new ContainerSpecs(config),
                config.withRepoCacheGit("container", GIT_IMAGE)));
    }
}

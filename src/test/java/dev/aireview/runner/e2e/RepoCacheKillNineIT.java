package dev.aireview.runner.e2e;

import com.github.dockerjava.api.model.Container;
import dev.aireview.runner.devserver.Attempt;
import dev.aireview.runner.devserver.NewTask;
import dev.aireview.runner.devserver.TaskSnapshot;
import dev.aireview.runner.docker.ContainerGit;
import dev.aireview.runner.docker.DockerTestSupport;
import dev.aireview.runner.docker.Labels;
import dev.aireview.runner.docker.Workspaces;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A runner process killed with SIGKILL while its trusted git is fetching a repository into the cache, into a new entry
 * or into a complete one it updates (issue 19): the
 * repository is served through a {@link HoldingProxy} that holds the fetch after the first 256 KiB of its pack, so the
 * kill lands with git's half-written pack ({@code objects/pack/tmp_pack_*}) and {@code shallow.lock} in the entry, no
 * {@code ai-review-ready} marker, and git still running: an orphaned host {@code git} blocked on the proxy, or the
 * helper container ({@code RUNNER_REPO_CACHE_GIT=container}) still running. The runner started again under its name
 * must delete the half-written entry, leave no container, and serve the repository's tasks from a complete entry: the
 * killed task (reported {@code runner_shutdown}, re-queued) and the next one each get exactly one {@code completed}
 * result at the right commit. Then the orphan's held fetch is let go, and the entry it was writing into must not
 * change the new one.
 */
class RepoCacheKillNineIT {
    /** Long enough that the server never re-queues the task by itself during the test. */
    @RegisterExtension
    static final E2eFixture fixture = E2eFixture.withTestImage(Duration.ofMinutes(10));

    private static final String GIT_IMAGE = "local/debian-git:bookworm";
    private static final String REPO = "big.git";
    /** Files of random (incompressible) bytes per commit: a pack of about 1.2 MiB, more than git unpacks loose. */
    private static final int FILES = 150;
    private static final int FILE_BYTES = 4096;
    private static final long HOLD_AFTER = 256 * 1024;

    private static final List<AutoCloseable> toClose = new ArrayList<>();
    private static HoldingProxy proxy;
    private static String url;
    private static String base;
    private static String middle;
    private static String head;

    @BeforeAll
    static void repository() throws Exception {
        Path work = fixture.git().root().resolve("big-work");
        Files.createDirectories(work);
        git(work, "init", "-q", "-b", "main");
        Files.writeString(work.resolve("README.md"), "big\n");
        git(work, "add", ".");
        git(work, "commit", "-q", "-m", "initial");
        git(work, "checkout", "-q", "-b", "feature/x");
        base = git(work, "rev-parse", "HEAD");
        Random random = new Random(19);
        for (int c = 0; c < 2; c++) {
            for (int i = 0; i < FILES; i++) {
                byte[] b = new byte[FILE_BYTES];
                random.nextBytes(b);
                Files.write(work.resolve("blob-" + c + "-" + i + ".bin"), b);
            }
            git(work, "add", ".");
            git(work, "commit", "-q", "-m", "commit " + c);
            if (c == 0) {
                middle = git(work, "rev-parse", "HEAD");
            }
        }
        head = git(work, "rev-parse", "HEAD");
        git(fixture.git().root(), "clone", "-q", "--bare", work.toString(), fixture.git().root().resolve(REPO).toString());
        proxy = HoldingProxy.start(URI.create(fixture.git().url(REPO)).getPort());
        toClose.add(proxy);
        url = "git://127.0.0.1:" + proxy.port() + "/" + REPO;
    }

    /** This test's runner processes: stopped after it, pass or fail, so none claims the next one's task. */
    private final List<AutoCloseable> runners = new ArrayList<>();

    @AfterEach
    void stopRunners() throws Exception {
        proxy.release();
        for (int i = runners.size() - 1; i >= 0; i--) {
            runners.get(i).close();
        }
    }

    @AfterAll
    static void tearDown() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    /**
     * {@code host} and {@code container}: the kill lands in the fetch that creates the entry; {@code host-update}: in the
     * fetch that updates a complete entry (an earlier task fetched the first commit), whose ready marker is removed
     * before git writes into it.
     */
    @ParameterizedTest(name = "RUNNER_REPO_CACHE_GIT={0}")
    @ValueSource(strings = {"host", "container", "host-update"})
    void aRunnerKilledMidFetchRebuildsTheEntryAtItsNextStart(String variant) throws Exception {
        boolean update = variant.endsWith("-update");
        String gitPlace = update ? variant.substring(0, variant.indexOf('-')) : variant;
        boolean inContainer = gitPlace.equals("container");
        String name = DockerTestSupport.runnerName("cachekill-" + variant);
        Map<String, String> env = E2e.env(fixture.server(), name, DockerTestSupport.IMAGE, 1);
        env.put("RUNNER_REPO_CACHE_GIT", gitPlace);
        env.put("RUNNER_GIT_IMAGE", GIT_IMAGE);
        Path cache = new Workspaces(DockerTestSupport.WORKSPACE_BASE, name).runnerDir().resolve(Workspaces.REPO_CACHE_DIR);

        E2e.RunnerProcess first = E2e.startOnline(fixture.server(), env, runners);
        if (update) {
            // a complete entry first: the commit before the head, named by SHA only, so the head's files are not in it
            String earlier = fixture.server().enqueue(task(middle, null).build());
            TaskSnapshot done = fixture.server().awaitTerminal(earlier, Duration.ofSeconds(120));
            assertEquals("completed", done.resultStatus(), done.errorKind() + " " + done.errorMessage() + "\n" + E2e.logText(done));
            assertTrue(Files.exists(single(cache).resolve("ai-review-ready")), "the entry is complete before the update");
            assertFalse(hasCommit(single(cache), head), "the head is not in the entry yet: the next fetch updates it");
        }
        proxy.arm(HOLD_AFTER);
        String killed = fixture.server().enqueue(task(head, "feature/x").build());
        assertTrue(proxy.awaitHeld(60), "the runner's fetch reached the proxy");
        // the fetch is held with part of its pack written: git's temporary pack in the entry has bytes
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> tmpPacks(cache).stream()
                .anyMatch(p -> p.toFile().length() > 0));
        Path entry = single(cache);
        assertTrue(Files.exists(entry.resolve("shallow.lock")), "git holds shallow.lock during a --depth fetch");
        assertFalse(Files.exists(entry.resolve("ai-review-ready")), "no ready marker while git writes");
        List<ProcessHandle> orphans = first.process().descendants().toList();
        if (inContainer) {
            assertTrue(gitContainers(name).stream().anyMatch(c -> "running".equals(c.getState())), "the helper container is fetching");
        } else {
            assertFalse(orphans.isEmpty(), "host git is fetching");
        }

        assertEquals(137, first.kill9(), "killed by SIGKILL");
        // what the kill left: the half-written entry, and git still fetching (an orphaned process, or the helper container)
        assertFalse(tmpPacks(cache).isEmpty(), "the half-written pack is still there");
        if (inContainer) {
            assertTrue(gitContainers(name).stream().anyMatch(c -> "running".equals(c.getState())), "the helper container outlived its runner");
        } else {
            assertTrue(orphans.stream().anyMatch(ProcessHandle::isAlive), "git outlived its runner");
        }

        E2e.RunnerProcess again = E2e.process(env);
        runners.add(again);
        // the killed task: reported lost by the restarted runner, re-queued, and completed from a rebuilt entry
        TaskSnapshot retried = fixture.server().awaitTerminal(killed, Duration.ofSeconds(120));
        String log = again.output();
        assertEquals(2, retried.attempts().size(), retried + "\n" + log);
        Attempt lost = retried.attempts().get(0);
        assertEquals("runner_shutdown", lost.errorKind(), retried.toString());
        assertEquals(1, lost.resultCalls(), "the lost attempt is reported once");
        Attempt retry = retried.attempts().get(1);
        assertEquals("completed", retried.resultStatus(), retried.errorKind() + " " + retried.errorMessage() + "\n"
                + E2e.logText(retried) + "\n" + log);
        assertEquals(1, retry.resultCalls(), "exactly one result for the retry");
        assertTrue(retried.summary().contains("head=" + head + " "), retried.summary());
        assertTrue(log.contains("repository cache entry " + entry.getFileName() + " was left half-written; deleting it"), log);
        if (inContainer) {
            assertTrue(log.contains("task " + ContainerGit.TASK_LABEL + ", state running)"), "the reaper removed the running helper:\n" + log);
        }

        // the next task of the repository: another commit, served from the rebuilt entry
        String next = fixture.server().enqueue(task(middle, null).build());
        TaskSnapshot done = fixture.server().awaitTerminal(next, Duration.ofSeconds(120));
        assertEquals("completed", done.resultStatus(), done.errorKind() + " " + done.errorMessage() + "\n" + E2e.logText(done));
        assertEquals(1, done.resultCalls(), "exactly one result");
        assertEquals(1, done.claimCount());
        assertTrue(done.summary().contains("head=" + middle + " "), done.summary());
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() ->
                DockerTestSupport.containersOfRunner(name).isEmpty());

        // the orphan's fetch is let go: it ends (the helper container was reaped at the start; host git finishes or
        // fails in the entry it was writing, which is gone), and the rebuilt entry stays whole
        assertEquals(entry, single(cache), "the same entry, rebuilt");
        String refs = git(entry, "for-each-ref");
        String shallow = shallowList(entry);
        proxy.release();
        for (ProcessHandle p : orphans) {
            p.onExit().get(60, TimeUnit.SECONDS);
        }
        assertEquals(refs, git(entry, "for-each-ref"), "the orphan changed no ref of the new entry");
        assertEquals(shallow, shallowList(entry), "nor its shallow list");
        assertTrue(Files.exists(entry.resolve("ai-review-ready")), "the rebuilt entry is complete");
        assertEquals(List.of(), tmpPacks(cache), "no half-written pack is left");
        assertEquals(List.of(), locks(entry), "no git lock is left");
        git(entry, "fsck", "--connectivity-only", "--no-progress"); // throws unless git finds the entry whole
        assertEquals(0, again.terminate(), again.output());
        assertEquals(List.of(), DockerTestSupport.containersOfRunner(name), "no container is left");
        assertFalse(again.output().contains(fixture.server().token()), "the runner token never appears in the runner's log");
    }

    private static NewTask.Builder task(String sha, String branch) {
        NewTask.Builder b = NewTask.forRepository(url).fullName("acme/big").headSha(sha).baseSha(base)
                .cloneToken("ghp_e2e" + UUID.randomUUID().toString().replace("-", ""));
        return branch == null ? b : b.branch(branch);
    }

    private static List<Container> gitContainers(String runner) {
        return DockerTestSupport.docker().listContainersCmd().withShowAll(true)
                .withLabelFilter(List.of(Labels.RUNNER + "=" + runner, Labels.ROLE + "=" + ContainerGit.ROLE)).exec();
    }

    /** The one entry of the cache. */
    private static Path single(Path cache) throws IOException {
        try (Stream<Path> s = Files.list(cache)) {
            List<Path> entries = s.filter(p -> !p.getFileName().toString().startsWith(".")).toList();
            assertEquals(1, entries.size(), entries.toString());
            return entries.get(0);
        }
    }

    /** Whether the cache entry holds the commit. */
    private static boolean hasCommit(Path entry, String sha) throws InterruptedException {
        try {
            git(entry, "cat-file", "-e", sha + "^{commit}");
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The entry's shallow list ("" when its history is complete: the fixture's 3 commits are within the depth). */
    private static String shallowList(Path entry) throws IOException {
        Path f = entry.resolve("shallow");
        return Files.exists(f) ? Files.readString(f) : "";
    }

    private static List<Path> tmpPacks(Path cache) throws IOException {
        if (!Files.isDirectory(cache)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(cache)) {
            return s.filter(p -> p.getFileName().toString().startsWith("tmp_") || p.getFileName().toString().startsWith("incoming-"))
                    .toList();
        }
    }

    private static List<Path> locks(Path entry) throws IOException {
        try (Stream<Path> s = Files.walk(entry)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".lock")).toList();
        }
    }

    private static String git(Path dir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("git"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("GIT_AUTHOR_NAME", "Test");
        pb.environment().put("GIT_AUTHOR_EMAIL", "test@example.invalid");
        pb.environment().put("GIT_COMMITTER_NAME", "Test");
        pb.environment().put("GIT_COMMITTER_EMAIL", "test@example.invalid");
        pb.environment().put("GIT_CONFIG_NOSYSTEM", "1");
        pb.environment().put("HOME", dir.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "git " + args[0]);
        if (p.exitValue() != 0) {
            throw new IOException("git " + String.join(" ", args) + " failed: " + out);
        }
        return out;
    }
}

package dev.aireview.runner.source;

import dev.aireview.runner.docker.GitFixture;
import dev.aireview.runner.docker.Workspaces;
import dev.aireview.runner.execution.CancelSignal;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.Repository;
import dev.aireview.runner.model.ReviewTask;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The repository cache on the runner's host, against a git daemon on 127.0.0.1 (no Docker). */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class RepoCacheTest {
    private GitFixture git;
    private Path root;
    private final List<String> log = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        git = GitFixture.start();
        root = Files.createTempDirectory("ai-review-repo-cache");
    }

    @AfterEach
    void tearDown() throws Exception {
        git.close();
        Workspaces.deleteTree(root);
        if (countingHome != null) {
            Workspaces.deleteTree(countingHome);
        }
    }

    private RepoCache cache(long limit) {
        RepoCache c = RepoCache.open(root, limit);
        assertNotNull(c, "git is on this host");
        return c;
    }

    private ReviewTask task(String url, String branch, String head) {
        return new ReviewTask("t-" + System.nanoTime(), null, new Repository(url, "shop", "tok_cache_Secr3t"), branch, null, head,
                List.of(), null, List.of(), null, null);
    }

    private RepoCache.Prepared prepare(RepoCache c, ReviewTask task) {
        return c.prepare(task, 1, Instant.now().plusSeconds(60), new CancelSignal(), log::add);
    }

    /** The git arguments of every run of {@link #countingCache()}'s git. */
    private final List<List<String>> calls = new CopyOnWriteArrayList<>();

    private Path countingHome;

    /** A cache whose git (on this host) records every run's arguments in {@link #calls}. */
    private RepoCache countingCache() throws Exception {
        countingHome = Files.createTempDirectory("ai-review-git-home");
        GitRunner host = new HostGit(countingHome);
        GitRunner counting = new GitRunner() {
            @Override
            public Result run(Path dir, String protocol, List<String> args, java.util.Map<String, String> env, byte[] input,
                              Instant deadline, CancelSignal cancel) {
                calls.add(List.copyOf(args));
                return host.run(dir, protocol, args, env, input, deadline, cancel);
            }

            @Override
            public String describe() {
                return host.describe();
            }
        };
        return new RepoCache(root, 1L << 30, counting);
    }

    @Test
    void aRepeatTaskAsksWhatTheEntryHoldsInOneGitCommand() throws Exception {
        // each local git command is a helper container on the runner image's path: the branch tip, the head and the base
        // are looked up by one cat-file --batch-check after the fetch, not by one command each
        RepoCache c = countingCache();
        // (without a base first: a repeat task asking for nothing new would list instead of fetching)
        prepare(c, task(git.url(), "feature/x", git.head())).lease().close();
        calls.clear();
        RepoCache.Prepared again = prepare(c, withBase(task(git.url(), "feature/x", git.head()), git.base()));
        assertNotNull(again.lease(), again::failure);
        assertEquals(git.head(), again.lease().headSha());
        assertEquals(git.head(), again.lease().branchSha(), "feature/x's tip is the head");
        assertTrue(calls.stream().anyMatch(a -> a.contains("fetch")), calls.toString());
        List<List<String>> local = calls.stream().filter(a -> !a.contains("fetch") && !a.contains("ls-remote")).toList();
        assertEquals(List.of(List.of("cat-file", "--batch-check")), local, calls.toString());
        again.lease().close();

        // a base the entry does not hold is fetched, as before
        calls.clear();
        log.clear();
        String absent = "0123456789abcdef0123456789abcdef01234567";
        RepoCache.Prepared third = prepare(c, withBase(task(git.url(), "feature/x", git.head()), absent));
        assertNotNull(third.lease(), third::failure);
        assertTrue(log.stream().anyMatch(l -> l.contains("fetching base commit " + absent)), log.toString());
        third.lease().close();
        c.close();
    }

    @Test
    void aRepeatTaskOfCommitsTheEntryHoldsListsItsBranchInsteadOfFetching() throws Exception {
        RepoCache c = countingCache();
        prepare(c, withBase(task(git.url(), "feature/x", git.head()), git.base())).lease().close();
        // the same commits again: one listing of the branch with the task's credentials, one lookup, no fetch
        calls.clear();
        log.clear();
        RepoCache.Prepared again = prepare(c, withBase(task(git.url(), "feature/x", git.head()), git.base()));
        assertNotNull(again.lease(), again::failure);
        assertEquals(git.head(), again.lease().headSha());
        assertEquals(git.head(), again.lease().branchSha());
        assertEquals(2, calls.size(), calls.toString());
        assertTrue(calls.get(0).contains("ls-remote") && calls.get(0).contains("refs/heads/feature/x")
                && calls.get(0).stream().anyMatch(a -> a.startsWith("credential.helper=!")), calls.toString());
        assertEquals(List.of("cat-file", "--batch-check"), calls.get(1));
        assertTrue(log.stream().anyMatch(l -> l.contains("nothing to fetch")), log.toString());
        again.lease().close();

        // the branch moved at the server: the entry is updated (a fetch), and the lease names the new tip
        String moved = dev.aireview.runner.docker.GitFixtureAccess.advance(git, "feature/x", "moved.txt");
        calls.clear();
        log.clear();
        RepoCache.Prepared third = prepare(c, withBase(task(git.url(), "feature/x", git.head()), git.base()));
        assertNotNull(third.lease(), third::failure);
        assertEquals(git.head(), third.lease().headSha());
        assertEquals(moved, third.lease().branchSha(), "the branch tip the server has now");
        assertTrue(calls.stream().anyMatch(a -> a.contains("fetch")), calls.toString());
        assertTrue(log.stream().anyMatch(l -> l.contains("updating the runner's cached repository")), log.toString());
        third.lease().close();

        // an earlier task's commits are remembered too: after another commit's task (fetched), the task before it
        // again lists
        calls.clear();
        RepoCache.Prepared other = prepare(c, task(git.url(), "feature/x", git.middle()));
        assertNotNull(other.lease(), other::failure);
        other.lease().close();
        assertTrue(calls.stream().anyMatch(a -> a.contains("fetch")), calls.toString());
        calls.clear();
        RepoCache.Prepared first = prepare(c, withBase(task(git.url(), "feature/x", git.head()), git.base()));
        assertNotNull(first.lease(), first::failure);
        assertTrue(calls.stream().noneMatch(a -> a.contains("fetch")), calls.toString());
        first.lease().close();

        // a task naming a commit only: its access proven by listing HEAD, the entry asked in the same run
        calls.clear();
        RepoCache.Prepared commitOnly = prepare(c, task(git.url(), null, git.head()));
        assertNotNull(commitOnly.lease(), commitOnly::failure);
        assertEquals(git.head(), commitOnly.lease().headSha());
        assertEquals(2, calls.size(), calls.toString());
        assertTrue(calls.get(0).contains("ls-remote") && calls.get(0).contains("HEAD"), calls.toString());
        assertEquals(List.of("cat-file", "--batch-check"), calls.get(1));
        commitOnly.lease().close();

        // a corrupt entry is not served by a listing: the lookup disagrees, the task fetches (and the entry is rebuilt)
        Path repo = root.resolve(RepoCache.keyOf(git.url()));
        try (var files = Files.walk(repo.resolve("objects"))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                f.toFile().setWritable(true);
                Files.write(f, new byte[]{1, 2, 3});
            }
        }
        log.clear();
        RepoCache.Prepared fourth = prepare(c, withBase(task(git.url(), "feature/x", git.head()), git.base()));
        assertNotNull(fourth.lease(), () -> fourth.failure() + " " + log);
        assertFalse(log.stream().anyMatch(l -> l.contains("nothing to fetch")), log.toString());
        fourth.lease().close();
        c.close();
    }

    @Test
    void readsTheListedObjectOfExactlyTheBranch() {
        String sha = "0123456789abcdef0123456789abcdef01234567";
        String other = "89abcdef0123456789abcdef0123456789abcdef";
        String out = other + "\trefs/heads/x/feature\n" + other + "\trefs/remotes/o/refs/heads/feature\n" + sha + "\trefs/heads/feature\n";
        assertEquals(sha, RepoCache.advertised(out, "refs/heads/feature"));
        assertNull(RepoCache.advertised(other + "\trefs/heads/feature-2\n", "refs/heads/feature"));
        assertNull(RepoCache.advertised("", "refs/heads/feature"));
    }

    @Test
    void readsOneAnswerPerQuestionOrKnowsNothing() {
        List<String> asked = List.of("refs/heads/main", "abc^{commit}", "def^{commit}");
        String sha = "0123456789abcdef0123456789abcdef01234567";
        RepoCache.Known k = RepoCache.Known.parse(asked, sha + " commit 231\nabc^{commit} missing\ndef^{commit} ambiguous\n");
        assertEquals(sha, k.getOr("refs/heads/main", () -> "asked"));
        assertNull(k.getOr("abc^{commit}", () -> "asked"), "missing: does not resolve");
        assertNull(k.getOr("def^{commit}", () -> "asked"), "ambiguous: does not resolve");
        assertEquals("asked", k.getOr("other", () -> "asked"), "not among the questions: asked on its own");
        String sha256 = "0123456789abcdef".repeat(4);
        assertEquals(sha256, RepoCache.Known.parse(List.of("x"), sha256 + " commit 1").getOr("x", () -> "asked"));
        // anything else is not read as answers: every question is asked on its own
        for (String odd : List.of(sha + " commit 231\nabc^{commit} missing", "warning: something\n" + sha + " commit 1\nx missing\ny missing",
                sha + " commit\nabc^{commit} missing\ndef^{commit} missing", "refs/heads/main missing\nabc^{commit} missing\nxyz missing")) {
            assertEquals("asked", RepoCache.Known.parse(asked, odd).getOr("refs/heads/main", () -> "asked"), odd);
        }
    }

    private static ReviewTask withBase(ReviewTask t, String base) {
        return new ReviewTask(t.id(), t.reviewId(), t.repository(), t.branch(), base, t.headSha(), t.files(), t.ai(), t.rules(),
                t.prompt(), t.timeoutSeconds(), t.previousHeadSha());
    }

    @Test
    void keysAUrlWithoutItsCredentialsCaseOfHostOrDotGit() {
        String key = RepoCache.keyOf("https://github.com/o/r.git");
        assertEquals(key, RepoCache.keyOf("https://user:pw@GitHub.com/o/r"));
        assertEquals(key, RepoCache.keyOf("https://tok@github.com/o/r/"));
        assertNotEquals(key, RepoCache.keyOf("https://github.com/o/other"));
        assertNotEquals(key, RepoCache.keyOf("http://github.com/o/r"));
    }

    @Test
    void acceptsOnlyRemotesTheHostMayFetch() {
        RepoCache c = cache(1L << 30);
        assertTrue(c.accepts(task("https://h/o/r", "main", null)));
        assertTrue(c.accepts(task(git.url(), "main", null)));
        assertFalse(c.accepts(task("file:///etc/r", "main", null)), "host files are not the task's");
        // ssh runs without any key, agent or configuration of the host's (GitRunner.SSH_COMMAND)
        assertTrue(c.accepts(task("ssh://h/o/r", "main", null)));
        assertTrue(c.accepts(task("git@h:o/r", "main", null)));
        assertEquals(RepoCache.keyOf("ssh://h/o/r"), RepoCache.keyOf("git+ssh://h/o/r.git"));
    }

    @Test
    void refusesToOpenWithoutATrustedGit() {
        // no host git asked for, and no helper image: there is no other way to clone (never in the executor image)
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> RepoCache.open(root, 1L << 30, RepoCache.GitPlace.CONTAINER, () -> null));
        assertTrue(e.getMessage().contains("RUNNER_GIT_IMAGE") && e.getMessage().contains("cannot start"), e.getMessage());
    }

    @Test
    void aCacheWithoutACapKeepsNothingOnceTheLeaseIsClosed() {
        RepoCache c = cache(0);
        RepoCache.Prepared p = prepare(c, task(git.url(), "feature/x", git.head()));
        assertNotNull(p.lease(), p::failure);
        Path repo = p.lease().repo();
        RepoCache.Prepared second = prepare(c, task(git.url(), "feature/x", git.head()));
        assertNotNull(second.lease(), second::failure);
        p.lease().close();
        assertTrue(Files.isDirectory(repo), "kept while another task holds it");
        second.lease().close();
        assertFalse(Files.exists(repo), "RUNNER_REPO_CACHE_LIMIT=0: deleted when its last task ended");
        c.close();
        assertFalse(Files.exists(root), "and the cache directory when the runner stops");
    }

    @Test
    void fetchesOnceThenOnlyUpdatesAndWritesNoCredential() throws Exception {
        RepoCache c = cache(1L << 30);
        RepoCache.Prepared first = prepare(c, task(git.url(), "feature/x", git.middle()));
        assertNotNull(first.lease(), first::failure);
        assertEquals(git.middle(), first.lease().headSha());
        assertEquals(git.head(), first.lease().branchSha());
        assertTrue(log.stream().anyMatch(l -> l.contains("new entry")), log.toString());
        Path repo = first.lease().repo();
        first.lease().close();

        log.clear();
        RepoCache.Prepared second = prepare(c, task(git.url().replace("shop.git", "shop"), "feature/x", git.head()));
        assertNotNull(second.lease(), second::failure);
        assertEquals(repo, second.lease().repo(), "the same entry for the same repository");
        assertTrue(log.stream().anyMatch(l -> l.contains("updating the runner's cached repository")), log.toString());
        second.lease().close();

        String config = Files.readString(repo.resolve("config"));
        assertFalse(config.contains("Secr3t") || config.contains("url"), config);
        try (var files = Files.walk(root)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                assertFalse(new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1).contains("tok_cache_Secr3t"), f.toString());
            }
        }
    }

    @Test
    void theCheckoutInTheReviewContainerGetsNoTokenAndAReadOnlyEntry() {
        RepoCache c = cache(1L << 30);
        ReviewTask t = task(git.url().replace("git://", "git://user:pw_Secr3t@"), "feature/x", git.head());
        RepoCache.Prepared p = prepare(c, task(git.url(), "feature/x", git.head()));
        try (RepoCache.Lease lease = p.lease()) {
            String env = String.join("\n", CachedCheckout.env(t, lease));
            assertFalse(env.contains("tok_cache_Secr3t") || env.contains("pw_Secr3t"), env);
            assertTrue(env.contains("GIT_HEAD_SHA=" + git.head()), env);
            var bind = CachedCheckout.bind(lease);
            assertEquals(com.github.dockerjava.api.model.AccessMode.ro, bind.getAccessMode());
            assertEquals(CachedCheckout.MOUNT, bind.getVolume().getPath());
        }
    }

    @Test
    void aMissingRepositoryFailsAndIsNotServed() {
        RepoCache c = cache(1L << 30);
        RepoCache.Prepared p = prepare(c, task(git.missingUrl(), "feature/x", null));
        assertNull(p.lease());
        assertEquals(ErrorKind.CLONE_FAILED, p.failureKind());
        assertFalse(p.failure().contains("tok_cache_Secr3t"), p.failure());
    }

    @Test
    void aHalfWrittenEntryIsDiscardedAtOpenAndACorruptOneIsFetchedAnew() throws Exception {
        RepoCache c = cache(1L << 30);
        RepoCache.Prepared p = prepare(c, task(git.url(), "feature/x", git.head()));
        Path repo = p.lease().repo();
        p.lease().close();
        // a runner killed mid-fetch: the marker is gone
        Files.delete(repo.resolve(RepoCache.READY));
        Files.writeString(repo.resolve("planted"), "x");
        cache(1L << 30);
        assertFalse(Files.exists(repo), "the half-written entry was deleted at open");

        RepoCache c2 = cache(1L << 30);
        p = prepare(c2, task(git.url(), "feature/x", git.head()));
        p.lease().close();
        // corrupt every object between tasks
        try (var files = Files.walk(repo.resolve("objects"))) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                f.toFile().setWritable(true);
                Files.write(f, new byte[]{1, 2, 3});
            }
        }
        log.clear();
        RepoCache.Prepared after = prepare(c2, task(git.url(), "feature/x", git.middle()));
        assertNotNull(after.lease(), () -> after.failure() + " " + log);
        assertTrue(log.stream().anyMatch(l -> l.contains("fetching it anew")), log.toString());
        after.lease().close();
    }

    @Test
    void evictsTheLeastRecentlyUsedEntryNotInUseAtTheCap() throws Exception {
        Path work = git.root().resolve("other.git");
        dev.aireview.runner.docker.GitFixtureAccess.cloneBare(git, work);
        RepoCache c = cache(1);
        RepoCache.Prepared a = prepare(c, task(git.url(), "feature/x", git.head()));
        Path repoA = a.lease().repo();
        a.lease().close();
        RepoCache.Prepared b = prepare(c, task(git.url("other.git"), "feature/x", git.head()));
        assertNotNull(b.lease(), b::failure);
        assertFalse(Files.exists(repoA), "the older entry not in use was evicted");
        assertTrue(Files.exists(b.lease().repo()), "the entry in use is kept, even over the cap");
        RepoCache.Prepared again = prepare(c, task(git.url(), "feature/x", git.head()));
        assertTrue(Files.exists(b.lease().repo()), "an entry in use is never evicted");
        b.lease().close();
        again.lease().close();
    }

    @Test
    void concurrentTasksOfOneRepositoryShareOneEntry() throws Exception {
        RepoCache c = cache(1L << 30);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<RepoCache.Prepared>> all = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                String head = i % 2 == 0 ? git.head() : git.middle();
                all.add(pool.submit((Callable<RepoCache.Prepared>) () -> prepare(c, task(git.url(), "feature/x", head))));
            }
            Path repo = null;
            for (Future<RepoCache.Prepared> f : all) {
                RepoCache.Prepared p = f.get();
                assertNotNull(p.lease(), p::failure);
                repo = repo == null ? p.lease().repo() : repo;
                assertEquals(repo, p.lease().repo());
                p.lease().close();
            }
            assertTrue(Files.exists(repo.resolve(RepoCache.READY)));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aCancelledFetchLeavesTheEntryToBeDiscarded() {
        RepoCache c = cache(1L << 30);
        CancelSignal cancel = new CancelSignal();
        cancel.cancel(dev.aireview.runner.execution.CancelReason.RUNNER_SHUTDOWN);
        RepoCache.Prepared p = c.prepare(task(git.url(), "feature/x", git.head()), 1, Instant.now().plusSeconds(60), cancel, log::add);
        assertNull(p.lease());
        assertEquals(ErrorKind.RUNNER_SHUTDOWN, p.failureKind(), p::failure);
    }
}

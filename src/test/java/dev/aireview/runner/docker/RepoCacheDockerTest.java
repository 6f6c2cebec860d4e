package dev.aireview.runner.docker;

import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Cold tasks through the runner's repository cache (RUNNER_REPO_CACHE_LIMIT): the runner fetches with the task's token
 * over smart HTTP on 127.0.0.1, the review container checks out from the read-only entry without the token, a repeat
 * review only updates the entry, and a task whose token is refused is not served from it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class RepoCacheDockerTest {
    private static final String TOKEN = "tok_Cache+Secr3t/77";

    private ExecutorFixture fixture;
    private GitFixture git;
    private GitHttpServer http;
    private String runner;
    private DockerTaskExecutor executor;

    @BeforeAll
    void setUp() throws Exception {
        fixture = ExecutorFixture.start("cache", 0, c -> c.withRepoCacheLimit(1L << 30));
        git = fixture.git;
        runner = fixture.runner;
        executor = fixture.executor;
        http = GitHttpServer.start(git.root(), TOKEN, true);
    }

    @AfterAll
    void tearDown() throws Exception {
        if (http != null) {
            http.close();
        }
        if (fixture != null) {
            fixture.close(); // the repository cache goes with the runner directories
        }
    }

    private TaskResult run(ReviewTask task, RecordingContext ctx) {
        return executor.execute(task, ctx);
    }

    @Test
    void reviewsFromTheCacheFetchOnlyWhatIsNewAndRefuseATaskTheServerRefuses() throws Exception {
        String url = http.url("shop.git");
        RecordingContext first = new RecordingContext(Duration.ofSeconds(90));
        TaskResult r1 = run(DockerTestSupport.task(null, url, "feature/x", git.middle(), git.base(), TOKEN), first);
        assertEquals(ResultStatus.COMPLETED, r1.status(), () -> r1 + "\n" + first.lines());
        assertTrue(r1.summary().contains("head=" + git.middle()) && r1.summary().contains("base=yes"), r1.summary());
        // the runner fetched on its host (a new entry, or an update when another test of this class ran first)
        assertTrue(first.logged("new entry of the runner's repository cache") || first.logged("updating the runner's cached repository"),
                first.lines().toString());
        assertTrue(first.logged("from the runner's repository cache"), first.lines().toString());
        assertFalse(first.lines().stream().anyMatch(l -> l.contains("Secr3t")), "token never in the output");

        RecordingContext second = new RecordingContext(Duration.ofSeconds(90));
        TaskResult r2 = run(DockerTestSupport.task(null, url, "feature/x", git.head(), null, TOKEN), second);
        assertEquals(ResultStatus.COMPLETED, r2.status(), () -> r2 + "\n" + second.lines());
        assertTrue(r2.summary().contains("head=" + git.head()), r2.summary());
        // an update, or (when the other test of this class ran first and asked for head) a listing: never a new entry
        assertTrue(second.logged("updating the runner's cached repository") || second.logged("nothing to fetch"), second.lines().toString());
        assertFalse(second.logged("new entry"), second.lines().toString());

        int before = http.seen.size();
        RecordingContext refused = new RecordingContext(Duration.ofSeconds(90));
        TaskResult r3 = run(DockerTestSupport.task(null, url, "feature/x", git.head(), null, "wrong-token-424242"), refused);
        assertEquals(ErrorKind.CLONE_FAILED, r3.error().kind(), () -> r3 + "\n" + refused.lines());
        assertFalse(r3.error().message().contains("wrong-token-424242"), r3.error().message());
        assertTrue(http.seen.size() > before, "the refused task asked the server");
        assertFalse(refused.logged("from the runner's repository cache"), "a refused task gets nothing from the cache");

        // the entry survived the refused task: a task with the right token is still served, its access proven by one
        // listing of the branch (the entry holds its commits) with the task's credentials
        before = http.seen.size();
        RecordingContext fourth = new RecordingContext(Duration.ofSeconds(90));
        TaskResult r4 = run(DockerTestSupport.task(null, url, "feature/x", git.head(), null, TOKEN), fourth);
        assertEquals(ResultStatus.COMPLETED, r4.status(), () -> r4 + "\n" + fourth.lines());
        assertTrue(fourth.logged("nothing to fetch"), fourth.lines().toString());
        List<GitHttpServer.Seen> listing = http.seen.subList(before, http.seen.size());
        assertTrue(listing.size() <= 3 && listing.stream().anyMatch(s -> GitHttpServer.basic("x-access-token", TOKEN).equals(s.authorization())),
                listing.toString());
        // this server speaks protocol v0: the listing is its ref advertisement (GET); a fetch would POST to git-upload-pack
        assertEquals(0, listing.stream().filter(s -> s.method().equals("POST")).count(), "no fetch: " + listing);

        // nothing in the cache carries the token; nothing in it is writable by the container user
        Path cache = fixture.cacheDir();
        try (var files = Files.walk(cache)) {
            for (Path f : files.filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).toList()) {
                assertFalse(new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1).contains("Secr3t"), f.toString());
                String mode = java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(f));
                assertEquals('-', mode.charAt(7), f + " " + mode);
            }
        }
    }

    @Test
    void concurrentTasksOfOneRepositoryShareTheEntry() {
        String url = http.url("shop.git");
        List<CompletableFuture<TaskResult>> all = new ArrayList<>();
        List<RecordingContext> ctxs = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            RecordingContext ctx = new RecordingContext(Duration.ofSeconds(120));
            ctxs.add(ctx);
            String head = i == 0 ? git.head() : git.middle();
            all.add(CompletableFuture.supplyAsync(() -> run(DockerTestSupport.task(null, url, "feature/x", head, null, TOKEN), ctx)));
        }
        for (int i = 0; i < all.size(); i++) {
            TaskResult r = all.get(i).join();
            RecordingContext ctx = ctxs.get(i);
            assertEquals(ResultStatus.COMPLETED, r.status(), () -> r + "\n" + ctx.lines());
            assertTrue(ctx.logged("from the runner's repository cache"), ctx.lines().toString());
        }
    }
}

package dev.aireview.runner.review;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.source.CachedCheckout;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link CachedCheckout#SCRIPT} run by the host's sh and git against a bare "cache entry" in a temp directory (what the
 * review container does with /cache), then the review engine and {@link CheckoutCheck} on the result: a changed-files
 * checkout holds only the changed files (names with spaces, a newline, a leading dash, bytes that are not UTF-8), the
 * check passes, the engine reviews every changed file, and a changed file that is missing still fails the check.
 */
class ChangedFilesCheckoutTest {

    /** Names in ISO-8859-1 (one char per byte), so that the non-UTF-8 name survives as its bytes. */
    private static final String LATIN = "docs/caf\u00e9.txt";

    @TempDir
    Path tmp;

    private Path src;
    private Path cache;
    private Path repo;
    private String base;
    private String head;

    @BeforeEach
    void repository() throws Exception {
        src = tmp.resolve("src");
        cache = tmp.resolve("cache.git");
        repo = tmp.resolve("workspace").resolve("repo");
        Files.createDirectories(src);
        sh(src, "git init -q -b main . && mkdir -p lib gen docs old"
                + " && for i in 1 2 3 4 5 6 7 8; do echo \"export const v$i = $i;\" > lib/m$i.js; done"
                + " && printf 'gen/** linguist-generated\\n' > .gitattributes"
                + " && echo shop > README.md && echo gone > old/gone.txt && echo keep > docs/keep.txt"
                + " && git add -A && git -c user.name=f -c user.email=f@x commit -q -m base");
        base = sh(src, "git rev-parse HEAD").strip();
        sh(src, "mkdir -p src"
                + " && printf 'class App {\\n  void run() {\\n    System.out.println(1);\\n  }\\n}\\n' > src/App.java"
                + " && printf 'export function f(x) {\\n  console.log(x);\\n}\\n' > 'lib/with space.js'"
                + " && printf 'export function g(x) {\\n  console.log(x);\\n}\\n' > ./-dash.js"
                + " && printf 'export function h(x) {\\n  console.log(x);\\n}\\n' > \"$(printf 'new\\nline.js')\""
                + " && printf 'plain text\\n' > \"$(printf 'docs/caf\\351.txt')\""
                + " && printf 'class Api {\\n  void run() {\\n    System.out.println(1);\\n  }\\n}\\n' > gen/Api.java"
                + " && echo 'export const v1 = 10;' > lib/m1.js && git rm -q old/gone.txt"
                + " && git add -A && git -c user.name=f -c user.email=f@x commit -q -m change");
        head = sh(src, "git rev-parse HEAD").strip();
        sh(tmp, "git clone -q --bare src cache.git");
    }

    /** The changed files of head (deleted ones are not in it). */
    private static final Set<String> CHANGED = Set.of("src/App.java", "lib/with space.js", "-dash.js", "new\nline.js", LATIN,
            "gen/Api.java", "lib/m1.js");

    @Test
    void aChangedFilesCheckoutHoldsOnlyTheChangedFilesAndTheEngineReviewsThemAll() throws Exception {
        String log = checkout("changed", base, CachedCheckout.SPARSE_MAX_FILES);
        assertTrue(log.contains("checked out 7 changed file(s) of " + head), log);

        assertEquals(new TreeSet<>(CHANGED), worktree(), "only the changed files are in the worktree");
        assertEquals(head, sh(repo, "git rev-parse HEAD").strip());
        assertTrue(sh(repo, "git ls-files -z").split("\0").length > CHANGED.size(), "the index holds the whole tree");
        assertNull(CheckoutCheck.problem(repo), "skip-worktree entries are not missing files");

        List<String> progress = new ArrayList<>();
        TaskResult result = new ReviewEngine().review(task(base, head), repo, progress::add);
        assertEquals(ResultStatus.COMPLETED, result.status(), () -> result.error() + "\n" + progress);
        assertEquals(8, result.stats().filesReviewed(), "7 changed files and the deleted one: " + result.summary());
        Set<String> commented = new TreeSet<>(result.comments().stream().map(c -> c.path() + ":" + c.line()).toList());
        assertEquals(Set.of("src/App.java:3", "lib/with space.js:2", "-dash.js:2", "new\nline.js:2"), commented,
                "gen/ is generated by the base's .gitattributes (read from objects): " + result.summary());
    }

    @Test
    void theAiPathsContextComesFromObjectsNotTheWorktree() throws Exception {
        checkout("changed", base, CachedCheckout.SPARSE_MAX_FILES);
        assertTrue(Files.notExists(repo.resolve("lib/m2.js")), "an unchanged file is not in the worktree");
        try (GitRepo git = new GitRepo(repo)) {
            var files = HeadFiles.of(git, head);
            assertEquals(List.of("export const v2 = 2;"), files.apply("lib/m2.js"), "unchanged: read from head's object");
            assertEquals(List.of("export const v1 = 10;"), files.apply("lib/m1.js"));
            assertEquals(List.of("export function g(x) {", "  console.log(x);", "}"), files.apply("-dash.js"));
        }
    }

    @Test
    void aChangedFileMissingFromTheWorktreeStillFailsTheCheck() throws Exception {
        checkout("changed", base, CachedCheckout.SPARSE_MAX_FILES);
        Files.delete(repo.resolve("-dash.js"));
        String problem = CheckoutCheck.problem(repo);
        assertNotNull(problem);
        assertTrue(problem.startsWith("1 tracked file(s) of " + head), problem);
    }

    @Test
    void aFullCheckoutTooManyChangedFilesOrNoBaseCheckOutEveryFile() throws Exception {
        Set<String> all = new TreeSet<>(CHANGED);
        all.addAll(Set.of(".gitattributes", "README.md", "docs/keep.txt", "lib/m2.js", "lib/m3.js", "lib/m4.js", "lib/m5.js",
                "lib/m6.js", "lib/m7.js", "lib/m8.js"));

        checkout("full", base, CachedCheckout.SPARSE_MAX_FILES);
        assertEquals(all, worktree(), "full");
        assertNull(CheckoutCheck.problem(repo));

        reset();
        String log = checkout("changed", base, 6);
        assertTrue(log.contains("7 files changed, more than 6; checking out every file"), log);
        assertEquals(all, worktree());

        reset();
        log = checkout("changed", "", CachedCheckout.SPARSE_MAX_FILES);
        assertTrue(log.contains("no base commit"), log);
        assertEquals(all, worktree());

        reset();
        log = checkout("changed", "0123456789012345678901234567890123456789", CachedCheckout.SPARSE_MAX_FILES);
        assertTrue(log.contains("is not in the cache"), log);
        assertEquals(all, worktree());
        assertNull(CheckoutCheck.problem(repo));
    }

    @Test
    void aBaseWithNoCommonAncestorIsDiffedAsItIs() throws Exception {
        // merge-base finds nothing (an unrelated root commit, as a shallow history can also make it): the base itself is
        // the other side of the diff, so every file of head is a changed file
        String orphan = sh(cache, "git -c user.name=f -c user.email=f@x commit-tree $(git hash-object -t tree -w --stdin < /dev/null) -m orphan").strip();
        String log = checkout("changed", orphan, CachedCheckout.SPARSE_MAX_FILES);
        Set<String> all = new TreeSet<>(CHANGED);
        all.addAll(Set.of(".gitattributes", "README.md", "docs/keep.txt", "lib/m2.js", "lib/m3.js", "lib/m4.js", "lib/m5.js",
                "lib/m6.js", "lib/m7.js", "lib/m8.js"));
        assertTrue(log.contains("checked out " + all.size() + " changed file(s) of " + head), log);
        assertEquals(all, worktree());
        assertNull(CheckoutCheck.problem(repo));
    }

    @Test
    void onlyTheLabelValueChangedAsksForAChangedFilesCheckout() {
        assertEquals(CachedCheckout.Checkout.CHANGED, CachedCheckout.checkoutOf(Map.of("ai-review.checkout", "changed")));
        assertEquals(CachedCheckout.Checkout.FULL, CachedCheckout.checkoutOf(Map.of("ai-review.checkout", "full")));
        assertEquals(CachedCheckout.Checkout.FULL, CachedCheckout.checkoutOf(Map.of("other", "changed")));
        assertEquals(CachedCheckout.Checkout.FULL, CachedCheckout.checkoutOf(null));
    }

    private void reset() throws Exception {
        sh(tmp, "rm -rf workspace");
    }

    /** Runs the checkout script as the review container does, with the cache and workspace in the temp directory. */
    private String checkout(String mode, String baseSha, int max) throws Exception {
        Files.createDirectories(repo.getParent());
        Map<String, String> env = new HashMap<>();
        env.put("GIT_SAFE_URL", "https://git.example/acme/shop.git");
        env.put("GIT_BRANCH", "");
        env.put("GIT_BRANCH_SHA", "");
        env.put("GIT_HEAD_SHA", head);
        env.put("GIT_CHECKOUT", mode);
        env.put("GIT_BASE_SHA", baseSha);
        env.put("GIT_SPARSE_MAX", Integer.toString(max));
        env.put("GIT_CACHE_DIR", cache.toString());
        env.put("GIT_WORK_DIR", repo.toString());
        return run(tmp, env, "sh", "-c", CachedCheckout.SCRIPT);
    }

    /** The files (not directories) of the worktree, .git left out, each name as its bytes in ISO-8859-1. */
    private Set<String> worktree() throws Exception {
        String out = sh(repo, "find . -path ./.git -prune -o \\( -type f -o -type l \\) -print0");
        Set<String> files = new TreeSet<>();
        Arrays.stream(out.split("\0")).filter(s -> !s.isEmpty()).forEach(s -> files.add(s.substring(2)));
        return files;
    }

    private ReviewTask task(String baseSha, String headSha) throws Exception {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("id", "task_sparse_1");
        node.putObject("repository").put("url", "https://git.example/acme/shop.git");
        node.put("baseSha", baseSha).put("headSha", headSha);
        return ReviewTask.fromJson(node);
    }

    private static String sh(Path dir, String script) throws Exception {
        return run(dir, Map.of(), "sh", "-c", script);
    }

    /** Output (stdout and stderr) as ISO-8859-1; fails on a non-zero exit. */
    private static String run(Path dir, Map<String, String> env, String... cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("GIT_CONFIG_NOSYSTEM", "1");
        pb.environment().put("HOME", dir.toString());
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }
}

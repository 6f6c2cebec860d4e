package dev.aireview.runner.docker;

import dev.aireview.runner.config.DockerConfig;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The executor image's {@code ai-review.checkout=changed} label through the runner's repository cache: the test image
 * built twice, once with the label, once without; its {@code tree} mode logs the worktree's file names (hex). The base
 * is the tip of {@code main} (as a pull request's is), so the runner's fetch gets it. The
 * labelled image's /workspace/repo holds only the changed files (names with a space, a newline, a leading dash), the
 * unlabelled one's every file of head.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ChangedFilesCheckoutDockerTest {
    private static final String TOKEN = "tok_Sparse+Secr3t/42";
    private static final String LABELLED = DockerTestSupport.IMAGE + "-changed";

    private Path root;
    private GitHttpServer http;
    private String base;
    private String head;
    private final List<String> runners = new java.util.ArrayList<>();

    @BeforeAll
    void setUp() throws Exception {
        DockerTestSupport.buildImage();
        File dir = new File(DockerTestSupport.class.getResource("/docker/executor-test/Dockerfile").getFile()).getParentFile();
        DockerTestSupport.docker().buildImageCmd(dir).withTags(Set.of(LABELLED))
                .withLabels(Map.of("ai-review.managed", "true", "ai-review.checkout", "changed"))
                .withPull(false).start().awaitImageId();
        root = Files.createTempDirectory("ai-review-sparse");
        Path work = root.resolve("work");
        Files.createDirectories(work);
        sh(work, "git init -q -b main . && mkdir -p lib docs"
                + " && for i in 1 2 3 4 5; do echo \"export const v$i = $i;\" > lib/m$i.js; done"
                + " && echo shop > README.md && echo keep > docs/keep.txt && echo gone > docs/gone.txt"
                + " && git add -A && git -c user.name=f -c user.email=f@x commit -q -m base && git checkout -q -b feature"
                + " && printf 'a\\n' > 'lib/with space.js' && printf 'b\\n' > ./-dash.js && printf 'c\\n' > \"$(printf 'new\\nline.js')\""
                + " && echo 'export const v1 = 10;' > lib/m1.js && git rm -q docs/gone.txt"
                + " && git add -A && git -c user.name=f -c user.email=f@x commit -q -m change");
        base = sh(work, "git rev-parse HEAD~1").strip();
        head = sh(work, "git rev-parse HEAD").strip();
        sh(root, "git clone -q --bare work odd.git && git -C odd.git update-server-info");
        http = GitHttpServer.start(root, TOKEN, true);
    }

    @AfterAll
    void tearDown() throws Exception {
        if (http != null) {
            http.close();
        }
        for (String runner : runners) {
            Path cache = new Workspaces(DockerTestSupport.WORKSPACE_BASE, runner).runnerDir().resolve(Workspaces.REPO_CACHE_DIR);
            Workspaces.deleteTree(cache);
        }
        if (root != null) {
            sh(root.getParent(), "rm -rf '" + root.getFileName() + "'");
        }
        try {
            DockerTestSupport.docker().removeImageCmd(LABELLED).exec();
        } catch (RuntimeException ignored) {
            // still in use by a parallel run
        }
        assertEquals(List.of(), DockerTestSupport.leftovers(), "containers, volumes or workspaces left behind");
        DockerTestSupport.removeRunnerDirs();
    }

    @Test
    void aLabelledImageGetsOnlyTheChangedFilesAnUnlabelledOneEveryFile() throws Exception {
        Set<String> changed = Set.of("lib/with space.js", "-dash.js", "new\nline.js", "lib/m1.js");
        Set<String> all = new TreeSet<>(changed);
        all.addAll(Set.of("README.md", "docs/keep.txt", "lib/m2.js", "lib/m3.js", "lib/m4.js", "lib/m5.js"));

        RecordingContext sparse = review(LABELLED, base);
        assertTrue(sparse.logged("checked out 4 changed file(s) of " + head), sparse.lines().toString());
        assertEquals(new TreeSet<>(changed), worktree(sparse));

        RecordingContext full = review(DockerTestSupport.IMAGE, base);
        assertTrue(full.logged("checked out " + head + " from the runner's repository cache"), full.lines().toString());
        assertEquals(all, worktree(full));

        RecordingContext noBase = review(LABELLED, null);
        assertTrue(noBase.logged("the task has no base commit; checking out every file"), noBase.lines().toString());
        assertEquals(all, worktree(noBase));
    }

    private RecordingContext review(String image, String baseSha) throws Exception {
        String runner = DockerTestSupport.runnerName("sparse");
        runners.add(runner);
        DockerConfig config = DockerTestSupport.config(runner, "host", 0, DockerTestSupport.MEMORY, image,
                dev.aireview.runner.config.PullPolicy.NEVER).withRepoCacheLimit(1L << 30);
        try (DockerTaskExecutor executor = new DockerTaskExecutor(config)) {
            executor.start();
            RecordingContext ctx = new RecordingContext(Duration.ofSeconds(90));
            ReviewTask task = DockerTestSupport.task("tree", http.url("odd.git"), "feature", head, baseSha, TOKEN);
            TaskResult r = executor.execute(task, ctx);
            assertEquals(ResultStatus.COMPLETED, r.status(), () -> r + "\n" + ctx.lines());
            return ctx;
        }
    }

    private static Set<String> worktree(RecordingContext ctx) {
        String hex = ctx.lines().stream().filter(l -> l.contains("worktree-hex: ")).findFirst()
                .map(l -> l.substring(l.indexOf("worktree-hex: ") + 14).strip()).orElseThrow(() -> new AssertionError(ctx.lines()));
        Set<String> files = new TreeSet<>();
        for (String name : new String(HexFormat.of().parseHex(hex), StandardCharsets.UTF_8).split("\0")) {
            if (!name.isEmpty()) {
                files.add(name.substring(2));
            }
        }
        return files;
    }

    private static String sh(Path dir, String script) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("sh", "-c", script).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(script + " failed: " + out);
        }
        return out;
    }
}

package dev.aireview.runner.docker;

import dev.aireview.runner.config.DockerConfig;
import dev.aireview.runner.config.PullPolicy;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.testsupport.ExecutorImages;
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
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real executor image (Dockerfile.executor, which carries {@code ai-review.checkout=changed}) through the runner's
 * repository cache: its checkout holds only the changed files and its review engine (CheckoutCheck in the container,
 * then the offline rules on {@code git diff base..head}) still reviews every changed file, names with a space, a newline
 * and a leading dash included; the same image relabelled {@code ai-review.checkout=full} gets a full checkout and the
 * same review. Needs the packaged jar (mvn package).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 900, unit = TimeUnit.SECONDS)
class ChangedFilesRealEngineIT {
    private static final String TOKEN = "tok_Real+Secr3t/17";

    private String image;
    private String fullImage;
    private Path root;
    private GitHttpServer http;
    private String base;
    private String head;
    private final List<String> runners = new ArrayList<>();

    @BeforeAll
    void setUp() throws Exception {
        image = ExecutorImages.ensureBuilt(DockerTestSupport.docker());
        fullImage = image + "-full";
        Path context = Files.createTempDirectory("ai-review-relabel");
        Files.writeString(context.resolve("Dockerfile"), "FROM " + image + "\nLABEL ai-review.checkout=\"full\"\n");
        DockerTestSupport.docker().buildImageCmd(context.toFile()).withTags(Set.of(fullImage))
                .withLabels(Map.of(ExecutorImages.LABEL, "true")).withPull(false).start().awaitImageId();
        sh(context.getParent(), "rm -rf '" + context.getFileName() + "'");
        root = Files.createTempDirectory("ai-review-real-sparse");
        Path work = root.resolve("work");
        Files.createDirectories(work);
        sh(work, "git init -q -b main . && mkdir -p lib docs"
                + " && for i in 1 2 3 4 5; do echo \"export const v$i = $i;\" > lib/m$i.js; done"
                + " && echo shop > README.md && echo gone > docs/gone.txt"
                + " && git add -A && git -c user.name=f -c user.email=f@x commit -q -m base && git checkout -q -b feature"
                + " && printf 'export function f(x) {\\n  console.log(x);\\n}\\n' > 'lib/with space.js'"
                + " && printf 'export function g(x) {\\n  console.log(x);\\n}\\n' > ./-dash.js"
                + " && printf 'export function h(x) {\\n  console.log(x);\\n}\\n' > \"$(printf 'new\\nline.js')\""
                + " && printf 'export const v1 = 10;\\n' > lib/m1.js && git rm -q docs/gone.txt"
                + " && git add -A && git -c user.name=f -c user.email=f@x commit -q -m change");
        base = sh(work, "git rev-parse main").strip();
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
            Workspaces.deleteTree(new Workspaces(DockerTestSupport.WORKSPACE_BASE, runner).runnerDir().resolve(Workspaces.REPO_CACHE_DIR));
        }
        if (root != null) {
            sh(root.getParent(), "rm -rf '" + root.getFileName() + "'");
        }
        try {
            DockerTestSupport.docker().removeImageCmd(fullImage).exec();
        } catch (RuntimeException ignored) {
            // in use by a parallel run
        }
        assertEquals(List.of(), DockerTestSupport.leftovers(), "containers, volumes or workspaces left behind");
        DockerTestSupport.removeRunnerDirs();
    }

    @Test
    void theRealEngineReviewsEveryChangedFileOfAChangedFilesCheckout() throws Exception {
        Set<String> expected = Set.of("lib/with space.js:2", "-dash.js:2", "new\nline.js:2");

        Run sparse = review(image);
        assertTrue(sparse.ctx.logged("checked out 4 changed file(s) of " + head), sparse.ctx.lines().toString());
        assertTrue(sparse.ctx.logged("changed files only"), sparse.ctx.lines().toString());
        assertEquals(expected, sparse.commented(), sparse.result.summary());
        assertEquals(5, sparse.result.stats().filesReviewed(), "4 changed files and the deleted one: " + sparse.result.summary());

        Run full = review(fullImage);
        assertTrue(full.ctx.logged("checked out " + head + " from the runner's repository cache"), full.ctx.lines().toString());
        assertEquals(expected, full.commented(), full.result.summary());
        assertEquals(5, full.result.stats().filesReviewed());
    }

    private record Run(RecordingContext ctx, TaskResult result) {
        Set<String> commented() {
            return new TreeSet<>(result.comments().stream().map(c -> c.path() + ":" + c.line()).toList());
        }
    }

    private Run review(String img) throws Exception {
        String runner = DockerTestSupport.runnerName("real-sparse");
        runners.add(runner);
        DockerConfig config = DockerTestSupport.config(runner, "host", 0, 512L * 1024 * 1024, img, PullPolicy.NEVER)
                .withRepoCacheLimit(1L << 30);
        try (DockerTaskExecutor executor = new DockerTaskExecutor(config)) {
            executor.start();
            RecordingContext ctx = new RecordingContext(Duration.ofSeconds(120));
            ReviewTask task = DockerTestSupport.task(null, http.url("odd.git"), "feature", head, base, TOKEN);
            TaskResult r = executor.execute(task, ctx);
            assertEquals(ResultStatus.COMPLETED, r.status(), () -> r + "\n" + ctx.lines());
            return new Run(ctx, r);
        }
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

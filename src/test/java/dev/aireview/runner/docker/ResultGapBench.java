package dev.aireview.runner.docker;

import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Measures the review container's end (the {@code submitting} phase) → result handed over, and the clean-up after it,
 * for a large workspace: a generated repository of {@code bench.files} files (default 20 000) of 6 KiB of
 * incompressible text (≈ 120 MB checked out). Run on demand (BENCHMARKS.md):
 * {@code flock /tmp/ai-review-heavy.lock mvn -B -o test -Dtest=ResultGapBench -Dbench.resultGap=true}.
 */
@EnabledIfSystemProperty(named = "bench.resultGap", matches = "true")
class ResultGapBench {

    @Test
    void resultIsHandedOverWithinASecondOfTheReviewEndWhateverTheWorkspaceSize() throws Exception {
        DockerTestSupport.buildImage();
        int files = Integer.getInteger("bench.files", 20_000);
        try (GitFixture git = GitFixture.start()) {
            Path work = Files.createTempDirectory("big-repo");
            GitFixture.git(work, "init", "-q", "-b", "feature/x");
            Random random = new Random(19);
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < files; i++) {
                Path f = work.resolve("d" + (i / 500)).resolve("f" + i + ".txt");
                Files.createDirectories(f.getParent());
                line.setLength(0);
                for (int j = 0; j < 6 * 1024 / 2; j++) {
                    line.append(Character.forDigit(random.nextInt(16), 16)).append(j % 64 == 63 ? '\n' : 'x');
                }
                Files.writeString(f, line);
            }
            GitFixture.git(work, "add", "-A");
            GitFixture.git(work, "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-q", "-m", "base");
            String base = GitFixture.git(work, "rev-parse", "HEAD").strip();
            Files.writeString(work.resolve("a.txt"), "change\n");
            GitFixture.git(work, "add", "-A");
            GitFixture.git(work, "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-q", "-m", "head");
            String head = GitFixture.git(work, "rev-parse", "HEAD").strip();
            GitFixture.git(git.root(), "clone", "-q", "--bare", work.toString(), "big.git");
            Workspaces.deleteTree(work);

            String runner = DockerTestSupport.runnerName("gap");
            try (DockerTaskExecutor executor = new DockerTaskExecutor(DockerTestSupport.config(runner, "host", 0))) {
                executor.start();
                for (int run = 1; run <= 3; run++) {
                    ReviewTask task = DockerTestSupport.task(null, git.url("big.git"), "feature/x", head, base, null);
                    AtomicLong submitting = new AtomicLong();
                    AtomicLong reported = new AtomicLong();
                    AtomicLong workspaceBytes = new AtomicLong();
                    RecordingContext ctx = new RecordingContext(Duration.ofMinutes(10));
                    ctx.onReport = r -> {
                        reported.set(System.nanoTime());
                        workspaceBytes.set(du(new Workspaces(DockerTestSupport.WORKSPACE_BASE, runner).workspaceOf(task.id())));
                    };
                    ReviewTaskTimer timer = new ReviewTaskTimer(ctx, submitting);
                    TaskResult result = executor.execute(task, timer);
                    long returned = System.nanoTime();
                    assertEquals(ResultStatus.COMPLETED, result.status(), () -> result + "\n" + ctx.lines());
                    long gapMs = (reported.get() - submitting.get()) / 1_000_000;
                    long cleanupMs = (returned - reported.get()) / 1_000_000;
                    System.out.printf("RESULT-GAP run %d: workspace %d MB (%d files), review end -> result handed over %d ms,"
                            + " clean-up after it %d ms%n", run, workspaceBytes.get() >> 20, files, gapMs, cleanupMs);
                    assertTrue(workspaceBytes.get() > 50L << 20, "a large workspace: " + workspaceBytes.get());
                    assertTrue(gapMs <= 1000, "review end -> result " + gapMs + " ms");
                }
            }
        }
    }

    private static long du(Path dir) {
        try (var s = Files.walk(dir)) {
            return s.filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (java.io.IOException e) {
                    return 0;
                }
            }).sum();
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            return -1;
        }
    }

    /** Notes when the executor enters {@code submitting} (the review container has exited). */
    private static final class ReviewTaskTimer implements dev.aireview.runner.execution.TaskContext {
        private final RecordingContext ctx;
        private final AtomicLong submitting;

        ReviewTaskTimer(RecordingContext ctx, AtomicLong submitting) {
            this.ctx = ctx;
            this.submitting = submitting;
        }

        @Override
        public void phase(TaskPhase phase, String message) {
            if (phase == TaskPhase.SUBMITTING) {
                submitting.set(System.nanoTime());
            }
            ctx.phase(phase, message);
        }

        @Override
        public void log(dev.aireview.runner.model.LogStream stream, String line) {
            ctx.log(stream, line);
        }

        @Override
        public dev.aireview.runner.execution.CancelSignal cancel() {
            return ctx.cancel();
        }

        @Override
        public Duration timeout() {
            return ctx.timeout();
        }

        @Override
        public void report(TaskResult result) {
            ctx.report(result);
        }
    }
}

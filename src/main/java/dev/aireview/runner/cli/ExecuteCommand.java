package dev.aireview.runner.cli;

import dev.aireview.runner.review.ReviewEngine;
import dev.aireview.runner.review.ReviewExecution;
import dev.aireview.runner.review.SelfTest;
import dev.aireview.runner.review.WarmUp;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * {@code execute}: the review engine inside the executor container (docs/executor-contract.md). Waits for the
 * task file, reviews the change, writes the result file; exit 0 when a result was written.
 */
@Command(name = ExecuteCommand.NAME, mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = {"Review one task through the executor file contract: wait for the task file, review the change "
                + "(offline rules, or an OpenAI-compatible model when the task has 'ai'), write the result file.",
                "Exit codes: 0 result written (also for a failed review); 3 result could not be written; "
                        + "4 no task file within --wait-timeout; 2 bad arguments."})
public final class ExecuteCommand implements Callable<Integer> {

    /** The subcommand's name: the executor image's entrypoint runs {@code ai-review-runner execute}. */
    static final String NAME = "execute";
    static final String TASK_ENV = "AI_REVIEW_TASK_FILE";
    static final String TASK_DEFAULT = "/workspace/task.json";
    static final String REPO_ENV = "AI_REVIEW_REPO_DIR";
    static final String REPO_DEFAULT = "/workspace/repo";
    static final String OUT_ENV = "AI_REVIEW_RESULT_FILE";
    static final String OUT_DEFAULT = "/workspace/result.json";
    static final String WARM_UP_ENV = "AI_REVIEW_WARM_UP";
    static final int POLL_MS_DEFAULT = 20;

    @Option(names = "--task", paramLabel = "FILE", defaultValue = "${env:" + TASK_ENV + ":-" + TASK_DEFAULT + "}",
            description = "Task JSON to wait for and read (env AI_REVIEW_TASK_FILE, default ${DEFAULT-VALUE}).")
    Path task;

    @Option(names = "--repo", paramLabel = "DIR", defaultValue = "${env:" + REPO_ENV + ":-" + REPO_DEFAULT + "}",
            description = "Checked-out repository, used when the task has no patches (env AI_REVIEW_REPO_DIR, default ${DEFAULT-VALUE}).")
    Path repo;

    @Option(names = "--out", paramLabel = "FILE", defaultValue = "${env:" + OUT_ENV + ":-" + OUT_DEFAULT + "}",
            description = "Result JSON, written atomically (env AI_REVIEW_RESULT_FILE, default ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--poll-ms", paramLabel = "MS", defaultValue = "" + POLL_MS_DEFAULT,
            description = "How often to look for the task file, 1-50 ms (default ${DEFAULT-VALUE}).")
    int pollMs;

    @Option(names = "--wait-timeout", paramLabel = "SECONDS", defaultValue = "0",
            description = "Give up (exit 4) when no task file appears within this time; 0 waits forever (default).")
    long waitTimeoutSeconds;

    @Option(names = "--self-test", description = "Review a built-in sample change offline and check the findings, then exit.")
    boolean selfTest;

    @Option(names = "--warm-up", negatable = true, defaultValue = "${env:" + WARM_UP_ENV + ":-true}", fallbackValue = "true",
            description = "While waiting for the task file, review built-in sample changes (patch and git paths) silently, "
                    + "so the review path is loaded and compiled when the task arrives (env AI_REVIEW_WARM_UP, default ${DEFAULT-VALUE}).")
    boolean warmUp;

    @Option(names = "--warm-up-only", description = "Run the warm-up rounds once and exit (0 when every sample review "
            + "gave the expected findings); the image build records its class-data-sharing archive with it.")
    boolean warmUpOnly;

    /** Warm-up rounds while waiting: the first loads the classes, the others let the JIT compile the hot paths. */
    static final int WARM_UP_ROUNDS = 3;

    /**
     * The command as picocli makes it from no argument at all (the executor image's entrypoint, {@code execute} alone)
     * in the environment {@code env}, read without picocli; null when {@code env} holds a value only picocli judges (an
     * empty path, a warm-up flag other than true or false): the caller then parses with picocli, which reports it.
     * Building picocli's model of the command (annotations, reflection, its type converters) takes about half a second
     * of a cold review container's start on a busy machine, while its review waits for this JVM.
     */
    static ExecuteCommand fromEnvironment(java.util.Map<String, String> env) {
        String warm = env.getOrDefault(WARM_UP_ENV, "true");
        if (!warm.equalsIgnoreCase("true") && !warm.equalsIgnoreCase("false")) {
            return null;
        }
        Path taskFile = pathOf(env, TASK_ENV, TASK_DEFAULT);
        Path repoDir = pathOf(env, REPO_ENV, REPO_DEFAULT);
        Path outFile = pathOf(env, OUT_ENV, OUT_DEFAULT);
        if (taskFile == null || repoDir == null || outFile == null) {
            return null;
        }
        ExecuteCommand c = new ExecuteCommand();
        c.task = taskFile;
        c.repo = repoDir;
        c.out = outFile;
        c.pollMs = POLL_MS_DEFAULT;
        c.waitTimeoutSeconds = 0;
        c.warmUp = warm.equalsIgnoreCase("true");
        return c;
    }

    private static Path pathOf(java.util.Map<String, String> env, String name, String fallback) {
        String v = env.getOrDefault(name, fallback);
        try {
            return v.isEmpty() ? null : Path.of(v);
        } catch (java.nio.file.InvalidPathException e) {
            return null;
        }
    }

    @Override
    public Integer call() {
        // UTF-8 whatever the container's locale: paths and summaries are not ASCII-only.
        PrintStream stdout = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        PrintStream stderr = new PrintStream(System.err, true, StandardCharsets.UTF_8);
        if (selfTest) {
            return SelfTest.run(stdout, stderr);
        }
        if (warmUpOnly) {
            boolean ok = WarmUp.run(WARM_UP_ROUNDS, () -> false);
            (ok ? stdout : stderr).println("[review] warm-up " + (ok ? "ok" : "failed"));
            return ok ? 0 : 1;
        }
        if (pollMs < 1 || pollMs > 50) {
            stderr.println("--poll-ms must be between 1 and 50, got " + pollMs);
            return 2;
        }
        if (warmUp && !Files.exists(task)) {
            startWarmUp(task);
        }
        ReviewExecution execution = new ReviewExecution(new ReviewEngine(), stdout, stderr,
                Duration.ofMillis(pollMs), Duration.ofSeconds(Math.max(0, waitTimeoutSeconds)));
        return execution.run(new ReviewExecution.ContractPaths(task, repo, out));
    }

    /**
     * A pre-warmed container: warms the review path on a daemon thread while the main thread waits for the task
     * file. The warm-up stops at its next step once the file is there; its output is discarded, so none of it reaches
     * the task's logs.
     */
    private static void startWarmUp(Path taskFile) {
        Thread t = new Thread(() -> WarmUp.run(WARM_UP_ROUNDS, () -> Files.exists(taskFile)), "warm-up");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        t.start();
    }
}

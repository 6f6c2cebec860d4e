package dev.aireview.runner.cli;

import dev.aireview.runner.review.ReviewEngine;
import dev.aireview.runner.review.ReviewExecution;
import dev.aireview.runner.review.SelfTest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * {@code execute}: the review engine inside the executor container (docs/executor-contract.md). Waits for the
 * task file, reviews the change, writes the result file; exit 0 when a result was written.
 */
@Command(name = "execute", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = {"Review one task through the executor file contract: wait for the task file, review the change "
                + "(offline rules, or an OpenAI-compatible model when the task has 'ai'), write the result file.",
                "Exit codes: 0 result written (also for a failed review); 3 result could not be written; "
                        + "4 no task file within --wait-timeout; 2 bad arguments."})
public final class ExecuteCommand implements Callable<Integer> {

    @Option(names = "--task", paramLabel = "FILE", defaultValue = "${env:AI_REVIEW_TASK_FILE:-/workspace/task.json}",
            description = "Task JSON to wait for and read (env AI_REVIEW_TASK_FILE, default ${DEFAULT-VALUE}).")
    Path task;

    @Option(names = "--repo", paramLabel = "DIR", defaultValue = "${env:AI_REVIEW_REPO_DIR:-/workspace/repo}",
            description = "Checked-out repository, used when the task has no patches (env AI_REVIEW_REPO_DIR, default ${DEFAULT-VALUE}).")
    Path repo;

    @Option(names = "--out", paramLabel = "FILE", defaultValue = "${env:AI_REVIEW_RESULT_FILE:-/workspace/result.json}",
            description = "Result JSON, written atomically (env AI_REVIEW_RESULT_FILE, default ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = "--poll-ms", paramLabel = "MS", defaultValue = "20",
            description = "How often to look for the task file, 1-50 ms (default ${DEFAULT-VALUE}).")
    int pollMs;

    @Option(names = "--wait-timeout", paramLabel = "SECONDS", defaultValue = "0",
            description = "Give up (exit 4) when no task file appears within this time; 0 waits forever (default).")
    long waitTimeoutSeconds;

    @Option(names = "--self-test", description = "Review a built-in sample change offline and check the findings, then exit.")
    boolean selfTest;

    @Override
    public Integer call() {
        // UTF-8 whatever the container's locale: paths and summaries are not ASCII-only.
        PrintStream stdout = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        PrintStream stderr = new PrintStream(System.err, true, StandardCharsets.UTF_8);
        if (selfTest) {
            return SelfTest.run(stdout, stderr);
        }
        if (pollMs < 1 || pollMs > 50) {
            stderr.println("--poll-ms must be between 1 and 50, got " + pollMs);
            return 2;
        }
        ReviewExecution execution = new ReviewExecution(new ReviewEngine(), stdout, stderr,
                Duration.ofMillis(pollMs), Duration.ofSeconds(Math.max(0, waitTimeoutSeconds)));
        return execution.run(new ReviewExecution.ContractPaths(task, repo, out));
    }
}

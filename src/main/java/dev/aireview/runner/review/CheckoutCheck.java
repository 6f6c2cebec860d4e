package dev.aireview.runner.review;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Checks, from inside the review container, that the checkout the runner made is what this container sees: the
 * head commit resolves and every tracked file of it is present in the worktree, except those the checkout left out on
 * purpose: a changed-files checkout (docs/executor-contract.md) marks head's unchanged files skip-worktree, and
 * {@code git ls-files --deleted} does not count those; a changed file missing from it still fails. (Whether the task's own head is in
 * the repository is the review's question, answered in its result.)
 * A container that sees the repository only in part (a sandboxing runtime such as gVisor caching a bind mount that
 * was written from outside after it started) must not review it: its findings would be judged on files it never saw.
 * The runner ends such a task with an infrastructure failure the server may retry, never with a judged result.
 */
public final class CheckoutCheck {
    private CheckoutCheck() {
    }

    /** Why the checkout at {@code repoDir} is not the task's as seen from here; null when it is (or there is none). */
    public static String problem(Path repoDir) {
        if (repoDir == null || !Files.isDirectory(repoDir)) {
            return null; // no checkout: the engine reviews the task's own files
        }
        try (GitRepo git = new GitRepo(repoDir)) {
            GitRepo.Output head = git.run("rev-parse", "--verify", "--quiet", "HEAD^{commit}");
            if (!head.ok() || head.stdout().isBlank()) {
                return "the checkout at " + repoDir + " has no readable head commit (" + head.reason() + ")";
            }
            String sha = head.stdout().strip();
            GitRepo.Output deleted = git.run("ls-files", "--deleted", "-z");
            if (!deleted.ok()) {
                return "the checkout at " + repoDir + " cannot be compared with its index (" + deleted.reason() + ")";
            }
            String[] missing = deleted.stdout().isEmpty() ? new String[0] : deleted.stdout().split("\0");
            if (missing.length > 0) {
                return missing.length + " tracked file(s) of " + sha + " are not visible in " + repoDir + ", e.g. "
                        + missing[0];
            }
            return null;
        } catch (IOException e) {
            return "the checkout at " + repoDir + " cannot be read: " + e.getMessage();
        }
    }
}

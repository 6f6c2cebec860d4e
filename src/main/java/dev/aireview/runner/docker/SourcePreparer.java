package dev.aireview.runner.docker;

import dev.aireview.runner.execution.CancelSignal;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.source.RepoCache;

import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;

/**
 * Step 1 of every task, trusted: the task's repository is fetched with the task's own credentials by the runner's git
 * (on its host, or in a helper container of RUNNER_GIT_IMAGE on DOCKER_CLONE_NETWORK_MODE: {@link RepoCache}) into the
 * runner's repository cache, which proves the task's access before any cached object is handed out. This is the only
 * place a clone token is used: no container of the executor image ever gets it (docs/repository-cache.md). What the
 * review reads afterwards is a token-free checkout from the entry, read-only.
 *
 * <p>The fetch runs before any review container exists, so a task whose repository cannot be fetched costs none.
 */
final class SourcePreparer {
    private final RepoCache cache;
    private final int depth;

    SourcePreparer(RepoCache cache, int depth) {
        this.cache = cache;
        this.depth = depth;
    }

    /** Why the task's repository is not fetched at all (bad URL, branch or SHA; a file:// URL), or null. */
    String refusal(ReviewTask task) {
        List<String> problems = GitClone.validate(task, depth);
        if (!problems.isEmpty()) {
            return "refusing to clone: " + String.join("; ", problems);
        }
        if (!cache.accepts(task)) {
            return "refusing to clone: the runner fetches http(s), git:// and ssh repositories only (a file:// URL would name "
                    + "the runner's own file system)";
        }
        return null;
    }

    /**
     * The task's source (a task {@link #refusal} accepted), leased from the cache (close the lease once no container
     * reads it), or why it failed.
     */
    RepoCache.Prepared prepare(ReviewTask task, Instant deadline, CancelSignal cancel, Consumer<String> log) {
        String refused = refusal(task);
        if (refused != null) {
            return RepoCache.Prepared.failed(ErrorKind.CLONE_FAILED, refused);
        }
        return cache.prepare(task, depth, deadline, cancel, log);
    }

    /** The cache (its size is counted by the free-disk guard's callers, its directory known to the reaper). */
    RepoCache cache() {
        return cache;
    }
}

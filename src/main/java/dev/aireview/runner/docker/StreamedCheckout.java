package dev.aireview.runner.docker;

import dev.aireview.runner.execution.CancelSignal;
import dev.aireview.runner.model.LogStream;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.observability.SecretMasker;
import dev.aireview.runner.source.CachedCheckout;
import dev.aireview.runner.source.PackStream;
import dev.aireview.runner.source.RepoCache;

import java.io.FilterInputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * The checkout of a pre-warmed task without a container of its own. The pooled container was started before its task
 * and must never see the cache, so the runner's git (trusted) reads the task's commits from the cache entry — what a
 * self-contained copy holds: head, the branch tip and the base at RUNNER_CLONE_DEPTH with the shallow boundary
 * ({@link PackStream}) — and the stream goes to the standard input of the checkout process waiting in the pooled
 * container since its start ({@link StandbyCheckout}; by a {@code docker exec} started now when it no longer runs), where
 * the executor image's git (untrusted: no token, no network, nothing of the cache) indexes it in its own workspace and
 * checks the commit out ({@link CachedCheckout#SCRIPT}, {@code GIT_PACK_STDIN=1}).
 *
 * <p>The runner writes nothing into the pooled container's workspace (the container may have planted links there):
 * it reads the cache and writes a stream. Bounds: the task's deadline and cancel end the exec (the container is
 * killed or stopped) and {@link #run} always ends the git process; a stream that fails (git's error) kills the
 * container, so its git does not wait for the rest, and the task fails {@code clone_failed} naming git's error.
 */
final class StreamedCheckout {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(StreamedCheckout.class);
    /**
     * How it went: the exec's outcome (null when it did not run: the endpoint cannot exec, or the runner's side failed),
     * and the task's failure when the runner's side failed (the stream could not be read from the cache: the entry is
     * marked broken, the next task rebuilds it).
     */
    record Result(ContainerRunner.Outcome outcome, TaskResult failure) {
    }

    private final CheckoutExec exec;
    private final ContainerRunner runner;
    private final int depth;

    /** @param depth RUNNER_CLONE_DEPTH: how much history the stream carries (0: all the entry holds) */
    StreamedCheckout(CheckoutExec exec, ContainerRunner runner, int depth) {
        this.exec = exec;
        this.runner = runner;
        this.depth = depth;
    }

    /**
     * Checks the lease's commit out into {@code containerId}'s {@code /workspace/repo}: by the container's waiting
     * checkout process ({@code standby}, when it still waits and the settings can go as lines), else by an exec started
     * now. Null when the cache's git cannot hand out a stream (it runs in a helper container): the caller then uses a
     * checkout container.
     */
    Result run(String containerId, StandbyCheckout standby, ReviewTask task, RepoCache.Lease lease,
               CachedCheckout.Checkout checkout, BiConsumer<LogStream, String> log, Instant deadline, CancelSignal cancel) {
        PackStream pack;
        try {
            pack = lease.selfContainedPack(task.baseSha(), depth, deadline, cancel);
        } catch (IOException e) {
            return new Result(null, failed(task, lease, e.getMessage()));
        }
        if (pack == null) {
            return null;
        }
        try (pack) {
            FilterInputStream input = new FilterInputStream(pack) {
                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    try {
                        return super.read(b, off, len);
                    } catch (IOException e) {
                        // the container's git would wait for the rest until the deadline: end it now
                        runner.kill(containerId);
                        throw e;
                    }
                }
            };
            List<String> env = CachedCheckout.streamedEnv(task, lease, checkout);
            byte[] settings = standby != null && standby.waiting() ? CachedCheckout.settings(env) : null;
            LOG.debug("checkout in pre-warmed container {} by {}", ContainerRunner.shortId(containerId),
                    settings != null ? "its waiting checkout" : "an exec");
            ContainerRunner.Outcome out = settings != null ? standby.run(settings, input, log, deadline, cancel)
                    : exec.run(containerId, "pre-warmed container", env, new LogPump(log), deadline, cancel, input);
            if (out == null) {
                return new Result(null, null);
            }
            String failure = out.end() == ContainerRunner.End.EXITED ? pack.failure() : null;
            return new Result(out, failure == null ? null : failed(task, lease, failure));
        }
    }

    private static TaskResult failed(ReviewTask task, RepoCache.Lease lease, String why) {
        lease.broken();
        return TaskResult.failure(ErrorKind.CLONE_FAILED, "clone failed: the runner could not read the commits from its "
                + "repository cache: " + SecretMasker.of(task.secrets()).mask(why));
    }
}

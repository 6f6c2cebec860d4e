package dev.aireview.runner.source;

import dev.aireview.runner.model.RepositoryUrl;
import dev.aireview.runner.model.ReviewTask;

import java.util.ArrayList;
import java.util.List;

/**
 * The checkout a review container makes from its task's read-only cache entry, mounted at {@link #MOUNT}: a new
 * repository in {@code /workspace/repo} that borrows the entry's objects ({@code objects/info/alternates}, nothing
 * copied) and checks out the commit the runner resolved. No network, no token: every value is in the environment,
 * none is a secret (the remote is the URL without user-info).
 */
public final class CachedCheckout {
    /** Where the cache entry is mounted (read-only) in the review container. */
    public static final String MOUNT = "/cache";

    /**
     * Environment: GIT_SAFE_URL, GIT_BRANCH (may be empty), GIT_BRANCH_SHA (may be empty), GIT_HEAD_SHA (full SHA).
     */
    public static final String SCRIPT = String.join("\n",
            "set -u",
            "export GIT_TERMINAL_PROMPT=0 GIT_CONFIG_NOSYSTEM=1 GIT_ASKPASS=/bin/false SSH_ASKPASS=/bin/false",
            "die() { echo \"clone failed: $*\" >&2; exit 1; }",
            "test -d " + MOUNT + "/objects || die 'the repository cache is not mounted'",
            "mkdir -p /workspace/repo && cd /workspace/repo || die 'cannot create /workspace/repo'",
            "git init -q . || die 'git init failed'",
            "echo " + MOUNT + "/objects > .git/objects/info/alternates || die 'cannot link the cached objects'",
            "if [ -f " + MOUNT + "/shallow ]; then cat " + MOUNT + "/shallow > .git/shallow || die 'cannot copy the shallow list'; fi",
            "git remote add origin \"$GIT_SAFE_URL\" || die 'git remote add failed'",
            "if [ -n \"${GIT_BRANCH:-}\" ] && [ -n \"${GIT_BRANCH_SHA:-}\" ]; then",
            "  git update-ref \"refs/remotes/origin/$GIT_BRANCH\" \"$GIT_BRANCH_SHA\" || die \"cannot record branch $GIT_BRANCH\"",
            "fi",
            "git -c advice.detachedHead=false checkout -q --detach \"$GIT_HEAD_SHA\" || die \"cannot check out $GIT_HEAD_SHA\"",
            "echo \"checked out $(git rev-parse HEAD) from the runner's repository cache\"",
            "");

    private CachedCheckout() {
    }

    /** The script's environment for {@code task} and its lease. */
    public static List<String> env(ReviewTask task, RepoCache.Lease lease) {
        List<String> env = new ArrayList<>();
        env.add("HOME=/tmp");
        env.add("GIT_SAFE_URL=" + RepositoryUrl.withoutUserInfo(task.repository().url()));
        env.add("GIT_BRANCH=" + (task.branch() == null ? "" : task.branch()));
        env.add("GIT_BRANCH_SHA=" + (lease.branchSha() == null ? "" : lease.branchSha()));
        env.add("GIT_HEAD_SHA=" + lease.headSha());
        return env;
    }

    /** The read-only bind of the lease's entry at {@link #MOUNT}, as Docker's {@code Binds} spell it. */
    public static com.github.dockerjava.api.model.Bind bind(RepoCache.Lease lease) {
        return new com.github.dockerjava.api.model.Bind(lease.repo().toAbsolutePath().toString(),
                new com.github.dockerjava.api.model.Volume(MOUNT), com.github.dockerjava.api.model.AccessMode.ro);
    }
}

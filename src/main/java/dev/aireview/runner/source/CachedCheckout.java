package dev.aireview.runner.source;

import dev.aireview.runner.model.RepositoryUrl;
import dev.aireview.runner.model.ReviewTask;

import java.util.ArrayList;
import java.util.List;

/**
 * The checkout made from a task's read-only cache entry, mounted at {@link #MOUNT} (in the review container, or in a
 * checkout container beside a pre-warmed one): a new repository in {@code /workspace/repo} that borrows the entry's
 * objects ({@code objects/info/alternates}, nothing copied) or, self-contained ({@code GIT_SELF_CONTAINED=1}), copies
 * the commits it needs from the entry (a local fetch), or (a container that must not see the entry,
 * {@code GIT_PACK_STDIN=1}) indexes the commits the runner streams to its standard input ({@link PackStream}), and
 * checks out the commit the runner resolved. No network, no token: every value is in the environment, none is a secret
 * (the remote is the URL without user-info).
 */
public final class CachedCheckout {
    /** Where the cache entry is mounted (read-only) in the review container. */
    public static final String MOUNT = "/cache";

    /** The script's exit code when the image has no {@code git}: the image broke the executor contract, not the repository. */
    public static final int EXIT_NO_GIT = 3;

    /** How many changed files a sparse checkout takes at most; a larger change is checked out in full. */
    public static final int SPARSE_MAX_FILES = 2000;

    /** What the review container's worktree holds (the executor image's choice: {@link #IMAGE_LABEL}). */
    public enum Checkout {
        /** Every file of head (the executor contract's default). */
        FULL,
        /** Only the files the change touches between the base's merge base and head; the rest of head is in the index only. */
        CHANGED
    }

    /**
     * The executor image label by which an image declares that its review reads the repository through git objects and
     * needs only the changed files in its worktree: {@code LABEL ai-review.checkout=changed} (docs/executor-contract.md).
     */
    public static final String IMAGE_LABEL = "ai-review.checkout";
    public static final String IMAGE_LABEL_CHANGED = "changed";

    /** The checkout an image's labels ask for: {@link Checkout#CHANGED} only for {@code ai-review.checkout=changed}. */
    public static Checkout checkoutOf(java.util.Map<String, String> imageLabels) {
        String v = imageLabels == null ? null : imageLabels.get(IMAGE_LABEL);
        return v != null && IMAGE_LABEL_CHANGED.equals(v.strip()) ? Checkout.CHANGED : Checkout.FULL;
    }

    /**
     * Environment: GIT_SAFE_URL, GIT_BRANCH (may be empty), GIT_BRANCH_SHA (may be empty), GIT_HEAD_SHA (full SHA),
     * GIT_CHECKOUT ({@code full} or {@code changed}), GIT_BASE_SHA (may be empty), GIT_SPARSE_MAX, GIT_CACHE_DIR (the
     * mount) and GIT_WORK_DIR (the checkout).
     *
     * <p>{@code changed}: head's whole tree goes into the index ({@code read-tree}), every entry is marked
     * skip-worktree, then the paths {@code git diff --name-only -z --no-renames --diff-filter=d} names between the merge
     * base of GIT_BASE_SHA and head (the base itself when a shallow entry has no merge base: the review engine's own
     * choice) are unmarked and written ({@code checkout-index}). The paths go from git to git NUL-separated through a
     * file, never through a shell word: names with spaces, newlines, leading dashes or bytes that are not UTF-8 are
     * checked out as they are. No base, a base not in the entry, or more than GIT_SPARSE_MAX changed paths: a full
     * checkout.
     */
    public static final String SCRIPT = String.join("\n",
            "set -u",
            // a waiting checkout (GIT_ENV_STDIN=1) reads its settings first: NAME=value lines, then an empty line; input
            // that ends before them is a container no task took (exit 0)
            "if [ \"${GIT_ENV_STDIN:-0}\" = 1 ]; then",
            "  got=",
            "  while :; do",
            "    if ! IFS= read -r kv; then [ -z \"$got\" ] && exit 0; echo 'clone failed: the settings ended early' >&2; exit 1; fi",
            "    [ -z \"$kv\" ] && break; got=1",
            "    case \"$kv\" in GIT_*=*|HOME=*) export \"$kv\" || exit 1;; *) echo 'clone failed: unexpected setting' >&2; exit 1;; esac",
            "  done",
            "fi",
            "export GIT_TERMINAL_PROMPT=0 GIT_CONFIG_NOSYSTEM=1 GIT_ASKPASS=/bin/false SSH_ASKPASS=/bin/false",
            "die() { echo \"clone failed: $*\" >&2; exit 1; }",
            "command -v git >/dev/null 2>&1 || { echo 'clone failed: the executor image has no git' >&2; exit " + EXIT_NO_GIT + "; }",
            "cache=${GIT_CACHE_DIR:-" + MOUNT + "}",
            "work=${GIT_WORK_DIR:-/workspace/repo}",
            "if [ \"${GIT_PACK_STDIN:-0}\" != 1 ]; then test -d \"$cache/objects\" || die 'the repository cache is not mounted'; fi",
            "mkdir -p \"$work\" && cd \"$work\" || die \"cannot create $work\"",
            "git init -q . || die 'git init failed'",
            "if [ \"${GIT_PACK_STDIN:-0}\" = 1 ]; then",
            "  while IFS= read -r s; do [ -z \"$s\" ] && break; printf '%s\\n' \"$s\" >> .git/shallow || die 'cannot write the shallow list'; done",
            "  git index-pack --stdin >/dev/null || die 'cannot store the commits the runner sent'",
            "elif [ \"${GIT_SELF_CONTAINED:-0}\" = 1 ]; then",
            "  git config --file /tmp/ai-review-safe-directory safe.directory \"$cache\" || die 'cannot write /tmp/ai-review-safe-directory'",
            "  f() { GIT_CONFIG_GLOBAL=/tmp/ai-review-safe-directory git -c protocol.file.allow=always -c uploadpack.allowAnySHA1InWant=true fetch -q --no-tags \"$@\"; }",
            "  if [ \"${GIT_DEPTH:-0}\" -gt 0 ]; then d=\"--depth=$GIT_DEPTH\"; else d=--update-shallow; fi",
            "  wants=$GIT_HEAD_SHA",
            "  if [ -n \"${GIT_BRANCH_SHA:-}\" ] && [ \"$GIT_BRANCH_SHA\" != \"$GIT_HEAD_SHA\" ]; then wants=\"$wants $GIT_BRANCH_SHA\"; fi",
            "  f $d \"file://$cache\" $wants || die 'cannot copy the commit from the repository cache'",
            "  if [ -n \"${GIT_BASE_SHA:-}\" ]; then f $d \"file://$cache\" \"$GIT_BASE_SHA\" 2>/dev/null || echo \"base $GIT_BASE_SHA is not in the cache\"; fi",
            "else",
            "  echo \"$cache/objects\" > .git/objects/info/alternates || die 'cannot link the cached objects'",
            "  if [ -f \"$cache/shallow\" ]; then cat \"$cache/shallow\" > .git/shallow || die 'cannot copy the shallow list'; fi",
            "fi",
            "git remote add origin \"$GIT_SAFE_URL\" || die 'git remote add failed'",
            "if [ -n \"${GIT_BRANCH:-}\" ] && [ -n \"${GIT_BRANCH_SHA:-}\" ]; then",
            "  git update-ref \"refs/remotes/origin/$GIT_BRANCH\" \"$GIT_BRANCH_SHA\" || die \"cannot record branch $GIT_BRANCH\"",
            "fi",
            "base=",
            "if [ \"${GIT_CHECKOUT:-full}\" = changed ]; then",
            "  if [ -z \"${GIT_BASE_SHA:-}\" ]; then",
            "    echo 'changed-files checkout: the task has no base commit; checking out every file'",
            // merge-base first: it answers for a base that is there (one process); only when it cannot is the base looked for
            "  elif ! base=$(git merge-base \"$GIT_BASE_SHA\" \"$GIT_HEAD_SHA\" 2>/dev/null) && ! { git rev-parse -q --verify"
                    + " \"$GIT_BASE_SHA^{commit}\" >/dev/null && base=$GIT_BASE_SHA; }; then",
            "    base=",
            "    echo \"changed-files checkout: base $GIT_BASE_SHA is not in the cache; checking out every file\"",
            "  else",
            "    git diff --name-only -z --no-renames --diff-filter=d \"$base\" \"$GIT_HEAD_SHA\" -- > .git/ai-review-changed || die 'cannot list the changed files'",
            "    n=$(tr -cd '\\000' < .git/ai-review-changed | wc -c)",
            "    if [ \"$n\" -gt \"${GIT_SPARSE_MAX:-" + SPARSE_MAX_FILES + "}\" ]; then",
            "      echo \"changed-files checkout: $n files changed, more than ${GIT_SPARSE_MAX:-" + SPARSE_MAX_FILES + "}; checking out every file\"",
            "      base=",
            "    fi",
            "  fi",
            "fi",
            "if [ -n \"$base\" ]; then",
            "  git update-ref --no-deref HEAD \"$GIT_HEAD_SHA\" || die \"cannot check out $GIT_HEAD_SHA\"",
            "  git read-tree \"$GIT_HEAD_SHA\" || die \"cannot read the tree of $GIT_HEAD_SHA\"",
            "  git ls-files -z > .git/ai-review-all || die 'cannot list the files of head'",
            "  git update-index -z --skip-worktree --stdin < .git/ai-review-all || die 'cannot mark the unchanged files'",
            "  git update-index -z --no-skip-worktree --stdin < .git/ai-review-changed || die 'cannot unmark the changed files'",
            "  git checkout-index -z --stdin < .git/ai-review-changed || die 'cannot check out the changed files'",
            "  rm -f .git/ai-review-all .git/ai-review-changed",
            "  echo \"checked out $n changed file(s) of $GIT_HEAD_SHA from the runner's repository cache"
                    + " (changed files only: the other files of head are in the index, marked skip-worktree)\"",
            "else",
            "  rm -f .git/ai-review-changed",
            "  git -c advice.detachedHead=false checkout -q --detach \"$GIT_HEAD_SHA\" || die \"cannot check out $GIT_HEAD_SHA\"",
            "  echo \"checked out $GIT_HEAD_SHA from the runner's repository cache\"",
            "fi",
            "");

    /**
     * The file in the workspace where {@link #WRAPPER} puts the checkout's exit code (one short write: empty until then).
     */
    public static final String STATUS_FILE = ".ai-review-checkout";

    /**
     * A cold review container's command around the image's own ({@link #wrapped}): the checkout ({@link #SCRIPT}, its
     * settings on its stdin) starts in the background as the container starts, and the image's entrypoint is
     * {@code exec}uted at once beside it, so the checkout overlaps the entrypoint's start and needs no
     * {@code docker exec}; the checkout's exit code goes to {@link #STATUS_FILE}. Arguments: the script, the settings
     * ({@link #settings}), then the image's entrypoint and command.
     */
    public static final String WRAPPER = String.join("\n",
            "s=$1; v=$2; shift 2",
            "( printf '%s' \"$v\" | GIT_ENV_STDIN=1 sh -c \"$s\"; printf '%s\\n' \"$?\" > /workspace/" + STATUS_FILE + " ) </dev/null &",
            "exec \"$@\"",
            "");

    /**
     * The entrypoint of a cold review container that checks out by itself ({@link #WRAPPER}) before running
     * {@code imageCommand} (the image's entrypoint and command), with {@code settings} ({@link #settings}).
     */
    public static List<String> wrapped(byte[] settings, List<String> imageCommand) {
        List<String> cmd = new ArrayList<>(List.of("sh", "-c", WRAPPER, "sh", SCRIPT,
                new String(settings, java.nio.charset.StandardCharsets.UTF_8)));
        cmd.addAll(imageCommand);
        return cmd;
    }

    private CachedCheckout() {
    }

    /** The script's environment for {@code task} and its lease: a full checkout. */
    public static List<String> env(ReviewTask task, RepoCache.Lease lease) {
        return env(task, lease.headSha(), lease.branchSha(), Checkout.FULL);
    }

    /** The script's environment for {@code task} and its lease, the checkout {@code checkout}. */
    public static List<String> env(ReviewTask task, RepoCache.Lease lease, Checkout checkout) {
        return env(task, lease.headSha(), lease.branchSha(), checkout);
    }

    /** The script's environment for {@code task} at {@code headSha} (and the branch tip {@code branchSha}, may be null). */
    public static List<String> env(ReviewTask task, String headSha, String branchSha, Checkout checkout) {
        return env(task, headSha, branchSha, checkout, 0);
    }

    /**
     * The script's environment for a self-contained checkout ({@code GIT_SELF_CONTAINED=1}: the objects are copied
     * from the entry at {@code depth}, 0 = all it holds, instead of borrowed): for a container that cannot mount the
     * entry (a pre-warmed one, whose mounts were fixed at its start).
     */
    public static List<String> selfContainedEnv(ReviewTask task, RepoCache.Lease lease, Checkout checkout, int depth) {
        List<String> env = env(task, lease.headSha(), lease.branchSha(), checkout, depth);
        env.add("GIT_SELF_CONTAINED=1");
        return env;
    }

    /**
     * The script's environment for a checkout from a stream on its standard input ({@code GIT_PACK_STDIN=1}: the
     * shallow commits, one a line, an empty line, then the pack: {@link PackStream}): for a container that must not see
     * the cache (a pre-warmed one), where the runner's git reads the entry and the container's git only indexes what it
     * is sent.
     */
    public static List<String> streamedEnv(ReviewTask task, RepoCache.Lease lease, Checkout checkout) {
        List<String> env = env(task, lease.headSha(), lease.branchSha(), checkout, 0);
        env.add("GIT_PACK_STDIN=1");
        return env;
    }

    /**
     * The environment of a checkout started before its task ({@code GIT_ENV_STDIN=1}, a pre-warmed container's waiting
     * checkout): nothing of a task. The task's environment then comes first on its standard input ({@link #settings}),
     * before the stream of {@link #streamedEnv}.
     */
    public static List<String> waitingEnv() {
        return List.of("HOME=/tmp", "GIT_PACK_STDIN=1", "GIT_ENV_STDIN=1");
    }

    /**
     * {@code env} as a waiting checkout reads it from its standard input: a {@code NAME=value} a line, then an empty
     * line. Null when an entry cannot go as a line (a line break or NUL in it, or no {@code NAME=}).
     */
    public static byte[] settings(List<String> env) {
        StringBuilder b = new StringBuilder();
        for (String e : env) {
            if (e.indexOf('=') <= 0 || e.indexOf('\n') >= 0 || e.indexOf('\r') >= 0 || e.indexOf('\0') >= 0) {
                return null;
            }
            b.append(e).append('\n');
        }
        return b.append('\n').toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    private static List<String> env(ReviewTask task, String headSha, String branchSha, Checkout checkout, int depth) {
        List<String> env = new ArrayList<>();
        env.add("GIT_DEPTH=" + Math.max(0, depth));
        env.add("HOME=/tmp");
        env.add("GIT_SAFE_URL=" + RepositoryUrl.withoutUserInfo(task.repository().url()));
        env.add("GIT_BRANCH=" + (task.branch() == null ? "" : task.branch()));
        env.add("GIT_BRANCH_SHA=" + (branchSha == null ? "" : branchSha));
        env.add("GIT_HEAD_SHA=" + headSha);
        env.add("GIT_CHECKOUT=" + (checkout == Checkout.CHANGED ? "changed" : "full"));
        env.add("GIT_BASE_SHA=" + (task.baseSha() == null ? "" : task.baseSha()));
        env.add("GIT_SPARSE_MAX=" + SPARSE_MAX_FILES);
        env.add("GIT_CACHE_DIR=" + MOUNT);
        env.add("GIT_WORK_DIR=/workspace/repo");
        return env;
    }

    /** The read-only bind of the lease's entry at {@link #MOUNT}, as Docker's {@code Binds} spell it. */
    public static com.github.dockerjava.api.model.Bind bind(RepoCache.Lease lease) {
        return new com.github.dockerjava.api.model.Bind(lease.repo().toAbsolutePath().toString(),
                new com.github.dockerjava.api.model.Volume(MOUNT), com.github.dockerjava.api.model.AccessMode.ro);
    }
}

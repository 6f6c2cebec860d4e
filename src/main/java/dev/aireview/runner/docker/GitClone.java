package dev.aireview.runner.docker;

import dev.aireview.runner.model.RepositoryUrl;
import dev.aireview.runner.model.ReviewTask;

import java.nio.charset.StandardCharsets;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The clone step's inputs: validation of the task's URL, branch and SHAs, the scoped credential helper (used by the
 * Docker executor's trusted fetch, dev.aireview.runner.source.RepoCache), and the fixed shell script the Kubernetes
 * executor's clone init container runs. The Docker executor runs no clone in the executor image (issue 19). Values
 * reach git only through the environment and stdin (never interpolated into the script, never in argv).
 *
 * <p>Secrets (the clone token, and the URL when it carries credentials) travel on the clone process's stdin
 * ({@link #stdin}), so they are in no argv, in no container configuration ({@code docker inspect} shows neither)
 * and in no file. The token lives in the script's process environment for the clone only and is given to git
 * by a credential helper that answers only for the task repository's own protocol and host (with port), as git
 * passes them; for any other host it answers nothing. While credentials are in use git follows no redirect
 * ({@code http.followRedirects=false}): under git's default ({@code initial}) a redirected first request moves
 * the whole clone to the other host, credentials included. The URL as given is the remote only through
 * git's environment configuration ({@code GIT_CONFIG_KEY_0}); {@code .git/config} gets the URL without user-info.
 */
public final class GitClone {
    static final Set<String> SCHEMES = Set.of("https", "http", "ssh", "git", "file", "git+ssh", "ssh+git");
    private static final Pattern SCHEME = Pattern.compile("^([A-Za-z][A-Za-z0-9+.-]*)://.+");
    private static final Pattern SCP_LIKE = Pattern.compile("^[A-Za-z0-9._-]+@[A-Za-z0-9._-]+:[^-/][^:]*$");
    private static final Pattern BRANCH = Pattern.compile("^[A-Za-z0-9._@+#/-]+$");
    private static final Pattern SHA = Pattern.compile("^[0-9a-fA-F]{7,64}$");

    /**
     * The credential helper (a git config value, so no single quotes): answers {@code get} with the token only
     * when git asks for exactly GIT_CRED_PROTOCOL and GIT_CRED_HOST.
     */
    public static final String CREDENTIAL_HELPER = "!f() { test \"$1\" = get || exit 0; test -n \"${GIT_TOKEN:-}\" || exit 0; "
            + "p=; h=; while IFS= read -r l; do case \"$l\" in protocol=*) p=\"${l#protocol=}\";; host=*) h=\"${l#host=}\";; esac; done; "
            + "test \"$p\" = \"$GIT_CRED_PROTOCOL\" && test \"$h\" = \"$GIT_CRED_HOST\" || exit 0; "
            + "echo username=x-access-token; echo \"password=$GIT_TOKEN\"; }; f";

    /**
     * The clone script. Stdin: line 1 the token (may be empty), line 2 the URL. Environment: GIT_SAFE_URL (the URL
     * without user-info), GIT_BRANCH, GIT_HEAD_SHA, GIT_BASE_SHA (each may be empty), GIT_DEPTH (0 = full
     * history), GIT_CRED_PROTOCOL and GIT_CRED_HOST (where the token may go), GIT_FOLLOW_REDIRECTS. Leaves the
     * checkout in /workspace/repo.
     */
    public static final String SCRIPT = String.join("\n",
            "set -u",
            "IFS= read -r GIT_TOKEN || GIT_TOKEN=''",
            "IFS= read -r GIT_URL || GIT_URL=''",
            "export GIT_TOKEN",
            "export GIT_TERMINAL_PROMPT=0 GIT_CONFIG_NOSYSTEM=1 GIT_ASKPASS=/bin/false SSH_ASKPASS=/bin/false",
            "die() { echo \"clone failed: $*\" >&2; exit 1; }",
            "test -n \"$GIT_URL\" || die 'no repository URL on stdin'",
            "g() { git -c protocol.ext.allow=never -c \"http.followRedirects=${GIT_FOLLOW_REDIRECTS:-false}\" -c credential.helper= "
                    + "-c 'credential.helper=" + CREDENTIAL_HELPER + "' \"$@\"; }",
            "DEPTH_ARG=''",
            "if [ \"${GIT_DEPTH:-0}\" -gt 0 ]; then DEPTH_ARG=\"--depth=$GIT_DEPTH\"; fi",
            "explain() {",
            "  if grep -q 'returned error: 30[1278]' /tmp/fetch.err; then",
            "    echo 'the git server answered with a redirect, which is not followed while credentials are in use (they could reach another host); use the repository URL the redirect points to' >&2",
            "  fi",
            "}",
            "fetch() {",
            "  if g fetch -q --no-tags $DEPTH_ARG origin \"$@\" 2>/tmp/fetch.err; then return 0; fi",
            "  if [ -n \"$DEPTH_ARG\" ] && grep -qi 'shallow' /tmp/fetch.err; then",
            "    echo 'the server does not support shallow fetches; fetching without --depth' >&2",
            "    DEPTH_ARG=''",
            "    if g fetch -q --no-tags origin \"$@\" 2>/tmp/fetch.err; then return 0; fi",
            "  fi",
            "  cat /tmp/fetch.err >&2",
            "  explain",
            "  return 1",
            "}",
            "has() { git cat-file -e \"$1^{commit}\" 2>/dev/null; }",
            "mkdir -p /workspace/repo && cd /workspace/repo || die 'cannot create /workspace/repo'",
            "git init -q . || die 'git init failed'",
            "export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=remote.origin.url GIT_CONFIG_VALUE_0=\"$GIT_URL\"",
            "GIT_URL=''",
            "if [ -n \"${GIT_BRANCH:-}\" ]; then",
            "  echo \"fetching branch $GIT_BRANCH (depth ${GIT_DEPTH:-0})\"",
            "  fetch \"+refs/heads/$GIT_BRANCH:refs/remotes/origin/$GIT_BRANCH\" || die \"cannot fetch branch $GIT_BRANCH\"",
            "  TARGET=\"refs/remotes/origin/$GIT_BRANCH\"",
            "fi",
            "if [ -n \"${GIT_HEAD_SHA:-}\" ]; then",
            "  TARGET=\"$GIT_HEAD_SHA\"",
            "  if ! has \"$GIT_HEAD_SHA\"; then",
            "    echo \"commit $GIT_HEAD_SHA is not in the fetched history; fetching it by SHA\"",
            "    if ! fetch \"$GIT_HEAD_SHA\" || ! has \"$GIT_HEAD_SHA\"; then",
            "      echo 'fetching the commit by SHA failed; fetching the full history' >&2",
            "      if [ -f .git/shallow ]; then UNSHALLOW=--unshallow; else UNSHALLOW=''; fi",
            "      g fetch -q --no-tags $UNSHALLOW origin '+refs/heads/*:refs/remotes/origin/*' || die 'cannot fetch the repository history'",
            "      has \"$GIT_HEAD_SHA\" || die \"commit $GIT_HEAD_SHA not found in the repository\"",
            "    fi",
            "  fi",
            "fi",
            "if [ -n \"${GIT_BASE_SHA:-}\" ] && ! has \"$GIT_BASE_SHA\"; then",
            "  echo \"fetching base commit $GIT_BASE_SHA\"",
            "  fetch \"$GIT_BASE_SHA\" || echo \"warning: base commit $GIT_BASE_SHA could not be fetched\" >&2",
            "fi",
            "unset GIT_CONFIG_COUNT GIT_CONFIG_KEY_0 GIT_CONFIG_VALUE_0 GIT_TOKEN",
            "git remote add origin \"$GIT_SAFE_URL\" || die 'git remote add failed'",
            "git -c advice.detachedHead=false checkout -q --detach \"$TARGET\" || die \"cannot check out $TARGET\"",
            "rm -f /tmp/fetch.err",
            "echo \"checked out $(git rev-parse HEAD)\"",
            "");

    private GitClone() {
    }

    /** Problems with the task's clone inputs, empty when it may be cloned. */
    public static List<String> validate(ReviewTask task, int depth) {
        List<String> problems = new ArrayList<>();
        String url = task.repository() == null ? null : task.repository().url();
        if (url == null || url.isBlank()) {
            problems.add("repository URL is missing");
        } else {
            String why = urlProblem(url);
            if (why != null) {
                problems.add(why);
            }
        }
        String branch = task.branch();
        if (branch != null && !branch.isEmpty()) {
            String why = branchProblem(branch);
            if (why != null) {
                problems.add(why);
            }
        }
        if ((branch == null || branch.isEmpty()) && (task.headSha() == null || task.headSha().isEmpty())) {
            problems.add("neither branch nor headSha is given");
        }
        if (task.headSha() != null && !task.headSha().isEmpty() && !SHA.matcher(task.headSha()).matches()) {
            problems.add("headSha is not a hex commit SHA");
        }
        if (task.baseSha() != null && !task.baseSha().isEmpty() && !SHA.matcher(task.baseSha()).matches()) {
            problems.add("baseSha is not a hex commit SHA");
        }
        if (depth < 0) {
            problems.add("clone depth is negative");
        }
        String token = task.repository() == null ? null : task.repository().cloneToken();
        if (token != null && token.chars().anyMatch(c -> c < ' ' || c == 0x7f)) {
            // the token travels as one line of the clone's stdin, ahead of the URL
            problems.add("clone token contains a line break or control character");
        }
        return problems;
    }

    static String urlProblem(String url) {
        for (int i = 0; i < url.length(); i++) {
            char c = url.charAt(i);
            if (c <= ' ' || c == 0x7f) {
                return "repository URL contains whitespace or control characters";
            }
        }
        if (url.startsWith("-")) {
            return "repository URL starts with '-'";
        }
        if (url.contains("::")) {
            return "repository URL uses a git remote-helper transport ('::')";
        }
        Matcher m = SCHEME.matcher(url);
        if (m.matches()) {
            String scheme = m.group(1).toLowerCase(Locale.ROOT);
            return SCHEMES.contains(scheme) ? null : "repository URL scheme '" + scheme + "' is not allowed (allowed: https, http, ssh, git, file)";
        }
        if (SCP_LIKE.matcher(url).matches()) {
            return null;
        }
        return "repository URL is not a URL with an allowed scheme (https, http, ssh, git, file) or user@host:path";
    }

    static String branchProblem(String branch) {
        if (branch.startsWith("-")) {
            return "branch starts with '-'";
        }
        if (!BRANCH.matcher(branch).matches()) {
            return "branch contains characters outside [A-Za-z0-9._@+#/-]";
        }
        if (branch.startsWith("/") || branch.endsWith("/") || branch.endsWith(".") || branch.endsWith(".lock")
                || branch.contains("..") || branch.contains("//") || branch.contains("@{") || branch.contains("/.")
                || branch.startsWith(".")) {
            return "branch is not a valid git branch name";
        }
        return null;
    }

    /**
     * The clone's environment: every task value that is not a secret. GIT_CRED_PROTOCOL/GIT_CRED_HOST are what git
     * will name when it asks for the token of the task repository ({@code host} with {@code :port} when the URL
     * names one, as git sends it).
     */
    public static List<String> env(ReviewTask task, int depth) {
        String url = task.repository().url();
        RepositoryUrl parsed = RepositoryUrl.parse(url);
        List<String> env = new ArrayList<>();
        env.add("GIT_SAFE_URL=" + safeUrl(url));
        env.add("GIT_BRANCH=" + nullToEmpty(task.branch()));
        env.add("GIT_HEAD_SHA=" + nullToEmpty(task.headSha()));
        env.add("GIT_BASE_SHA=" + nullToEmpty(task.baseSha()));
        env.add("GIT_DEPTH=" + Math.max(0, depth));
        env.add("GIT_CRED_PROTOCOL=" + (parsed == null ? "" : parsed.scheme()));
        env.add("GIT_CRED_HOST=" + (parsed == null || parsed.host() == null ? "" : RepositoryUrl.decode(parsed.credentialHost())));
        env.add("GIT_FOLLOW_REDIRECTS=" + (hasCredentials(task) ? "false" : "initial"));
        return env;
    }

    /** The clone's stdin: the token (or an empty line) and the URL, each on its own line. */
    public static byte[] stdin(ReviewTask task) {
        String token = task.repository().cloneToken();
        return ((token == null ? "" : token) + "\n" + task.repository().url() + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /** True when the clone carries a credential: a clone token or user-info in the URL. */
    static boolean hasCredentials(ReviewTask task) {
        String token = task.repository().cloneToken();
        RepositoryUrl u = RepositoryUrl.parse(task.repository().url());
        return (token != null && !token.isEmpty()) || (u != null && !u.scpLike() && u.userInfo() != null);
    }

    /** The URL without user-info (the form written to .git/config). */
    static String safeUrl(String url) {
        return RepositoryUrl.withoutUserInfo(url);
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }
}

package dev.aireview.runner.source;

import dev.aireview.runner.docker.GitClone;
import dev.aireview.runner.execution.CancelSignal;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.RepositoryUrl;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.observability.SecretMasker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * The runner's repository cache: one bare repository per repository URL (keyed by the URL without credentials) under
 * {@code <DOCKER_WORKSPACE_BASE>/<RUNNER_NAME>/cache}, written only by the runner's own git ({@link GitRunner}: on its
 * host, {@link HostGit}, or in a helper container of a trusted git image), read
 * read-only by the review containers of the tasks that fetched it.
 *
 * <ul>
 *   <li><b>Each task proves its access.</b> {@link #prepare} always asks the repository's server with the task's own
 *       credentials (a fetch of its branch, or a ref listing) before the entry is handed out; a refused task fails and
 *       is never served from the cache. A repeat task whose commits the entry already holds, its branch where the
 *       server still has it, lists that branch instead of fetching it (one round trip, no negotiation).</li>
 *   <li><b>One writer per entry.</b> A lock per entry serialises fetches; several tasks of one repository share it.
 *       Objects are only ever added while an entry is in use (no gc), so a review reading it keeps working.</li>
 *   <li><b>Half-written entries are discarded.</b> The marker {@value #READY} is removed before git writes and made
 *       again after; an entry found without it (a runner killed mid-fetch) is deleted and fetched anew. An entry whose
 *       fetch fails for a reason other than access or network (a corrupt object) is deleted and fetched once more.</li>
 *   <li><b>Bounded.</b> After each fetch, entries not in use are evicted, least recently used first, until the cache
 *       is at most {@code limitBytes} (RUNNER_REPO_CACHE_LIMIT).</li>
 *   <li><b>No credential is written.</b> The remote URL reaches git only through its environment
 *       ({@code GIT_CONFIG_KEY_0}), the token only through the credential helper's environment, scoped to the
 *       repository's own protocol and host ({@link GitClone#CREDENTIAL_HELPER}).</li>
 * </ul>
 */
public final class RepoCache {
    private static final Logger LOG = LoggerFactory.getLogger(RepoCache.class);
    /** Marker of an entry whose last write completed. */
    static final String READY = "ai-review-ready";
    /**
     * The schemes the runner fetches (every one the clone accepts but {@code file}: a file URL would name the runner's
     * own file system, e.g. another task's cache entry). ssh runs without any key, agent or ssh configuration of the
     * runner's ({@link GitRunner#baseEnv}).
     */
    static final Set<String> SCHEMES = Set.of("https", "http", "git", "ssh", "git+ssh", "ssh+git");
    private static final String HOME = ".home";
    /** git's answers that say the task may not read the repository or cannot reach it: the entry is not at fault. */
    private static final Pattern ACCESS_OR_NETWORK = Pattern.compile(
            "(?i)authentication failed|could not read (username|password)|terminal prompts disabled|returned error: 40[0-9]"
                    + "|repository not found|not found|access denied|permission denied|could not resolve|connection refused"
                    + "|connection timed out|unable to access|unable to connect|redirect|couldn't find remote ref|no such remote ref"
                    + "|not our ref|unadvertised object");

    /** git's answer to a redirect it did not follow (http.followRedirects=false). */
    private static final Pattern REDIRECT = Pattern.compile("returned error: 30[1278]");

    /** A task's prepared source, or why it could not be prepared. */
    public record Prepared(Lease lease, ErrorKind failureKind, String failure) {
        public static Prepared failed(ErrorKind kind, String why) {
            return new Prepared(null, kind, why);
        }
    }

    private final Path root;
    private final long limitBytes;
    private final GitRunner git;
    private final Map<String, Entry> entries = new ConcurrentHashMap<>();
    private final Object evictionLock = new Object();

    RepoCache(Path root, long limitBytes, GitRunner git) {
        this.root = root;
        this.limitBytes = limitBytes;
        this.git = git;
    }

    /** Whether the cache's git can stream a task's commits out of an entry ({@link PackStream}): git on the host. */
    public boolean streams() {
        return git.streams();
    }

    /** Where the cache's git runs (RUNNER_REPO_CACHE_GIT). */
    public enum GitPlace {
        /** git on the runner's host when it has one, else the helper container. */
        AUTO,
        /** git on the runner's host only. */
        HOST,
        /** the helper container only (even when the host has git). */
        CONTAINER
    }

    /** As {@link #open(Path, long, GitPlace, java.util.function.Supplier)} with host git only. */
    public static RepoCache open(Path root, long limitBytes) {
        return open(root, limitBytes, GitPlace.HOST, () -> null);
    }

    /**
     * The cache under {@code root} with the cap {@code limitBytes} (0: it keeps nothing between tasks, each entry is
     * deleted when its last lease closes). {@code container} gives the helper-container git, or null (having logged why:
     * no image) when there is none. Throws {@link IllegalStateException} (naming RUNNER_REPO_CACHE_GIT and
     * RUNNER_GIT_IMAGE) when there is no git where {@code place} says git runs: there is no other way to clone.
     */
    public static RepoCache open(Path root, long limitBytes, GitPlace place, java.util.function.Supplier<GitRunner> container) {
        GitRunner git = null;
        boolean hostGit = place != GitPlace.CONTAINER && HostGit.available();
        if (!hostGit && place == GitPlace.HOST) {
            throw new IllegalStateException("RUNNER_REPO_CACHE_GIT=host but there is no git on the runner's host: every "
                    + "clone runs in the runner's trusted git (never in the executor image), so the runner cannot start; install "
                    + "git, or set RUNNER_REPO_CACHE_GIT=auto or container with the image RUNNER_GIT_IMAGE on the engine");
        }
        if (!hostGit) {
            git = container.get();
            if (git == null) {
                throw new IllegalStateException("no trusted git: " + (place == GitPlace.CONTAINER ? "" : "no git on the runner's "
                        + "host and ") + "the image RUNNER_GIT_IMAGE is not on the engine; every clone runs in the runner's "
                        + "trusted git (never in the executor image), so the runner cannot start (build the image: docker build "
                        + "-t ai-review-git docker/git, or install git on the runner's host with RUNNER_REPO_CACHE_GIT=auto)");
            }
        }
        try {
            Files.createDirectories(root.resolve(HOME));
            removeStrays(root);
        } catch (IOException e) {
            throw new UncheckedIOException("the repository cache " + root + " cannot be used", e);
        }
        if (git == null) {
            git = new HostGit(root.resolve(HOME));
        }
        if (limitBytes <= 0) {
            LOG.info("repository cache {} keeps nothing between tasks (RUNNER_REPO_CACHE_LIMIT=0: each entry is deleted when its "
                    + "task ends), fetched with {}", root, git.describe());
        } else {
            LOG.info("repository cache {} (cap {} bytes), fetched with {}", root, limitBytes, git.describe());
        }
        return new RepoCache(root, limitBytes, git);
    }

    /** Deletes entries a killed runner left half-written (without {@link #READY}). */
    private static void removeStrays(Path root) throws IOException {
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root)) {
            for (Path d : dirs) {
                if (!d.getFileName().toString().equals(HOME) && !Files.exists(d.resolve(READY), LinkOption.NOFOLLOW_LINKS)) {
                    LOG.info("repository cache entry {} was left half-written; deleting it", d.getFileName());
                    deleteTree(d);
                }
            }
        }
    }

    /** The cache's directory. */
    public Path root() {
        return root;
    }

    /** True when the task's repository can be fetched (an http(s), git:// or ssh URL with a host; not file://). */
    public boolean accepts(ReviewTask task) {
        RepositoryUrl u = task.repository() == null ? null : RepositoryUrl.parse(task.repository().url());
        return u != null && SCHEMES.contains(u.scheme()) && u.host() != null && !u.host().isEmpty();
    }

    /** The git transport of a scheme ({@code git+ssh} and {@code ssh+git} are ssh). */
    static String protocolOf(String scheme) {
        return scheme.contains("ssh") ? "ssh" : scheme;
    }

    /** The entry directory name of a URL: a hash of scheme, host (lower case), port and path, without credentials or {@code .git}. */
    static String keyOf(String url) {
        RepositoryUrl u = RepositoryUrl.parse(url);
        String path = u.path() == null ? "" : u.path();
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        if (path.endsWith(".git")) {
            path = path.substring(0, path.length() - 4);
        }
        String normal = protocolOf(u.scheme()) + "://" + u.host().toLowerCase(Locale.ROOT) + (u.port() == null ? "" : ":" + u.port()) + path;
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(normal.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Fetches what the task needs into its entry with the task's credentials (validated task, {@link #accepts}) and
     * leases the entry: it is not evicted until the lease is closed. {@code log} gets progress lines (no secret).
     */
    public Prepared prepare(ReviewTask task, int depth, Instant deadline, CancelSignal cancel, Consumer<String> log) {
        String key = keyOf(task.repository().url());
        Entry entry = entries.computeIfAbsent(key, k -> new Entry());
        entry.users(+1);
        boolean leased = false;
        try {
            entry.lock.lock();
            try {
                Path dir = root.resolve(key);
                Fetch fetch = new Fetch(task, depth, dir, deadline, cancel, log);
                Prepared p = fetch.run(entry);
                if (p.lease() == null && p.failureKind() == ErrorKind.CLONE_FAILED && fetch.entryAtFault && entry.users() == 1) {
                    log.accept("the cached repository could not be updated (" + fetch.lastError + "); fetching it anew");
                    discard(dir);
                    p = new Fetch(task, depth, dir, deadline, cancel, log).run(entry);
                }
                leased = p.lease() != null;
                if (leased) {
                    touch(dir);
                }
                return p;
            } catch (UncheckedIOException e) {
                return Prepared.failed(ErrorKind.CLONE_FAILED, "repository cache error: " + e.getMessage());
            } finally {
                entry.lock.unlock();
                if (leased) {
                    evict();
                }
            }
        } finally {
            if (!leased) {
                entry.users(-1);
            }
        }
    }

    /** Deletes entries not in use, least recently used first, while the cache is over its cap. */
    void evict() {
        synchronized (evictionLock) {
            List<Path> dirs = new ArrayList<>();
            try (DirectoryStream<Path> s = Files.newDirectoryStream(root)) {
                for (Path d : s) {
                    if (!d.getFileName().toString().equals(HOME)) {
                        dirs.add(d);
                    }
                }
            } catch (IOException e) {
                LOG.warn("cannot list the repository cache {}: {}", root, e.toString());
                return;
            }
            Map<Path, Long> sizes = new HashMap<>();
            long total = 0;
            for (Path d : dirs) {
                long size = sizeOf(d);
                sizes.put(d, size);
                total += size;
            }
            if (total <= limitBytes) {
                return;
            }
            dirs.sort(Comparator.comparing(RepoCache::lastUsed));
            for (Path d : dirs) {
                if (total <= limitBytes) {
                    break;
                }
                Entry e = entries.computeIfAbsent(d.getFileName().toString(), k -> new Entry());
                if (e.users() > 0 || !e.lock.tryLock()) {
                    continue;
                }
                try {
                    if (e.users() > 0) {
                        continue;
                    }
                    LOG.info("repository cache over its cap ({} > {} bytes): evicting entry {} ({} bytes)", total, limitBytes,
                            d.getFileName(), sizes.get(d));
                    discard(d);
                    e.held = null;
                    total -= sizes.get(d);
                } catch (UncheckedIOException failed) {
                    LOG.warn("{}: {}; it is tried again at the next eviction", failed.getMessage(), failed.getCause());
                } finally {
                    e.lock.unlock();
                }
            }
            if (total > limitBytes) {
                LOG.warn("repository cache holds {} bytes, over its cap of {} bytes (RUNNER_REPO_CACHE_LIMIT): the rest is in use",
                        total, limitBytes);
            }
        }
    }

    /** RUNNER_REPO_CACHE_LIMIT=0: deletes an entry no task uses any more (unless a task is fetching it right now). */
    private static void forget(Entry entry, Path dir) {
        if (!entry.lock.tryLock()) {
            return;
        }
        try {
            if (entry.users() == 0) {
                deleteTree(dir);
                entry.held = null;
            }
        } catch (IOException e) {
            LOG.warn("cannot delete the repository cache entry {}: {}", dir, e.toString());
        } finally {
            entry.lock.unlock();
        }
    }

    /** At the runner's end: a cache that keeps nothing (RUNNER_REPO_CACHE_LIMIT=0) deletes its directory. */
    public void close() {
        if (limitBytes <= 0) {
            try {
                deleteTree(root);
            } catch (IOException e) {
                LOG.warn("cannot delete the repository cache {}: {}", root, e.toString());
            }
        }
    }

    /** Bytes under the cache (every entry). */
    public long sizeBytes() {
        return sizeOf(root);
    }

    private static FileTime lastUsed(Path dir) {
        try {
            return Files.getLastModifiedTime(dir.resolve(READY), LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            return FileTime.fromMillis(0);
        }
    }

    private static void touch(Path dir) {
        try {
            Files.setLastModifiedTime(dir.resolve(READY), FileTime.from(Instant.now()));
        } catch (IOException e) {
            LOG.debug("cannot touch {}: {}", dir, e.toString());
        }
    }

    private static long sizeOf(Path dir) {
        long[] total = {0};
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    total[0] += attrs.size();
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) {
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            LOG.debug("cannot measure {}: {}", dir, e.toString());
        }
        return total[0];
    }

    private static void discard(Path dir) {
        try {
            deleteTree(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the repository cache entry " + dir, e);
        }
    }

    /**
     * Deletes an entry (or the cache) tree. An entry's {@value #READY} marker goes first, so a runner killed in the
     * middle of the delete leaves an entry the next start discards as half-written, never one marked ready without its
     * refs or shallow list.
     */
    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.deleteIfExists(dir.resolve(READY));
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** A task's hold on its entry: the entry is not evicted until {@link #close}. */
    public final class Lease implements AutoCloseable {
        private final Entry entry;
        private final Path repo;
        private final String headSha;
        private final String branchSha;
        private boolean closed;

        Lease(Entry entry, Path repo, String headSha, String branchSha) {
            this.entry = entry;
            this.repo = repo;
            this.headSha = headSha;
            this.branchSha = branchSha;
        }

        /** The entry's bare repository (to be mounted read-only). */
        public Path repo() {
            return repo;
        }

        /** The full SHA to check out. */
        public String headSha() {
            return headSha;
        }

        /** The full SHA of the task's branch tip, or null when the task names no branch. */
        public String branchSha() {
            return branchSha;
        }

        /**
         * What a self-contained checkout of this lease at {@code depth} holds (head, the branch tip, the task's base
         * {@code baseSha} when the entry has it), read from the entry by the runner's git as one stream
         * ({@link PackStream}, for {@link CachedCheckout#SCRIPT} with {@code GIT_PACK_STDIN=1}); the caller closes it.
         * Null when the cache's git runs in a helper container, which cannot hand out a stream.
         */
        public PackStream selfContainedPack(String baseSha, int depth, Instant deadline, CancelSignal cancel) throws IOException {
            return PackStream.open(git, repo, headSha, branchSha, baseSha, depth, deadline, cancel);
        }

        /**
         * Marks the entry as broken (a checkout from it failed): the next task that needs it deletes it and fetches
         * it anew.
         */
        public void broken() {
            try {
                Files.deleteIfExists(repo.resolve(READY));
            } catch (IOException e) {
                LOG.warn("cannot mark the repository cache entry {} broken: {}", repo, e.toString());
            }
        }

        @Override
        public synchronized void close() {
            if (!closed) {
                closed = true;
                if (entry.users(-1) == 0 && limitBytes <= 0) {
                    forget(entry, repo);
                }
            }
        }
    }

    /** One entry's lock (one writer at a time) and how many tasks hold or wait for it. */
    static final class Entry {
        final ReentrantLock lock = new ReentrantLock();
        private int users;
        /**
         * At most this many answers are remembered per entry (then they are forgotten and gathered anew): a few KB per
         * entry; an evicted or deleted entry remembers nothing.
         */
        static final int HELD_LIMIT = 64;
        /**
         * What earlier tasks found in the entry (question of {@link Fetch#questions} → object name: the branch tips as
         * last fetched, the commits found), under the lock; null when nothing is known (a new or discarded entry). A
         * hint only: a task checks it against the entry again.
         */
        private Map<String, String> held;

        synchronized int users(int delta) {
            users += delta;
            return users;
        }

        synchronized int users() {
            return users;
        }
    }

    /** One task's fetch into its entry (under the entry's lock). */
    private final class Fetch {
        private final ReviewTask task;
        private final Path dir;
        private final Instant deadline;
        private final CancelSignal cancel;
        private final Consumer<String> log;
        private final SecretMasker masker;
        private final String protocol;
        private final Map<String, String> env = new HashMap<>();
        private List<String> depthArgs;
        boolean entryAtFault;
        String lastError = "";

        Fetch(ReviewTask task, int depth, Path dir, Instant deadline, CancelSignal cancel, Consumer<String> log) {
            this.task = task;
            this.dir = dir;
            this.deadline = deadline;
            this.cancel = cancel;
            this.log = log;
            this.masker = SecretMasker.of(task.secrets());
            this.depthArgs = depth > 0 ? List.of("--depth=" + depth) : List.of();
            String url = task.repository().url();
            RepositoryUrl u = RepositoryUrl.parse(url);
            this.protocol = protocolOf(u.scheme());
            String token = task.repository().cloneToken();
            env.put("GIT_TOKEN", token == null ? "" : token);
            env.put("GIT_CRED_PROTOCOL", u.scheme());
            env.put("GIT_CRED_HOST", RepositoryUrl.decode(u.credentialHost()));
            env.put("GIT_CONFIG_COUNT", "1");
            env.put("GIT_CONFIG_KEY_0", "remote.origin.url");
            env.put("GIT_CONFIG_VALUE_0", url);
        }

        Prepared run(Entry entry) {
            try {
                if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS) && !Files.exists(dir.resolve(READY), LinkOption.NOFOLLOW_LINKS)) {
                    if (entry.users() > 1) {
                        return Prepared.failed(ErrorKind.CLONE_FAILED, "the cached repository is broken and in use by another task");
                    }
                    log.accept("the cached repository was left half-written or broken; fetching it anew");
                    deleteTree(dir);
                }
                boolean fresh = !Files.exists(dir, LinkOption.NOFOLLOW_LINKS);
                if (fresh) {
                    entry.held = null;
                    Files.createDirectories(dir);
                    GitRunner.Result init = local("init", "-q", "--bare", "--shared=0644", ".");
                    if (!init.ok()) {
                        return failure(init, "cannot create the cache entry");
                    }
                } else {
                    // a listing writes nothing: the entry stays marked ready whatever becomes of it
                    Prepared listed = fromHeld(entry);
                    if (listed != null) {
                        return listed;
                    }
                    Files.delete(dir.resolve(READY));
                }
                log.accept((fresh ? "fetching into a new entry of the runner's repository cache"
                        : "updating the runner's cached repository") + " (depth " + (depthArgs.isEmpty() ? "full" : depthArgs.get(0).substring(8)) + ")");
                Prepared p = fetchAll(entry);
                if (p.failureKind() == null || !entryAtFault) {
                    // git writes packs and refs atomically: a failed or refused fetch leaves the entry as it was
                    if (!interrupted) {
                        Files.writeString(dir.resolve(READY), "");
                    }
                }
                return p;
            } catch (IOException e) {
                return Prepared.failed(ErrorKind.CLONE_FAILED, "repository cache error: " + e.getMessage());
            }
        }

        private boolean interrupted;

        private Prepared fetchAll(Entry entry) {
            String branch = task.branch();
            String head = task.headSha();
            String base = task.baseSha();
            boolean hasBranch = branch != null && !branch.isEmpty();
            // what the entry holds of the branch, head and base once fetched: one git command, not one per question
            List<String> questions = questions();
            Known known = Known.NONE;
            boolean looked = false; // the lookup ran with the fetch (its answer may still be unreadable: then one at a time)
            if (hasBranch) {
                String refspec = "+refs/heads/" + branch + ":refs/heads/" + branch;
                GitRunner.Both both = questions == null ? null
                        : git.runThenBatchCheck(dir, protocol, remoteArgs(fetchArgs(refspec)), env, input(questions), deadline, cancel);
                if (both != null && both.first().ok()) {
                    looked = true;
                    known = both.then() != null && both.then().ok() ? Known.parse(questions, both.then().output()) : Known.NONE;
                } else {
                    Prepared failed = fetch("cannot fetch branch " + branch, both == null ? null : both.first(), refspec);
                    if (failed != null) {
                        return failed;
                    }
                }
            } else {
                // the task names a commit only: its access is proven by asking the server for its refs (and the
                // entry asked what it holds in the same run)
                String[] listing = {"ls-remote", "-q", "origin", "HEAD"};
                GitRunner.Both both = questions == null ? new GitRunner.Both(remote(listing), null)
                        : git.runThenBatchCheck(dir, protocol, remoteArgs(listing), env, input(questions), deadline, cancel);
                if (!both.first().ok()) {
                    return failure(both.first(), "the repository refused or could not be reached");
                }
                looked = true;
                known = both.then() != null && both.then().ok() ? Known.parse(questions, both.then().output()) : Known.NONE;
            }
            if (!looked) {
                known = lookUp(questions);
            }
            String branchSha = null;
            if (hasBranch) {
                String ref = "refs/heads/" + branch;
                branchSha = known.getOr(ref, () -> sha(ref));
                if (branchSha == null) {
                    entryAtFault = true;
                    return Prepared.failed(ErrorKind.CLONE_FAILED, "branch " + branch + " was fetched but is not in the cache");
                }
            }
            if (head != null && !head.isEmpty() && known.getOr(commit(head), () -> has(head) ? head : null) == null) {
                log.accept("commit " + head + " is not in the fetched history; fetching it by SHA");
                if (fetch("cannot fetch commit " + head, head) != null || !has(head)) {
                    log.accept("fetching the commit by SHA failed; fetching the full history");
                    List<String> args = new ArrayList<>(List.of("fetch", "-q", "--no-tags"));
                    if (Files.exists(dir.resolve("shallow"))) {
                        args.add("--unshallow");
                    }
                    args.addAll(List.of("origin", "+refs/heads/*:refs/heads/*"));
                    GitRunner.Result r = remote(args.toArray(String[]::new));
                    if (!r.ok()) {
                        return failure(r, "cannot fetch the repository history");
                    }
                    if (!has(head)) {
                        return Prepared.failed(ErrorKind.CLONE_FAILED, "commit " + head + " not found in the repository");
                    }
                }
                known = Known.NONE; // the entry changed: ask again below
            }
            String target = head != null && !head.isEmpty() ? known.getOr(commit(head), () -> sha(commit(head))) : branchSha;
            if (target == null) {
                entryAtFault = true;
                return Prepared.failed(ErrorKind.CLONE_FAILED, "the commit to review is not in the cache");
            }
            String baseSha = base == null || base.isEmpty() ? null : known.getOr(commit(base), () -> has(base) ? base : null);
            if (base != null && !base.isEmpty() && baseSha == null) {
                log.accept("fetching base commit " + base);
                if (fetch("base", base) != null) {
                    log.accept("warning: base commit " + base + " could not be fetched");
                } else {
                    baseSha = base; // fetched by its full name
                }
            }
            remember(entry, questions, target, branchSha, baseSha);
            return new Prepared(new Lease(entry, dir, target, branchSha), null, null);
        }

        /**
         * The entry as earlier tasks found it, when it already holds everything this task asks (its branch tip, head
         * and base) and the server lists the branch where the entry has it: one {@code ls-remote} of the branch with
         * the task's credentials (its access proven, as a fetch would) and one lookup confirming the entry still holds
         * them, instead of a fetch. Null when that is not so (the caller fetches); a failed listing fails the task, and
         * leaves the entry as it was (still marked ready: nothing was written).
         */
        private Prepared fromHeld(Entry entry) {
            Map<String, String> held = entry.held;
            List<String> questions = questions();
            String branch = task.branch();
            if (held == null || questions == null || branch == null || branch.isEmpty()
                    || !questions.stream().allMatch(q -> held.get(q) != null)) {
                return null;
            }
            String ref = "refs/heads/" + branch;
            GitRunner.Both both = git.runThenBatchCheck(dir, protocol, remoteArgs("ls-remote", "-q", "origin", ref), env,
                    input(questions), deadline, cancel);
            if (!both.first().ok()) {
                Prepared failed = failure(both.first(), "the repository refused or could not be reached");
                entryAtFault = false; // a listing reads nothing of the entry
                return failed;
            }
            Known now = both.then() != null && both.then().ok() ? Known.parse(questions, both.then().output()) : Known.NONE;
            boolean same = held.get(ref).equals(advertised(both.first().output(), ref))
                    && questions.stream().allMatch(q -> held.get(q).equals(now.getOr(q, () -> null)));
            if (!same) {
                return null;
            }
            String head = task.headSha();
            String target = head != null && !head.isEmpty() ? held.get(commit(head)) : held.get(ref);
            log.accept("the runner's cached repository holds " + target + " and branch " + branch
                    + " is where the server has it: nothing to fetch");
            return new Prepared(new Lease(entry, dir, target, held.get(ref)), null, null);
        }

        /**
         * Adds what the entry now holds of {@code questions} (may be null) to what it is known to hold, for the next
         * tasks ({@link #fromHeld}): the head {@code target} and the base (commits stay: objects are only added to an
         * entry), and the branch tip (replacing the one known before). A question without an answer is left out.
         */
        private void remember(Entry entry, List<String> questions, String target, String branchSha, String baseSha) {
            if (questions == null) {
                return;
            }
            if (entry.held == null || entry.held.size() >= Entry.HELD_LIMIT) {
                entry.held = new HashMap<>();
            }
            for (String q : questions) {
                String name = q.equals(commit(task.headSha())) ? target : q.startsWith("refs/heads/") ? branchSha : baseSha;
                if (name != null) {
                    entry.held.put(q, name);
                }
            }
        }

        /** What the entry is asked of this task: its branch ref, head and base (see {@link #questions(String...)}). */
        private List<String> questions() {
            String branch = task.branch();
            return questions(branch == null || branch.isEmpty() ? null : "refs/heads/" + branch, commit(task.headSha()),
                    commit(task.baseSha()));
        }

        /** {@code rev^{commit}}, or null for none. */
        private static String commit(String rev) {
            return rev == null || rev.isEmpty() ? null : rev + "^{commit}";
        }

        /** {@code revs} without the nulls, as questions for {@link #lookUp}; null when there is none or one holds a line break. */
        private static List<String> questions(String... revs) {
            List<String> asked = new ArrayList<>();
            for (String r : revs) {
                if (r == null) {
                    continue;
                }
                if (r.isEmpty() || r.indexOf('\n') >= 0 || r.indexOf('\r') >= 0 || r.indexOf('\0') >= 0) {
                    return null;
                }
                asked.add(r);
            }
            return asked.isEmpty() ? null : asked;
        }

        private static byte[] input(List<String> questions) {
            return (String.join("\n", questions) + "\n").getBytes(StandardCharsets.UTF_8);
        }

        /**
         * What the entry holds of {@code questions} (may be null), by one {@code git cat-file --batch-check}: each one's
         * object name, or null when it does not resolve. When git's answer cannot be read as one line per question (or
         * there is no question), {@link Known#NONE}: the caller then asks git one question at a time, as before.
         */
        private Known lookUp(List<String> questions) {
            if (questions == null) {
                return Known.NONE;
            }
            GitRunner.Result r = git.run(dir, null, GitRunner.BATCH_CHECK, Map.of(), input(questions), deadline, cancel);
            return r.ok() ? Known.parse(questions, r.output()) : Known.NONE;
        }

        /** Fetches {@code refspec}s at the task's depth (without it when the server refuses shallow); null when it worked. */
        private Prepared fetch(String what, String... refspecs) {
            return fetch(what, null, refspecs);
        }

        /** The same, {@code tried} (may be null) being the first attempt's result. */
        private Prepared fetch(String what, GitRunner.Result tried, String... refspecs) {
            GitRunner.Result r = tried != null ? tried : remote(fetchArgs(refspecs));
            if (!r.ok() && !depthArgs.isEmpty() && !r.timedOut() && !r.cancelled() && r.output().toLowerCase(Locale.ROOT).contains("shallow")) {
                log.accept("the server does not support shallow fetches; fetching without --depth");
                depthArgs = List.of();
                r = remote(fetchArgs(refspecs));
            }
            return r.ok() ? null : failure(r, what);
        }

        private String[] fetchArgs(String... refspecs) {
            List<String> args = new ArrayList<>(List.of("fetch", "-q", "--no-tags", "--no-write-fetch-head"));
            args.addAll(depthArgs);
            args.add("origin");
            args.addAll(List.of(refspecs));
            return args.toArray(String[]::new);
        }

        private Prepared failure(GitRunner.Result r, String what) {
            if (r.timedOut()) {
                interrupted = true;
                return Prepared.failed(ErrorKind.TIMEOUT, "the task ran out of its wall time while fetching the repository");
            }
            if (r.cancelled()) {
                interrupted = true;
                ErrorKind kind = cancel.reason() == null ? ErrorKind.RUNNER_SHUTDOWN : cancel.reason().errorKind();
                return Prepared.failed(kind, "cancelled while fetching the repository (" + kind.wire() + ")");
            }
            String out = masker.mask(r.output());
            lastError = lastLine(out);
            entryAtFault = !ACCESS_OR_NETWORK.matcher(out).find();
            String explained = REDIRECT.matcher(out).find() ? "\nthe git server answered with a redirect, which is not "
                    + "followed while credentials are in use (they could reach another host); use the repository URL the "
                    + "redirect points to" : "";
            return Prepared.failed(ErrorKind.CLONE_FAILED, "clone failed: " + what + ": " + tailLines(out, 10) + explained);
        }

        private boolean has(String sha) {
            return local("cat-file", "-e", sha + "^{commit}").ok();
        }

        private String sha(String rev) {
            GitRunner.Result r = local("rev-parse", "-q", "--verify", rev);
            return r.ok() ? r.output().strip() : null;
        }

        private GitRunner.Result local(String... args) {
            return git.run(dir, null, List.of(args), Map.of(), deadline, cancel);
        }

        private GitRunner.Result remote(String... args) {
            return git.run(dir, protocol, remoteArgs(args), env, deadline, cancel);
        }

        /** {@code args} of a command that talks to the remote: with the credential helper that answers with the task's token. */
        private static List<String> remoteArgs(String... args) {
            List<String> all = new ArrayList<>(List.of("-c", "credential.helper=" + GitClone.CREDENTIAL_HELPER));
            all.addAll(List.of(args));
            return all;
        }
    }

    /**
     * The answers of one {@code git cat-file --batch-check} (its default format: {@code <name> <type> <size>}, or
     * {@code <question> missing} / {@code ambiguous}): each question's object name, or null when it does not resolve.
     * {@link #NONE} knows nothing: every question is then asked on its own.
     */
    static final class Known {
        static final Known NONE = new Known(null);
        private static final Pattern ANSWER = Pattern.compile("([0-9a-f]{40}|[0-9a-f]{64}) [a-z]+ [0-9]+");

        private final Map<String, String> names;

        private Known(Map<String, String> names) {
            this.names = names;
        }

        /** The answers to {@code asked} in {@code output} (one line each, in order); {@link #NONE} when it is not that. */
        static Known parse(List<String> asked, String output) {
            String[] lines = output.strip().split("\n");
            if (lines.length != asked.size()) {
                return NONE;
            }
            Map<String, String> names = new HashMap<>();
            for (int i = 0; i < lines.length; i++) {
                String q = asked.get(i);
                if (lines[i].equals(q + " missing") || lines[i].equals(q + " ambiguous")) {
                    names.put(q, null);
                } else if (ANSWER.matcher(lines[i]).matches()) {
                    names.put(q, lines[i].substring(0, lines[i].indexOf(' ')));
                } else {
                    return NONE;
                }
            }
            return new Known(names);
        }

        /** The object name {@code rev} resolves to (null: it does not); {@code ask}'s answer when it was not among those answered. */
        String getOr(String rev, java.util.function.Supplier<String> ask) {
            return names != null && names.containsKey(rev) ? names.get(rev) : ask.get();
        }
    }

    /** The object name {@code ls-remote} printed for exactly {@code ref}, or null. */
    static String advertised(String output, String ref) {
        for (String line : output.split("\n")) {
            int tab = line.indexOf('\t');
            if (tab > 0 && line.substring(tab + 1).strip().equals(ref)) {
                return line.substring(0, tab);
            }
        }
        return null;
    }

    private static String lastLine(String s) {
        String[] lines = s.strip().split("\n");
        return lines.length == 0 ? "" : lines[lines.length - 1];
    }

    private static String tailLines(String s, int n) {
        String[] lines = s.strip().split("\n");
        StringBuilder b = new StringBuilder();
        for (int i = Math.max(0, lines.length - n); i < lines.length; i++) {
            b.append(i > Math.max(0, lines.length - n) ? "\n" : "").append(lines[i]);
        }
        return b.length() == 0 ? "(no output)" : b.toString();
    }
}

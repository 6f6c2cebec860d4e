package dev.aireview.runner.docker;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.aireview.runner.config.DockerConfig;
import dev.aireview.runner.execution.NoFollowFiles;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.source.CachedCheckout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Task workspaces, bind-mounted at /workspace: {@code <base>/<runnerName>/<prefix>-<hash>}. The runner's path must be
 * the Docker daemon's path (docs/docker-executor.md).
 *
 * <p>Everything in a workspace is written by a container that runs untrusted code and may be any image, so every
 * host-side operation here treats paths below a workspace as hostile (docs/docker-executor.md "Threat model"):
 * <ul>
 *   <li>the runner directory is mode 0700 (no other local user can enter it); each workspace is created 0700 and
 *       handed to the container user ({@code DOCKER_USER}'s numeric uid:gid) — the runner runs as root;</li>
 *   <li>files are created exclusively ({@code O_CREAT|O_EXCL}, which never follows a link) under a random temporary
 *       name with their final mode given at creation, then renamed into place (rename replaces a planted link, it
 *       does not follow it); nothing is ever chmod-ed or read through a path the container can swap;</li>
 *   <li>result.json is read only when it is, without following links, a regular file no larger than
 *       {@code DOCKER_RESULT_LIMIT_BYTES}; it is opened with {@code O_NOFOLLOW}, read with that bound and within
 *       {@link #READ_DEADLINE} (a FIFO swapped in after the check blocks a reader thread, never the runner);</li>
 *   <li>deleting walks the tree without following links.</li>
 * </ul>
 * A workspace's own path cannot be swapped: its parent (the runner directory) is root-owned and closed to containers
 * (they see only the workspace).
 */
public final class Workspaces {
    private static final Logger LOG = LoggerFactory.getLogger(Workspaces.class);
    public static final String TASK_FILE = "task.json";
    public static final String RESULT_FILE = "result.json";
    /**
     * The scheduler's claim journal inside the runner directory ({@link #claimsDir()}). Never a workspace: a workspace
     * name always ends in {@code -<12 hex digits>}, and {@link #existing()} (what the reaper deletes) leaves it out.
     */
    public static final String CLAIMS_DIR = "claims";
    /** The runner's repository cache inside the runner directory (dev.aireview.runner.source.RepoCache); never a workspace either. */
    public static final String REPO_CACHE_DIR = "cache";
    /**
     * Marks of the tasks whose result was sent before their clean-up ended ({@link #cleaningDir()}, HandOver): the
     * reaper removes their leftovers without reporting them. Never a workspace either.
     */
    public static final String CLEANING_DIR = "cleaning";
    /** How long reading result.json may take (it is at most DOCKER_RESULT_LIMIT_BYTES from a local disk). */
    static final Duration READ_DEADLINE = Duration.ofSeconds(10);
    private static final int PREFIX_LENGTH = 40;
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");
    private static final Pattern NUMERIC_USER = Pattern.compile("(\\d+)(?::(\\d+))?");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path runnerDir;
    private final Integer uid;
    private final Integer gid;
    private final long resultLimitBytes;
    private final AtomicBoolean warnedNoHandover = new AtomicBoolean();
    /** False once a chown failed: the runner is not root, files are then made readable instead. */
    private volatile boolean canHandOver = true;

    /** Workspaces with the default container user 10001:10001 and result limit (tools, tests). */
    public Workspaces(Path base, String runnerName) {
        this(base, runnerName, "10001:10001", DockerConfig.DEFAULT_RESULT_LIMIT_BYTES);
    }

    /**
     * @param containerUser    DOCKER_USER; a numeric {@code uid[:gid]} gets each workspace chowned to it, a user name
     *                         cannot be resolved on the host (the fallback: mode 0777 inside the closed runner directory)
     * @param resultLimitBytes DOCKER_RESULT_LIMIT_BYTES
     */
    public Workspaces(Path base, String runnerName, String containerUser, long resultLimitBytes) {
        this.runnerDir = base.toAbsolutePath().normalize().resolve(safeName(runnerName));
        Matcher m = containerUser == null ? null : NUMERIC_USER.matcher(containerUser);
        this.uid = m != null && m.matches() ? Integer.valueOf(m.group(1)) : null;
        this.gid = m != null && m.matches() && m.group(2) != null ? Integer.valueOf(m.group(2)) : null;
        this.resultLimitBytes = resultLimitBytes;
    }

    /** {@code <base>/<runnerName>}: everything below belongs to this runner. */
    public Path runnerDir() {
        return runnerDir;
    }

    /** {@code <base>/<runnerName>/claims}: the claim journal's directory (root-owned like the runner directory, seen by no container). */
    public Path claimsDir() {
        return runnerDir.resolve(CLAIMS_DIR);
    }

    /** {@code <base>/<runnerName>/cleaning}: the marks of tasks cleaning up after their result was sent (a claim journal of its own). */
    public Path cleaningDir() {
        return runnerDir.resolve(CLEANING_DIR);
    }

    /** Where the workspace of {@code id} is (whether or not it exists). */
    public Path workspaceOf(String id) {
        return runnerDir.resolve(dirName(id));
    }

    /** DOCKER_RESULT_LIMIT_BYTES. */
    public long resultLimitBytes() {
        return resultLimitBytes;
    }

    /**
     * Creates the base (if absent) and the runner directory, mode 0700: other local users cannot enter it, so they
     * can neither read nor plant anything in a workspace. Refuses a runner directory that is a link.
     */
    public void ensureRunnerDir() throws IOException {
        Files.createDirectories(runnerDir.getParent());
        try {
            Files.createDirectory(runnerDir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        } catch (FileAlreadyExistsException e) {
            BasicFileAttributes a = Files.readAttributes(runnerDir, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!a.isDirectory()) {
                throw new IOException(runnerDir + " exists and is not a directory (a link?); refusing to use it");
            }
        }
        checkOwnership();
        if (!Files.getPosixFilePermissions(runnerDir, LinkOption.NOFOLLOW_LINKS).equals(OWNER_ONLY)) {
            Files.setPosixFilePermissions(runnerDir, OWNER_ONLY);
        }
    }

    /**
     * Ownership is checked, not assumed: the runner directory must be the runner's own (its uid) and the base the
     * runner's or root's, neither writable by group or others, and no directory above the base writable by others
     * without the sticky bit (where another user could rename the base away). Otherwise another local user could
     * have made the directory first, or could swap what is in it: an {@link IOException} naming the directory, its
     * owner and mode, and the fix.
     */
    void checkOwnership() throws IOException {
        int self = runnerUid();
        Path base = runnerDir.getParent();
        checkOwned(base, self, true);
        checkOwned(runnerDir, self, false);
        for (Path p = base.getParent(); p != null; p = p.getParent()) {
            int mode = (Integer) Files.getAttribute(p, "unix:mode");
            if ((mode & 0002) != 0 && (mode & 01000) == 0) {
                throw new IOException(p + " (above DOCKER_WORKSPACE_BASE) is writable by every user without the sticky bit ("
                        + String.format("%04o", mode & 07777) + "): another user could replace " + base
                        + "; use a base under directories only root (or the runner) can write");
            }
        }
    }

    private static void checkOwned(Path dir, int self, boolean rootWillDo) throws IOException {
        int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        int mode = (Integer) Files.getAttribute(dir, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        if (owner != self && !(rootWillDo && owner == 0)) {
            throw new IOException(dir + " belongs to uid " + owner + ", not to the runner (uid " + self + ")"
                    + (rootWillDo ? " or root" : "") + ": another user may have made it first and could read or replace"
                    + " the workspaces in it; remove it (or chown it to the runner's user) and start again");
        }
        if (!rootWillDo) {
            return; // the runner directory's mode is set to 0700 by the runner itself
        }
        if ((mode & 0022) != 0) {
            throw new IOException(dir + " is writable by other users (mode " + String.format("%04o", mode & 07777)
                    + "): they could replace the runner directory in it; chmod go-w " + dir);
        }
    }

    /**
     * The uid this process runs as (the owner of what it creates): the owner of {@code /proc/self}. Not the JDK's
     * {@code UnixSystem}, which answers 0 for a uid without a passwd entry (a systemd {@code DynamicUser}, or a
     * numeric {@code User=} with no account).
     */
    static int runnerUid() {
        try {
            return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (IOException | RuntimeException e) {
            return (int) new com.sun.security.auth.module.UnixSystem().getUid();
        }
    }

    /**
     * Removes the runner directory when nothing is left in it (no workspace, no claim journal): a runner that stops
     * cleanly leaves no trace. Kept when anything is in it (a workspace the reaper must see at the next start).
     */
    public void removeRunnerDirIfEmpty() {
        try {
            BasicFileAttributes a = Files.readAttributes(runnerDir, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (a.isDirectory()) {
                Files.delete(runnerDir);
            }
        } catch (java.nio.file.DirectoryNotEmptyException | NoSuchFileException e) {
            // something is still in it, or it is gone already
        } catch (IOException e) {
            LOG.debug("runner directory {} not removed: {}", runnerDir, e.toString());
        }
    }

    /**
     * Creates (fresh) the workspace for {@code id}: mode 0700, owned by the container user. What was left at that
     * path is deleted first (without following links).
     */
    public Path create(String id) throws IOException {
        ensureRunnerDir();
        Path dir = workspaceOf(id);
        if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            deleteTree(dir);
        }
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        if (!handOver(dir)) {
            // the runner is not root (or DOCKER_USER is a name): the container user can only write an open
            // directory; the runner directory (0700) still keeps every other local user out
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        }
        return dir;
    }

    /** chowns {@code path} (never following a link) to the container user; false when that is not possible. */
    private boolean handOver(Path path) {
        if (uid == null || !canHandOver) {
            warnNoHandover("DOCKER_USER is not numeric (uid[:gid]), so it cannot be resolved on the host");
            return false;
        }
        try {
            if (gid != null) {
                Files.setAttribute(path, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
            }
            Files.setAttribute(path, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
            return true;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            canHandOver = false;
            warnNoHandover("the runner cannot chown (" + e.getMessage() + "); it is not running as root");
            return false;
        }
    }

    private void warnNoHandover(String why) {
        if (warnedNoHandover.compareAndSet(false, true)) {
            LOG.warn("workspaces cannot be handed to the container user: {}; they are made mode 0777 instead, inside "
                    + "the runner directory {} (0700) that other local users cannot enter", why, runnerDir);
        }
    }

    /**
     * Writes task.json whole: into a new file with a random name (created exclusively, never through a link, readable
     * only by its owner), handed to the container user, then renamed over {@code task.json}.
     */
    public void writeTask(Path workspace, JsonNode task) throws IOException {
        writeNew(workspace, TASK_FILE, Json.mapper().writeValueAsBytes(task));
    }

    /**
     * Writes {@code name} in {@code dir} as {@link #writeTask} does. The hand-over is an {@code lchown} by path: should
     * the container swap the temp file meanwhile, it can only get a link or one of its own files chowned to itself (a
     * hard link to a host file cannot be made from inside the bind mount).
     */
    void writeNew(Path dir, String name, byte[] bytes) throws IOException {
        Path tmp = dir.resolve("." + name + "." + HexFormat.of().formatHex(randomBytes()) + ".tmp");
        boolean owned = uid != null && canHandOver;
        try {
            NoFollowFiles.createNew(tmp, bytes, owned ? "rw-------" : "rw-r--r--", false);
            if (owned && !handOver(tmp)) {
                // not root after all: the owner-only file must become readable for the container user
                Files.delete(tmp);
                NoFollowFiles.createNew(tmp, bytes, "rw-r--r--", false);
            }
            Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the workspace is deleted anyway
            }
            throw e;
        }
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[8];
        RANDOM.nextBytes(b);
        return b;
    }

    /** What reading result.json gave: a result, or why there is none (a message for the task's error). */
    public record ResultFile(TaskResult result, String problem) {
        static ResultFile problem(String why) {
            return new ResultFile(null, why);
        }
    }

    /**
     * Reads result.json when it is a regular file (not a link, FIFO, socket, device or directory) of at most
     * DOCKER_RESULT_LIMIT_BYTES holding a result object; otherwise says why not.
     */
    public ResultFile readResult(Path workspace) {
        Path file = workspace.resolve(RESULT_FILE);
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return ResultFile.problem("no result file: the review container exited 0 without writing /workspace/result.json");
        } catch (IOException e) {
            return ResultFile.problem("result.json could not be inspected: " + e.getClass().getSimpleName());
        }
        if (!a.isRegularFile()) {
            return ResultFile.problem("result.json is not a regular file (it is " + describe(file, a) + "); it was not read");
        }
        if (a.size() > resultLimitBytes) {
            return ResultFile.problem(overLimit(a.size() + " bytes"));
        }
        byte[] bytes;
        try {
            bytes = readWithin(file, READ_DEADLINE);
        } catch (IOException e) {
            return ResultFile.problem(e.getMessage());
        }
        if (bytes == null) {
            return ResultFile.problem(overLimit("more than that"));
        }
        try {
            TaskResult result = Json.mapper().readValue(bytes, TaskResult.class);
            return result == null ? ResultFile.problem("result.json is not valid JSON: it holds no result object")
                    : new ResultFile(result, null);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            return ResultFile.problem("result.json is not valid JSON or not a result object"
                    + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"));
        } catch (IOException | RuntimeException e) {
            return ResultFile.problem("result.json is not valid JSON or not a result object (" + e.getClass().getSimpleName() + ")");
        }
    }

    /**
     * The checkout's exit code the review container wrote to {@link CachedCheckout#STATUS_FILE}: null while there is
     * none (or it is still empty); -1 when it is not a small regular file holding a number (a link, a FIFO, garbage:
     * never followed or waited on).
     */
    Integer checkoutStatus(Path workspace) {
        Path file = workspace.resolve(CachedCheckout.STATUS_FILE);
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            return -1;
        }
        if (!a.isRegularFile() || a.size() > 16) {
            return -1;
        }
        if (a.size() == 0) {
            return null;
        }
        try {
            byte[] bytes = readWithin(file, READ_DEADLINE, 16);
            return bytes == null ? -1 : Integer.parseInt(new String(bytes, StandardCharsets.US_ASCII).strip());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    /**
     * At most DOCKER_RESULT_LIMIT_BYTES of {@code file} (null when it holds more), opened without following a link,
     * read on a reader thread within {@code deadline}; an IOException whose message says why it could not be read.
     * A FIFO swapped in after the type check blocks the reader thread, not the caller; it is then opened for writing
     * once (without following links), which releases the blocked open.
     */
    byte[] readWithin(Path file, Duration deadline) throws IOException {
        return readWithin(file, deadline, resultLimitBytes);
    }

    /** As {@link #readWithin(Path, Duration)} with another size limit (e.g. task.json, for the reaper). */
    byte[] readWithin(Path file, Duration deadline, long limit) throws IOException {
        try {
            return NoFollowFiles.within(deadline, () -> NoFollowFiles.readBounded(file, limit));
        } catch (TimeoutException e) {
            NoFollowFiles.unblock(file);
            throw new IOException(file.getFileName() + " could not be read within " + deadline.toMillis()
                    + " ms (a FIFO or device?); it was not used");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("reading " + file.getFileName() + " was interrupted");
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            String why = c instanceof java.nio.file.FileSystemException fse && fse.getReason() != null ? fse.getReason()
                    : c.getClass().getSimpleName();
            throw new IOException(file.getFileName() + " could not be opened as a regular file without following links (" + why + ")");
        }
    }

    private String overLimit(String size) {
        return "result.json is larger than DOCKER_RESULT_LIMIT_BYTES (" + size + ", limit " + resultLimitBytes
                + " bytes); it was not read";
    }

    /** "a symbolic link", "a FIFO", … for messages. */
    static String describe(Path file, BasicFileAttributes a) {
        if (a.isSymbolicLink()) {
            return "a symbolic link";
        }
        if (a.isDirectory()) {
            return "a directory";
        }
        try {
            int mode = (Integer) Files.getAttribute(file, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            return switch (mode & 0170000) {
                case 0010000 -> "a FIFO";
                case 0020000 -> "a character device";
                case 0060000 -> "a block device";
                case 0140000 -> "a socket";
                default -> "a special file";
            };
        } catch (IOException | RuntimeException e) {
            return "a special file";
        }
    }

    /** Workspaces left under this runner's directory (from an earlier run); the claim journal's, the cleaning marks' and the repository cache's directories are not. */
    public List<Path> existing() {
        List<Path> dirs = new ArrayList<>();
        if (!Files.isDirectory(runnerDir, LinkOption.NOFOLLOW_LINKS)) {
            return dirs;
        }
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(runnerDir)) {
            for (Path p : stream) {
                String name = p.getFileName().toString();
                if (!CLAIMS_DIR.equals(name) && !REPO_CACHE_DIR.equals(name) && !CLEANING_DIR.equals(name)) {
                    dirs.add(p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dirs;
    }

    /** Deletes a workspace tree; false when some of it could not be deleted (e.g. files owned by the container user). */
    public boolean delete(Path workspace) {
        try {
            deleteTree(workspace);
            return true;
        } catch (IOException e) {
            LOG.debug("deleting {} failed: {}", workspace, e.toString());
            return false;
        }
    }

    /**
     * Deletes {@code dir} and everything below it (links are removed, not followed); nothing when it is absent. Goes
     * through directory descriptors ({@link SecureDirectoryStream}: {@code unlinkat} by name), so no path length or
     * rename inside the tree gets in the way.
     */
    public static void deleteTree(Path dir) throws IOException {
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(dir, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return;
        }
        if (attrs.isDirectory()) {
            try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
                if (!(stream instanceof SecureDirectoryStream<Path> secure)) {
                    throw new IOException("this platform offers no directory descriptors (SecureDirectoryStream) to delete " + dir + " safely");
                }
                empty(secure);
            } catch (DirectoryIteratorException e) {
                throw e.getCause();
            }
        }
        Files.deleteIfExists(dir);
    }

    /** Deletes everything in the directory open as {@code dir}, depth first, by name relative to it. */
    private static void empty(SecureDirectoryStream<Path> dir) throws IOException {
        for (Path entry : dir) {
            Path name = entry.getFileName();
            BasicFileAttributes attrs;
            try {
                attrs = dir.getFileAttributeView(name, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).readAttributes();
            } catch (NoSuchFileException gone) {
                continue;
            }
            try {
                if (attrs.isDirectory()) {
                    try (SecureDirectoryStream<Path> sub = dir.newDirectoryStream(name, LinkOption.NOFOLLOW_LINKS)) {
                        empty(sub);
                    }
                    dir.deleteDirectory(name);
                } else {
                    dir.deleteFile(name);
                }
            } catch (NoSuchFileException gone) {
                // deleted meanwhile
            }
        }
    }

    /**
     * The directory name of a workspace: a readable prefix of the id ({@link #safeName}, at most 40 characters) and
     * 12 hex digits of its SHA-256, so ids that read alike ({@code task/7}, {@code task_7}) never share a directory.
     */
    static String dirName(String id) {
        String safe = safeName(id);
        String prefix = safe.length() > PREFIX_LENGTH ? safe.substring(0, PREFIX_LENGTH) : safe;
        return prefix + "-" + sha256Hex(id == null ? "" : id).substring(0, 12);
    }

    private static String sha256Hex(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A path component made of [A-Za-z0-9._-] only (never "." or ".."). */
    static String safeName(String name) {
        String s = name == null ? "" : name.replaceAll("[^A-Za-z0-9._-]", "_");
        if (s.isEmpty() || s.chars().allMatch(c -> c == '.')) {
            s = "_" + s;
        }
        return s.length() > 120 ? s.substring(0, 120) : s;
    }
}

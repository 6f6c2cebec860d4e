package dev.aireview.runner.review;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code git} (the binary in the image) on a checked-out repository, read-only. Every call passes
 * {@code safe.directory=*} (the checkout belongs to another user), disables colour, pagers and external diff
 * drivers, and is bounded in time and output size. Object questions (commits, sizes, blobs) go to one
 * {@code git cat-file --batch-command} process per instance ({@link GitObjects}); {@link #close()} ends it.
 */
public final class GitRepo implements AutoCloseable {

    /** Output beyond this is cut off (the diff is then marked truncated). */
    public static final int MAX_OUTPUT_BYTES = 32 * 1024 * 1024;
    /** The whole of one git call, from its start to its exit and the end of its output. */
    static final Duration CALL_DEADLINE = Duration.ofSeconds(120);
    /** Stderr kept for error messages; git's stderr beyond this is not read. */
    private static final int MAX_STDERR_BYTES = 64 * 1024;

    private final Path dir;
    private final String git;
    private final GitObjects objects;
    private final Duration callDeadline;

    /**
     * What git knows of one object: its id (null when it was answered without the batch process), type
     * ({@code commit}, {@code blob}, {@code tree}, …) and size in bytes.
     */
    public record ObjectInfo(String oid, String type, long size) {
    }

    public GitRepo(Path dir) {
        this(dir, "git");
    }

    public GitRepo(Path dir, String gitExecutable) {
        this(dir, gitExecutable, GitObjects.REQUEST_TIMEOUT_MS);
    }

    /** With another deadline for each request to the batch process (tests). */
    GitRepo(Path dir, String gitExecutable, long objectRequestTimeoutMs) {
        this(dir, gitExecutable, objectRequestTimeoutMs, CALL_DEADLINE);
    }

    /** With other deadlines for each request to the batch process and for each {@link #run} call (tests). */
    GitRepo(Path dir, String gitExecutable, long objectRequestTimeoutMs, Duration callDeadline) {
        this.dir = dir;
        this.git = gitExecutable;
        this.objects = new GitObjects(gitExecutable, dir, objectRequestTimeoutMs);
        this.callDeadline = callDeadline;
    }

    public Path dir() {
        return dir;
    }

    /** Result of one git call. */
    public record Output(int exitCode, String stdout, String stderr, boolean truncated) {
        public boolean ok() {
            return exitCode == 0;
        }

        /** Last non-blank line of stderr, for error messages. */
        public String reason() {
            String[] lines = stderr.strip().split("\n");
            String last = lines.length == 0 ? "" : lines[lines.length - 1].strip();
            return last.isEmpty() ? "exit code " + exitCode : last;
        }
    }

    public Output run(String... args) throws IOException {
        return run(Map.of(), null, args);
    }

    /**
     * {@link #run(String...)} with more environment variables and {@code input} fed on stdin (null: none), written
     * by a thread of its own so that git's output never waits for the rest of the input. Same bounds: the deadline
     * covers the whole call from the start of the process (a git that hangs with its output open is ended too, with
     * every process it started), and output beyond {@link #MAX_OUTPUT_BYTES} is cut off.
     */
    Output run(Map<String, String> env, byte[] input, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(git, "-c", "safe.directory=*", "-c", "core.quotePath=false",
                "-c", "color.ui=false", "-c", "core.pager=cat", "-C", dir.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("GIT_TERMINAL_PROMPT", "0");
        pb.environment().put("GIT_OPTIONAL_LOCKS", "0");
        pb.environment().put("LC_ALL", "C");
        pb.environment().putAll(env);
        Path err = Scratch.file("git-stderr-", ".txt");
        long deadline = System.nanoTime() + callDeadline.toNanos();
        Process p = null;
        try {
            pb.redirectError(err.toFile());
            pb.redirectInput(ProcessBuilder.Redirect.PIPE);
            p = pb.start();
            feed(p, input);
            BoundedReader out = new BoundedReader(p);
            out.start();
            boolean outputEnded = out.await(deadline);
            if (outputEnded && out.truncated()) {
                endTree(p); // it may still be writing: nobody reads the rest
            }
            if (!outputEnded || !p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                endTree(p);
                throw new IOException("git " + args[0] + " did not finish within its deadline of " + seconds(callDeadline)
                        + " (its output " + (outputEnded ? "closed" : "still open") + " after " + out.size() + " bytes): ended it");
            }
            if (out.failure() != null) {
                throw out.failure();
            }
            return new Output(out.truncated() ? 0 : p.exitValue(), out.text(), readHead(err, MAX_STDERR_BYTES), out.truncated());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (p != null) {
                endTree(p);
            }
            throw new IOException("interrupted while running git", e);
        } finally {
            Files.deleteIfExists(err);
        }
    }

    /** Kills {@code p} and every process it started (taken before the kill: orphans are no longer its descendants). */
    private static void endTree(Process p) {
        List<ProcessHandle> tree = p.descendants().toList();
        p.destroyForcibly();
        tree.forEach(ProcessHandle::destroyForcibly);
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    private static String readHead(Path file, int max) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return new String(in.readNBytes(max), StandardCharsets.UTF_8);
        }
    }

    /** Reads a process's stdout on a thread of its own, up to {@link #MAX_OUTPUT_BYTES}, so the caller can keep time. */
    private static final class BoundedReader {
        private final Process process;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final Thread thread;
        private final java.util.concurrent.CountDownLatch finished = new java.util.concurrent.CountDownLatch(1);
        private volatile boolean truncated;
        private volatile IOException failure;

        BoundedReader(Process process) {
            this.process = process;
            this.thread = new Thread(this::read, "git-stdout");
            thread.setDaemon(true); // a reader blocked on a pipe some orphan still holds must not keep the JVM up
        }

        void start() {
            thread.start();
        }

        private void read() {
            try (InputStream in = process.getInputStream()) {
                byte[] buf = new byte[65536];
                int n;
                while ((n = in.read(buf)) > 0) {
                    synchronized (out) {
                        if (out.size() + n > MAX_OUTPUT_BYTES) {
                            out.write(buf, 0, MAX_OUTPUT_BYTES - out.size());
                            truncated = true;
                            break;
                        }
                        out.write(buf, 0, n);
                    }
                }
            } catch (IOException e) {
                failure = e;
            } finally {
                finished.countDown();
            }
        }

        /** Waits until the output ends (or is cut off) or the deadline passes; false at the deadline. */
        boolean await(long deadlineNanos) throws InterruptedException {
            return finished.await(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        }

        boolean truncated() {
            return truncated;
        }

        IOException failure() {
            return failure;
        }

        int size() {
            synchronized (out) {
                return out.size();
            }
        }

        String text() {
            synchronized (out) {
                return out.toString(StandardCharsets.UTF_8);
            }
        }
    }

    private static void feed(Process p, byte[] input) throws IOException {
        if (input == null || input.length == 0) {
            p.getOutputStream().close();
            return;
        }
        Thread writer = new Thread(() -> {
            try (var stdin = p.getOutputStream()) {
                stdin.write(input);
            } catch (IOException e) {
                // git ended (or was ended) before reading everything: its exit code says why
            }
        }, "git-stdin");
        writer.setDaemon(true);
        writer.start();
    }

    /** The full commit id of {@code rev}, or null when it does not resolve to a commit here. */
    public String resolveCommit(String rev) throws IOException {
        String name = rev + "^{commit}";
        if (objects.canServe(name) && !rev.startsWith("-")) {
            try {
                ObjectInfo info = objects.info(name);
                return info == null || !"commit".equals(info.type()) ? null : info.oid();
            } catch (IOException e) {
                // the batch process is gone: one git process per question from now on
            }
        }
        Output o = run("rev-parse", "--verify", "--quiet", name);
        return o.ok() && !o.stdout().isBlank() ? o.stdout().strip() : null;
    }

    /** The object {@code name} ({@code <commit>:<path>}, a commit id, …): id, type and size; null when it does not exist. */
    public ObjectInfo info(String name) throws IOException {
        if (objects.canServe(name)) {
            try {
                return objects.info(name);
            } catch (IOException e) {
                // fall back below
            }
        }
        Output type = run("cat-file", "-t", name);
        Output size = type.ok() ? run("cat-file", "-s", name) : type;
        if (!size.ok()) {
            return null;
        }
        try {
            return new ObjectInfo(null, type.stdout().strip(), Long.parseLong(size.stdout().strip()));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** The content of the object {@code name} as UTF-8 text; null when it does not exist or has more than {@code maxBytes}. */
    public String text(String name, long maxBytes) throws IOException {
        if (objects.canServe(name)) {
            try {
                byte[] bytes = objects.contents(name, maxBytes);
                return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
            } catch (IOException e) {
                // fall back below
            }
        }
        ObjectInfo info = info(name);
        if (info == null || info.size() > maxBytes) {
            return null;
        }
        Output o = run("cat-file", info.type(), name);
        return o.ok() ? o.stdout() : null;
    }

    /** Ends the batch process, if one was started. */
    @Override
    public void close() {
        objects.close();
    }
}

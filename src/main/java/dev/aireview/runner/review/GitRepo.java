package dev.aireview.runner.review;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
    private static final long TIMEOUT_SECONDS = 120;

    private final Path dir;
    private final String git;
    private final GitObjects objects;

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
        this.dir = dir;
        this.git = gitExecutable;
        this.objects = new GitObjects(gitExecutable, dir, objectRequestTimeoutMs);
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
     * by a thread of its own so that git's output never waits for the rest of the input. Same bounds.
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
        Path err = Files.createTempFile("git-stderr", ".txt");
        try {
            pb.redirectError(err.toFile());
            pb.redirectInput(ProcessBuilder.Redirect.PIPE);
            Process p = pb.start();
            feed(p, input);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            boolean truncated = false;
            try (InputStream in = p.getInputStream()) {
                byte[] buf = new byte[65536];
                int n;
                while ((n = in.read(buf)) > 0) {
                    if (out.size() + n > MAX_OUTPUT_BYTES) {
                        out.write(buf, 0, MAX_OUTPUT_BYTES - out.size());
                        truncated = true;
                        break;
                    }
                    out.write(buf, 0, n);
                }
            }
            if (truncated) {
                p.destroyForcibly();
            }
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("git " + args[0] + " did not finish within " + TIMEOUT_SECONDS + " s");
            }
            String stderr = Files.readString(err, StandardCharsets.UTF_8);
            return new Output(truncated ? 0 : p.exitValue(), out.toString(StandardCharsets.UTF_8), stderr, truncated);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running git", e);
        } finally {
            Files.deleteIfExists(err);
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

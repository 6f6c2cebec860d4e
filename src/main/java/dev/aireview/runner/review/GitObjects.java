package dev.aireview.runner.review;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Object reads (commit lookups, sizes, blobs) of one review served by a single {@code git cat-file --batch-command}
 * process instead of a git process per question (an AI review asks two per changed file for the context). Each
 * request has a deadline (the process is killed past it and the reader falls back to one git process per
 * question, as it does when the image's git predates {@code --batch-command}, 2.36, or a name cannot be sent on one
 * line). One per {@link GitRepo}; one request at a time.
 */
final class GitObjects implements AutoCloseable {
    static final long REQUEST_TIMEOUT_MS = 30_000;

    private final long requestTimeoutMs;
    private final List<String> command;
    private Process process;
    private OutputStream requests;
    private InputStream answers;
    private boolean broken;
    private volatile long requestDeadline;

    GitObjects(String git, Path dir, long requestTimeoutMs) {
        this.requestTimeoutMs = requestTimeoutMs;
        this.command = List.of(git, "-c", "safe.directory=*", "-C", dir.toString(), "cat-file", "--batch-command");
    }

    /** Whether the batch process can serve {@code name}; false means: ask a git process of its own. */
    boolean canServe(String name) {
        return !broken && name.indexOf('\n') < 0 && name.indexOf('\r') < 0 && !name.isEmpty();
    }

    /** The object's id, type and size; null when it is missing. Throws when the batch process failed. */
    synchronized GitRepo.ObjectInfo info(String name) throws IOException {
        send("info " + name);
        GitRepo.ObjectInfo info = header(name);
        requestDeadline = 0;
        return info;
    }

    /** The object's content when it exists and has at most {@code maxBytes}; null otherwise. */
    synchronized byte[] contents(String name, long maxBytes) throws IOException {
        GitRepo.ObjectInfo info = info(name);
        if (info == null || info.size() > maxBytes) {
            return null;
        }
        send("contents " + name);
        GitRepo.ObjectInfo again = header(name);
        if (again == null || again.size() != info.size()) {
            throw fail("the object changed between two answers");
        }
        byte[] body = readExactly((int) again.size() + 1); // content, then a newline
        requestDeadline = 0;
        return java.util.Arrays.copyOf(body, body.length - 1);
    }

    private void send(String line) throws IOException {
        if (broken) {
            throw new IOException("git cat-file --batch-command is not available");
        }
        try {
            if (process == null) {
                start();
            }
            requestDeadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(requestTimeoutMs);
            requests.write((line + "\n").getBytes(StandardCharsets.UTF_8));
            requests.flush();
        } catch (IOException e) {
            throw fail("cannot send to it: " + e.getMessage());
        }
    }

    private void start() throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("GIT_TERMINAL_PROMPT", "0");
        pb.environment().put("GIT_OPTIONAL_LOCKS", "0");
        pb.environment().put("LC_ALL", "C");
        process = pb.start();
        requests = process.getOutputStream();
        answers = new BufferedInputStream(process.getInputStream(), 65536);
        Process watched = process;
        Thread watchdog = new Thread(() -> {
            while (watched.isAlive()) {
                long deadline = requestDeadline;
                if (deadline != 0 && System.nanoTime() - deadline > 0) {
                    watched.destroyForcibly(); // the reader then sees the end of the stream
                    return;
                }
                try {
                    watched.waitFor(200, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "git-objects-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
    }

    /** Reads one answer header: "oid type size", or "name missing" / "name ambiguous" (null). */
    private GitRepo.ObjectInfo header(String name) throws IOException {
        String line = readLine();
        if (line.endsWith(" missing") || line.endsWith(" ambiguous")) {
            return null;
        }
        String[] parts = line.split(" ");
        if (parts.length != 3) {
            throw fail("unexpected answer for " + name);
        }
        try {
            return new GitRepo.ObjectInfo(parts[0], parts[1], Long.parseLong(parts[2]));
        } catch (NumberFormatException e) {
            throw fail("unexpected answer for " + name);
        }
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = answers.read()) != '\n') {
            if (b < 0) {
                throw fail("it ended (git older than 2.36, or past its deadline)");
            }
            if (line.size() > 4096) {
                throw fail("an answer line longer than 4096 bytes");
            }
            line.write(b);
        }
        return line.toString(StandardCharsets.UTF_8);
    }

    private byte[] readExactly(int n) throws IOException {
        byte[] buf = answers.readNBytes(n);
        if (buf.length != n) {
            throw fail("it ended in the middle of an object");
        }
        return buf;
    }

    /** Marks the batch process unusable (callers fall back to a git process per question) and stops it. */
    private IOException fail(String why) {
        broken = true;
        close();
        return new IOException("git cat-file --batch-command: " + why);
    }

    @Override
    public synchronized void close() {
        requestDeadline = 0;
        if (process != null) {
            try {
                requests.close();
            } catch (IOException ignored) {
                // the process is ended below in any case
            }
            try {
                if (!process.waitFor(1, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
            process = null;
        }
    }
}

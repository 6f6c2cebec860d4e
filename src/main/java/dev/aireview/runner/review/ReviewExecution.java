package dev.aireview.runner.review;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aireview.runner.model.BadTaskException;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The executor side of docs/executor-contract.md: wait for the task file (a change notification, polling as the
 * fallback), read it, review, write the result file atomically (temp file + rename in the same directory).
 * Progress goes to {@code out}, one line per event; a failure to produce a result ends with one line on {@code err}.
 *
 * <p>Exit codes: {@value #EXIT_OK} a result was written (also for failed reviews and bad tasks);
 * {@value #EXIT_NO_RESULT} the result file could not be written; {@value #EXIT_NO_TASK} no task file appeared
 * within the wait timeout.
 */
public final class ReviewExecution {

    public static final int EXIT_OK = 0;
    public static final int EXIT_NO_RESULT = 3;
    public static final int EXIT_NO_TASK = 4;
    /**
     * The checkout is not what the runner made, as seen from this container ({@link CheckoutCheck}): no result is
     * written, the runner ends the task with an infrastructure failure.
     */
    public static final int EXIT_CHECKOUT_UNSEEN = 5;

    /** Where the task comes from and the result goes. */
    public record ContractPaths(Path taskFile, Path repoDir, Path resultFile) {
    }

    private final ReviewEngine engine;
    private final PrintStream out;
    private final PrintStream err;
    private final Duration pollInterval;
    private final Duration waitTimeout;

    /**
     * @param pollInterval how often to look for the task file (the contract asks for at most 50 ms)
     * @param waitTimeout  how long to wait for the task file; zero or negative waits forever
     */
    public ReviewExecution(ReviewEngine engine, PrintStream out, PrintStream err, Duration pollInterval, Duration waitTimeout) {
        this.engine = engine;
        this.out = out;
        this.err = err;
        this.pollInterval = pollInterval;
        this.waitTimeout = waitTimeout;
    }

    public int run(ContractPaths files) {
        long started = System.nanoTime();
        Path taskFile = files.taskFile();
        if (!Files.exists(taskFile)) {
            progress("waiting for " + taskFile);
            if (!waitFor(taskFile)) {
                err.println("no task file at " + taskFile + " after " + waitTimeout.toSeconds() + " s");
                return EXIT_NO_TASK;
            }
        }
        TaskResult result;
        ReviewTask task = null;
        try {
            task = readTask(taskFile);
            progress("task " + task.id() + ": " + (task.repository() == null ? "" : nz(task.repository().fullName(), task.repository().url()))
                    + " head " + (task.headSha() == null ? task.branch() : task.headSha()) + ", "
                    + (task.ai() == null ? "offline reviewer" : "AI reviewer (" + task.ai().model() + ")"));
        } catch (BadTaskException e) {
            progress("bad task: " + e.getMessage());
            result = TaskResult.failure(ErrorKind.BAD_TASK, e.getMessage());
            return write(files.resultFile(), result, started);
        } catch (IOException e) {
            progress("cannot read the task file: " + e.getMessage());
            result = TaskResult.failure(ErrorKind.BAD_TASK, "cannot read the task file: " + e.getMessage());
            return write(files.resultFile(), result, started);
        }
        String unseen = CheckoutCheck.problem(files.repoDir());
        if (unseen != null) {
            err.println("[review] the checkout is not as the runner made it, as seen from this container: " + unseen);
            return EXIT_CHECKOUT_UNSEEN;
        }
        result = engine.review(task, files.repoDir(), this::progress);
        return write(files.resultFile(), result, started);
    }

    /**
     * Waits for {@code file}: woken by the directory's change notification (inotify on Linux) as soon as the runner
     * renames it into place, and in any case looks again every {@link #pollInterval} (a file system without
     * notifications, e.g. some network or desktop-VM mounts, only costs that latency).
     */
    private boolean waitFor(Path file) {
        long deadline = waitTimeout.isZero() || waitTimeout.isNegative() ? Long.MAX_VALUE : System.nanoTime() + waitTimeout.toNanos();
        WatchService watcher = watch(file.toAbsolutePath().getParent());
        try {
            while (!Files.exists(file)) {
                if (System.nanoTime() - deadline > 0) {
                    return false;
                }
                try {
                    if (watcher == null) {
                        Thread.sleep(pollInterval.toMillis());
                    } else {
                        WatchKey key = watcher.poll(pollInterval.toMillis(), TimeUnit.MILLISECONDS);
                        if (key != null) {
                            key.pollEvents();
                            key.reset();
                        }
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return true;
        } finally {
            closeQuietly(watcher);
        }
    }

    /** A watch for entries created in {@code dir}, or null when the file system offers none (polling then). */
    private static WatchService watch(Path dir) {
        if (dir == null) {
            return null;
        }
        WatchService watcher = null;
        try {
            watcher = dir.getFileSystem().newWatchService();
            dir.register(watcher, StandardWatchEventKinds.ENTRY_CREATE);
            return watcher;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            closeQuietly(watcher);
            return null;
        }
    }

    private static void closeQuietly(WatchService watcher) {
        if (watcher != null) {
            try {
                watcher.close();
            } catch (IOException ignored) {
                // nothing to release beyond what close already did
            }
        }
    }

    /** Reads the task; a file that is still being written (not valid JSON yet) is read again for up to a second. */
    private ReviewTask readTask(Path file) throws IOException, BadTaskException {
        long deadline = System.nanoTime() + Duration.ofSeconds(1).toNanos();
        while (true) {
            byte[] bytes = Files.readAllBytes(file);
            JsonNode node;
            try {
                node = Json.mapper().readTree(bytes);
            } catch (IOException e) {
                if (System.nanoTime() - deadline < 0) {
                    sleepQuietly(pollInterval);
                    continue;
                }
                throw new BadTaskException("task file is not valid JSON: " + firstLine(e.getMessage()));
            }
            if (node == null || node.isMissingNode()) {
                if (System.nanoTime() - deadline < 0) {
                    sleepQuietly(pollInterval);
                    continue;
                }
                throw new BadTaskException("task file is empty");
            }
            return ReviewTask.fromJson(node);
        }
    }

    private int write(Path resultFile, TaskResult result, long started) {
        try {
            Path dir = resultFile.toAbsolutePath().getParent();
            Path tmp = Scratch.file(dir, "." + resultFile.getFileName() + ".", ".tmp");
            try {
                Files.write(tmp, Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(result.toJson()));
                try {
                    Files.move(tmp, resultFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, resultFile, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException | RuntimeException e) {
            err.println("cannot write the result file " + resultFile + ": " + firstLine(String.valueOf(e)));
            return EXIT_NO_RESULT;
        }
        long ms = Duration.ofNanos(System.nanoTime() - started).toMillis();
        progress(String.format(Locale.ROOT, "result written: %s, %d comment(s)%s in %d ms", result.status().wire(),
                result.comments().size(), result.error() == null ? "" : " (" + result.error().kind().wire() + ")", ms));
        return EXIT_OK;
    }

    private void progress(String line) {
        out.println("[review] " + line.replace('\n', ' ').replace('\r', ' '));
        out.flush();
    }

    private static void sleepQuietly(Duration d) {
        try {
            Thread.sleep(Math.max(1, d.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** The repository's name, or its URL without any user info (credentials) in it. */
    private static String nz(String fullName, String url) {
        return fullName != null ? fullName : url == null ? "" : url.replaceAll("//[^/@]*@", "//");
    }
}

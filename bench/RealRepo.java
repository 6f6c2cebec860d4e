import dev.aireview.runner.config.DockerConfig;
import dev.aireview.runner.config.FreeDiskThreshold;
import dev.aireview.runner.config.PullPolicy;
import dev.aireview.runner.docker.DockerTaskExecutor;
import dev.aireview.runner.docker.Workspaces;
import dev.aireview.runner.execution.CancelSignal;
import dev.aireview.runner.execution.TaskContext;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.LogStream;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * bench/run.sh --real-repo DIR: a real-size repository served by git daemon on 127.0.0.1, reviewed by the Docker
 * executor with its repository cache (first review, a repeat review of another commit, the same commit again) between
 * two raw clone+review pairs (bench/raw-pair.sh) of the same commit in the same run. A review is timed from the
 * executor's start to the result handed over ({@link TaskContext#report}, before the clean-up); for each also the
 * review end (the {@code submitting} phase: the review container has exited) → result gap, and the task workspace's
 * disk use ({@code du}) when the result is handed over. Prints a table of seconds and ratios against the mean raw
 * pair. Inputs: key=value arguments (image url branch head base head2 base2 ws rawPair).
 */
public class RealRepo {
    public static void main(String[] argv) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (String s : argv) {
            int eq = s.indexOf('=');
            a.put(s.substring(0, eq), s.substring(eq + 1));
        }
        Path ws = Path.of(a.get("ws"));
        Files.createDirectories(ws);
        double[] raw1 = raw(a, ws);
        System.err.printf("[real] raw pair 1: %.1f s to the result, %.1f s with the deletion of its workspace%n", raw1[0], raw1[1]);
        DockerConfig cfg = new DockerConfig("unix:///var/run/docker.sock", a.get("image"), PullPolicy.NEVER, 2L << 30, 1.0, "host",
                ws, Duration.ofSeconds(900), 0, 50, 512, "10001:10001", Duration.ofSeconds(10), "bench-real",
                1L << 20, 8L << 30, FreeDiskThreshold.OFF, null, null, 5L << 30);
        Review first;
        Review other;
        Review same;
        long cacheBytes;
        try (DockerTaskExecutor exec = new DockerTaskExecutor(cfg)) {
            exec.start();
            first = review(exec, a, ws, a.get("head"), a.get("base"), "first review");
            other = review(exec, a, ws, a.get("head2"), a.get("base2"), "repeat review, another commit");
            same = review(exec, a, ws, a.get("head"), a.get("base"), "repeat review, same commit");
            cacheBytes = du(ws.resolve("bench-real").resolve(Workspaces.REPO_CACHE_DIR));
        }
        double[] raw2 = raw(a, ws);
        System.err.printf("[real] raw pair 2: %.1f s to the result, %.1f s with the deletion of its workspace%n", raw2[0], raw2[1]);
        double raw = (raw1[0] + raw2[0]) / 2;
        System.out.printf("| figure | start → result (s) | × raw (mean %.1f s) | review end → result | task workspace disk at the result | goal |%n"
                + "|---|---|---|---|---|---|%n", raw);
        System.out.printf("| raw `docker run` clone (depth 50) + review, two runs, to the result | %.1f, %.1f | 1.00 | | | |%n", raw1[0], raw2[0]);
        System.out.printf("|   the same two runs with the deletion of their workspace | %.1f, %.1f | %.2f | | | |%n", raw1[1], raw2[1],
                (raw1[1] + raw2[1]) / 2 / raw);
        row("runner, first review (cache empty)", first, raw, "≤ 1.0 × raw");
        row("runner, repeat review, another commit", other, raw, "≤ 0.15 × raw, workspace ≤ 20 MB");
        row("runner, repeat review, same commit again", same, raw, "≤ 0.15 × raw, workspace ≤ 20 MB");
        System.out.printf("| repository cache size after the three reviews | %d MB | | | | |%n", cacheBytes >> 20);
        System.out.println("(review end → result goal: ≤ 1 s)");
    }

    /** One review: start → result handed over, review end → result handed over, workspace disk then, clean-up after. */
    record Review(double seconds, long gapMs, long workspaceBytes, double cleanupSeconds) {
    }

    private static void row(String what, Review r, double raw, String goal) {
        System.out.printf("| %s | %.1f | %.2f | %d ms | %.1f MB | %s |%n", what, r.seconds, r.seconds / raw, r.gapMs,
                r.workspaceBytes / 1048576.0, goal);
    }

    /** One raw pair: seconds to its result (result.json read), and to its end (its workspace deleted). */
    private static double[] raw(Map<String, String> a, Path ws) throws Exception {
        Path mark = Files.createTempFile("raw-mark", ".txt");
        double start = System.currentTimeMillis() / 1e3;
        long t0 = System.nanoTime();
        ProcessBuilder pb = new ProcessBuilder("bash", a.get("rawPair")).inheritIO();
        pb.environment().putAll(Map.of("BENCH_IMAGE", a.get("image"), "BENCH_GIT_URL", a.get("url"), "BENCH_BRANCH", a.get("branch"),
                "BENCH_HEAD", a.get("head"), "BENCH_WS_BASE", ws.toString(), "BENCH_RAW_MARK", mark.toString()));
        if (pb.start().waitFor() != 0) {
            throw new IllegalStateException("the raw pair failed");
        }
        double total = (System.nanoTime() - t0) / 1e9;
        double toResult = Double.parseDouble(Files.readString(mark).strip()) - start;
        Files.delete(mark);
        return new double[] {toResult, total};
    }

    private static Review review(DockerTaskExecutor exec, Map<String, String> a, Path ws, String head, String base, String what)
            throws Exception {
        String id = "real-" + System.nanoTime();
        Path workspace = new Workspaces(ws, "bench-real").workspaceOf(id);
        String json = String.format("{\"id\":\"%s\",\"repository\":{\"url\":\"%s\"},\"branch\":\"%s\",\"headSha\":\"%s\",\"baseSha\":\"%s\",\"files\":[]}",
                id, a.get("url"), a.get("branch"), head, base);
        ReviewTask task = ReviewTask.fromJson(Json.mapper().readTree(json));
        Map<TaskPhase, Long> at = new HashMap<>();
        long[] reported = {0, 0}; // when the result was handed over; the workspace's disk use then
        CancelSignal cancel = new CancelSignal();
        long t0 = System.nanoTime();
        TaskResult r = exec.execute(task, new TaskContext() {
            public void phase(TaskPhase phase, String message) {
                at.put(phase, System.nanoTime());
            }

            public void log(LogStream stream, String line) {
                if (stream == LogStream.SYSTEM || line.contains("checked out") || line.contains("clone failed")) {
                    System.err.println("[real]   " + line);
                }
            }

            public CancelSignal cancel() {
                return cancel;
            }

            public Duration timeout() {
                return Duration.ofSeconds(900);
            }

            public void report(TaskResult result) {
                reported[0] = System.nanoTime();
                try {
                    reported[1] = du(workspace); // the clean-up waits for this; it is not part of any time measured
                } catch (Exception e) {
                    reported[1] = -1;
                }
            }
        });
        long end = System.nanoTime();
        if (r.error() != null) {
            throw new IllegalStateException(what + " failed: " + r.error().kind() + " " + r.error().message());
        }
        if (reported[0] == 0 || at.get(TaskPhase.SUBMITTING) == null) {
            throw new IllegalStateException(what + ": no result handed over before the clean-up, or no submitting phase");
        }
        Long cloning = at.get(TaskPhase.CLONING);
        Long reviewing = at.get(TaskPhase.REVIEWING);
        Review rv = new Review((reported[0] - t0) / 1e9, (reported[0] - at.get(TaskPhase.SUBMITTING)) / 1_000_000,
                reported[1], (end - reported[0]) / 1e9);
        System.err.printf("[real] %s: %.1f s to the result (%s; preparing %.1f s, cloning %.1f s, reviewing %.1f s; review end"
                        + " -> result %d ms; workspace %.1f MB; clean-up after it %.1f s)%n", what, rv.seconds, r.status(),
                cloning == null ? -1.0 : (cloning - t0) / 1e9,
                cloning == null || reviewing == null ? -1.0 : (reviewing - cloning) / 1e9,
                reviewing == null ? -1.0 : (at.get(TaskPhase.SUBMITTING) - reviewing) / 1e9, rv.gapMs,
                rv.workspaceBytes / 1048576.0, rv.cleanupSeconds);
        return rv;
    }

    /** Disk use of a directory tree in bytes (du: allocated blocks, hard links once), 0 when it is missing. */
    private static long du(Path dir) throws Exception {
        if (!Files.exists(dir)) {
            return 0;
        }
        Process p = new ProcessBuilder("du", "-sk", dir.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
        if (p.waitFor() != 0 || out.isEmpty()) {
            throw new IllegalStateException("du " + dir + " failed");
        }
        return Long.parseLong(out.split("\\s+")[0]) * 1024;
    }
}

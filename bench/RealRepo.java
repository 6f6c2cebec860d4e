import dev.aireview.runner.config.DockerConfig;
import dev.aireview.runner.config.FreeDiskThreshold;
import dev.aireview.runner.config.PullPolicy;
import dev.aireview.runner.docker.DockerTaskExecutor;
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
 * two raw clone+review pairs (bench/raw-pair.sh) of the same commit in the same run. Prints a table of seconds and
 * ratios against the mean raw pair. Inputs: key=value arguments (image url branch head base head2 base2 ws rawPair).
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
        double raw1 = raw(a, ws);
        System.err.printf("[real] raw pair 1: %.1f s%n", raw1);
        DockerConfig cfg = new DockerConfig("unix:///var/run/docker.sock", a.get("image"), PullPolicy.NEVER, 2L << 30, 1.0, "host",
                ws, Duration.ofSeconds(900), 0, 50, 512, "10001:10001", Duration.ofSeconds(10), "bench-real",
                1L << 20, 8L << 30, FreeDiskThreshold.OFF, null, null, 5L << 30);
        double first;
        double other;
        double same;
        long cacheBytes;
        try (DockerTaskExecutor exec = new DockerTaskExecutor(cfg)) {
            exec.start();
            first = review(exec, a, a.get("head"), a.get("base"), "first review");
            other = review(exec, a, a.get("head2"), a.get("base2"), "repeat review, another commit");
            same = review(exec, a, a.get("head"), a.get("base"), "repeat review, same commit");
            cacheBytes = du(ws.resolve("bench-real").resolve("cache"));
        }
        double raw2 = raw(a, ws);
        System.err.printf("[real] raw pair 2: %.1f s%n", raw2);
        double raw = (raw1 + raw2) / 2;
        System.out.printf("| figure | seconds | × raw (mean %.1f s) |%n|---|---|---|%n", raw);
        System.out.printf("| raw `docker run` clone (depth 50) + review, two runs | %.1f, %.1f | 1.00 |%n", raw1, raw2);
        System.out.printf("| runner, first review (cache empty) | %.1f | %.2f |%n", first, first / raw);
        System.out.printf("| runner, repeat review, another commit | %.1f | %.2f |%n", other, other / raw);
        System.out.printf("| runner, repeat review, same commit | %.1f | %.2f |%n", same, same / raw);
        System.out.printf("| repository cache size after the three reviews | %d MB | |%n", cacheBytes >> 20);
    }

    private static double raw(Map<String, String> a, Path ws) throws Exception {
        long t0 = System.nanoTime();
        ProcessBuilder pb = new ProcessBuilder("bash", a.get("rawPair")).inheritIO();
        pb.environment().putAll(Map.of("BENCH_IMAGE", a.get("image"), "BENCH_GIT_URL", a.get("url"), "BENCH_BRANCH", a.get("branch"),
                "BENCH_HEAD", a.get("head"), "BENCH_WS_BASE", ws.toString()));
        if (pb.start().waitFor() != 0) {
            throw new IllegalStateException("the raw pair failed");
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    private static double review(DockerTaskExecutor exec, Map<String, String> a, String head, String base, String what) throws Exception {
        String json = String.format("{\"id\":\"real-%d\",\"repository\":{\"url\":\"%s\"},\"branch\":\"%s\",\"headSha\":\"%s\",\"baseSha\":\"%s\",\"files\":[]}",
                System.nanoTime(), a.get("url"), a.get("branch"), head, base);
        ReviewTask task = ReviewTask.fromJson(Json.mapper().readTree(json));
        Map<TaskPhase, Long> at = new HashMap<>();
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
        });
        double s = (System.nanoTime() - t0) / 1e9;
        Long cloning = at.get(TaskPhase.CLONING);
        Long reviewing = at.get(TaskPhase.REVIEWING);
        System.err.printf("[real] %s: %.1f s (%s; preparing+cloning %.1f s)%n", what, s, r.status(),
                cloning == null || reviewing == null ? -1.0 : (reviewing - cloning) / 1e9);
        if (r.error() != null) {
            throw new IllegalStateException(what + " failed: " + r.error().kind() + " " + r.error().message());
        }
        return s;
    }

    private static long du(Path dir) throws Exception {
        if (!Files.exists(dir)) {
            return 0;
        }
        try (var files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }
}

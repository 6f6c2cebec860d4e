import dev.aireview.runner.config.DockerConfig;
import dev.aireview.runner.config.PullPolicy;
import dev.aireview.runner.docker.DockerTaskExecutor;
import dev.aireview.runner.execution.CancelSignal;
import dev.aireview.runner.execution.TaskContext;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.LogStream;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Claim → "review running" with the Docker executor, cold and with a pre-warmed pool, against a plain
 * {@code docker run} of the same image. Not part of the build: run through bench/run.sh.
 *
 * <p>args: dockerHost image gitUrl branch headSha rounds workspaceBase
 */
public final class PoolBenchmark {

    /** Records when the review phase begins and when the container's first "review running" line arrives. */
    static final class TimingContext implements TaskContext {
        final long claimNanos = System.nanoTime();
        volatile long reviewingNanos = -1;
        volatile long runningNanos = -1;
        private final CancelSignal cancel = new CancelSignal();

        @Override
        public void phase(TaskPhase phase, String message) {
            if (phase == TaskPhase.REVIEWING && reviewingNanos < 0) {
                reviewingNanos = System.nanoTime();
            }
        }

        @Override
        public void log(LogStream stream, String line) {
            if (runningNanos < 0 && line.startsWith("review running")) {
                runningNanos = System.nanoTime();
            }
        }

        @Override
        public CancelSignal cancel() {
            return cancel;
        }

        @Override
        public Duration timeout() {
            return Duration.ofSeconds(120);
        }
    }

    public static void main(String[] args) throws Exception {
        String host = args[0];
        String image = args[1];
        String url = args[2];
        String branch = args[3];
        String head = args[4];
        int rounds = Integer.parseInt(args[5]);
        Path base = Path.of(args[6]);
        String tag = UUID.randomUUID().toString().substring(0, 6);

        DockerConfig cold = config(host, image, base, "bench-cold-" + tag, 0);
        DockerConfig pooled = config(host, image, base, "bench-pool-" + tag, 1);
        List<double[]> coldTimes = new ArrayList<>();
        List<double[]> poolTimes = new ArrayList<>();
        List<Double> rawTimes = new ArrayList<>();
        try (DockerTaskExecutor coldEx = new DockerTaskExecutor(cold); DockerTaskExecutor poolEx = new DockerTaskExecutor(pooled)) {
            coldEx.start();
            poolEx.start();
            // warm-up (not counted): page cache, image layers, git daemon
            runTask(coldEx, url, branch, head);
            awaitPool(poolEx);
            runTask(poolEx, url, branch, head);
            rawDockerRun(image, base);
            for (int i = 0; i < rounds; i++) {
                coldTimes.add(runTask(coldEx, url, branch, head));
                awaitPool(poolEx);
                poolTimes.add(runTask(poolEx, url, branch, head));
                rawTimes.add(rawDockerRun(image, base));
                System.out.printf("round %d: cold %.0f ms (container part %.0f) | pooled %.0f ms (container part %.0f) | docker run %.0f ms%n",
                        i + 1, coldTimes.get(i)[0], coldTimes.get(i)[1], poolTimes.get(i)[0], poolTimes.get(i)[1], rawTimes.get(i));
            }
        }
        double raw = median(rawTimes);
        double coldTotal = median(coldTimes.stream().map(t -> t[0]).toList());
        double coldPart = median(coldTimes.stream().map(t -> t[1]).toList());
        double poolTotal = median(poolTimes.stream().map(t -> t[0]).toList());
        double poolPart = median(poolTimes.stream().map(t -> t[1]).toList());
        System.out.printf("%nmedians over %d rounds (ms):%n", rounds);
        System.out.printf("| path | claim -> review running | ratio vs docker run | task.json -> review running | ratio vs docker run |%n");
        System.out.printf("|---|---|---|---|---|%n");
        System.out.printf("| plain `docker run` | - | - | %.0f | 1.00 |%n", raw);
        System.out.printf("| executor, cold | %.0f | %.2f | %.0f | %.2f |%n", coldTotal, coldTotal / raw, coldPart, coldPart / raw);
        System.out.printf("| executor, pooled | %.0f | %.2f | %.0f | %.2f |%n", poolTotal, poolTotal / raw, poolPart, poolPart / raw);
    }

    private static DockerConfig config(String host, String image, Path base, String runner, int pool) {
        return new DockerConfig(host, image, PullPolicy.NEVER, 512L * 1024 * 1024, 1.0, "host", base,
                Duration.ofSeconds(120), pool, 1, 256, "10001:10001", Duration.ofSeconds(2), runner);
    }

    private static void awaitPool(DockerTaskExecutor ex) throws InterruptedException {
        long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (ex.readyPoolContainers() < 1) {
            if (System.nanoTime() > until) {
                throw new IllegalStateException("pool did not refill within 60 s");
            }
            Thread.sleep(20);
        }
    }

    /** {claim → review running, review phase start → review running} in ms. */
    private static double[] runTask(DockerTaskExecutor ex, String url, String branch, String head) throws Exception {
        var node = Json.mapper().createObjectNode();
        node.put("id", "bench-" + UUID.randomUUID().toString().substring(0, 8));
        node.putObject("repository").put("url", url);
        node.put("branch", branch);
        node.put("headSha", head);
        ReviewTask task = ReviewTask.fromJson(node);
        TimingContext ctx = new TimingContext();
        TaskResult result = ex.execute(task, ctx);
        if (ctx.runningNanos < 0) {
            throw new IllegalStateException("no 'review running' line; result " + result);
        }
        return new double[]{(ctx.runningNanos - ctx.claimNanos) / 1e6, (ctx.runningNanos - ctx.reviewingNanos) / 1e6};
    }

    /** A plain `docker run --rm` of the image with a prepared workspace: invocation → first "review running" line. */
    private static double rawDockerRun(String image, Path base) throws Exception {
        Path ws = base.resolve("bench-raw-" + UUID.randomUUID().toString().substring(0, 8));
        Files.createDirectories(ws);
        Files.setPosixFilePermissions(ws, PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.writeString(ws.resolve("task.json"), "{\"id\":\"raw\"}");
        try {
            long start = System.nanoTime();
            Process p = new ProcessBuilder("docker", "run", "--rm", "-v", ws + ":/workspace", image)
                    .redirectErrorStream(true).start();
            long running = -1;
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (running < 0 && line.startsWith("review running")) {
                        running = System.nanoTime();
                    }
                }
            }
            p.waitFor();
            if (running < 0) {
                throw new IllegalStateException("docker run printed no 'review running' line");
            }
            return (running - start) / 1e6;
        } finally {
            try (var walk = Files.walk(ws)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(Double::compare);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}

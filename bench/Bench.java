import dev.aireview.runner.devserver.DevServer;
import dev.aireview.runner.devserver.DevServerOptions;
import dev.aireview.runner.devserver.NewTask;
import dev.aireview.runner.devserver.PhaseChange;
import dev.aireview.runner.devserver.RunnerSnapshot;
import dev.aireview.runner.devserver.TaskSnapshot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The whole table of issue 11 in one run (driven by bench/run.sh, which sets up the git daemon and the image):
 * runner processes (`java <flags> -jar ai-review-runner.jar run`) against an in-process dev server on 127.0.0.1,
 * timed from the server's claim to the result it receives, against the same work done by bench/raw-pair.sh (two
 * plain `docker run` commands) in the same run, interleaved. Bounded: every wait has a deadline, every count is fixed.
 *
 * <p>Arguments are key=value pairs (see run.sh). Writes a markdown report to {@code out}.
 */
public final class Bench {
    private static final String TOKEN = "bench-token";
    private final Map<String, String> a;
    private final Path jar;
    private final Path wsBase;
    private final boolean quick;
    private final int rounds;
    private final List<Process> started = new ArrayList<>();
    private DevServer server;

    Bench(Map<String, String> args) {
        this.a = args;
        this.jar = Path.of(args.get("jar"));
        this.wsBase = Path.of(args.get("ws"));
        this.quick = Boolean.parseBoolean(args.getOrDefault("quick", "false"));
        this.rounds = Integer.parseInt(args.getOrDefault("rounds", quick ? "1" : "7"));
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> args = new HashMap<>();
        for (String s : argv) {
            int eq = s.indexOf('=');
            args.put(s.substring(0, eq), s.substring(eq + 1));
        }
        Bench b = new Bench(args);
        try {
            b.run();
        } finally {
            b.stopAll();
        }
    }

    /** min, median, max of a sample. */
    record Stat(double min, double median, double max, int n) {
        static Stat of(List<? extends Number> xs) {
            double[] v = xs.stream().mapToDouble(Number::doubleValue).sorted().toArray();
            if (v.length == 0) {
                return new Stat(Double.NaN, Double.NaN, Double.NaN, 0);
            }
            double med = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
            return new Stat(v[0], med, v[v.length - 1], v.length);
        }

        String fmt(String unit) {
            return String.format(Locale.ROOT, "%.0f %s (%.0f–%.0f, n=%d)", median, unit, min, max, n);
        }
    }

    void run() throws Exception {
        Files.createDirectories(wsBase);
        server = DevServer.start(DevServerOptions.builder(TOKEN).port(0).bindAddress("127.0.0.1")
                .heartbeatTimeout(Duration.ofSeconds(60)).build());
        if (a.containsKey("classlist")) {
            writeClassList(Path.of(a.get("classlist")));
            return;
        }
        if ("throughput".equals(a.get("only"))) {
            throughputProfile();
            return;
        }
        if ("pooled".equals(a.get("only"))) {
            timeline("bench-pool", 1);
            return;
        }
        if ("cold".equals(a.get("only"))) {
            timeline("bench-cold", 0);
            return;
        }
        if ("pickup".equals(a.get("only"))) {
            pickupProfile();
            return;
        }
        List<String> shipped = shippedFlags();
        Map<String, String> shippedEnv = shippedEnv();
        int tasks = quick ? 4 : 16;
        int throughputRounds = quick ? 1 : 3;
        long t0 = System.nanoTime();

        // 1. cold, 1 slot, interleaved with the raw pair
        List<Long> cold = new ArrayList<>();
        List<Long> raw = new ArrayList<>();
        Process coldRunner = startRunner("bench-cold", 1, 0, shipped, shippedEnv);
        task(coldRunner); // warm-up round, not counted
        rawPair();
        for (int i = 0; i < rounds; i++) {
            cold.add(task(coldRunner).claimToResultMs);
            raw.add(rawPair());
        }
        stop(coldRunner);

        // 2. pooled (DOCKER_POOL_SIZE=1), 1 slot, the pool warm before every task
        List<Long> pooled = new ArrayList<>();
        List<Long> pooledClone = new ArrayList<>();
        List<Long> pooledReview = new ArrayList<>();
        Process poolRunner = startRunner("bench-pool", 1, 1, shipped, shippedEnv);
        awaitWarmPool("bench-pool");
        task(poolRunner);
        for (int i = 0; i < rounds; i++) {
            awaitWarmPool("bench-pool");
            Timed t = task(poolRunner);
            pooled.add(t.claimToResultMs);
            pooledClone.add(t.cloneMs);
            pooledReview.add(t.reviewMs);
            // the raw pair on the machine the pooled task had: the replacement's warm-up over, not beside it
            awaitWarmPool("bench-pool");
            raw.add(rawPair());
        }
        // 2b. pooled back to back: each task enqueued as soon as the previous one's result is in, the pool not waited for
        List<Long> backToBack = new ArrayList<>();
        for (int i = 0; i < rounds; i++) {
            backToBack.add(task(poolRunner).claimToResultMs);
        }
        stop(poolRunner);

        // 3. throughput, 4 slots, vs xargs -P 4 of the raw pair; RSS idle before, max RSS while busy
        Process busyRunner = startRunner("bench-busy", 4, 0, shipped, shippedEnv);
        List<Long> idleShipped = idleRss(busyRunner);
        List<Long> tput = new ArrayList<>();
        List<Long> tputRaw = new ArrayList<>();
        List<Long> busyShipped = new ArrayList<>();
        batch(busyRunner, tasks); // warm-up batch
        List<Double> cpuRunnerPath = new ArrayList<>(); // machine CPU per task, ms
        List<Double> cpuRunnerJvm = new ArrayList<>();
        List<Double> cpuRawPath = new ArrayList<>();
        for (int i = 0; i < throughputRounds; i++) {
            AtomicLong maxRss = new AtomicLong();
            Cpu c0 = cpuNow(busyRunner);
            tput.add(withRssSampling(busyRunner, maxRss, () -> batch(busyRunner, tasks)));
            Cpu c1 = cpuNow(busyRunner);
            busyShipped.add(maxRss.get());
            tputRaw.add(xargsRaw(tasks));
            Cpu c2 = cpuNow(busyRunner);
            cpuRunnerPath.add(c1.minus(c0).machine() * 1000 / tasks);
            cpuRunnerJvm.add(c1.minus(c0).runner() * 1000 / tasks);
            cpuRawPath.add(c2.minus(c1).machine() * 1000 / tasks);
        }
        stop(busyRunner);

        // 4. the same runner without any flag: idle and busy RSS only
        Process plain = startRunner("bench-plain", 4, 0, List.of(), Map.of());
        List<Long> idlePlain = idleRss(plain);
        AtomicLong plainBusy = new AtomicLong();
        withRssSampling(plain, plainBusy, () -> batch(plain, tasks));
        stop(plain);

        long imageBytes = Long.parseLong(exec(List.of("docker", "image", "inspect", "-f", "{{.Size}}", a.get("image"))).strip());
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);

        Stat sCold = Stat.of(cold);
        Stat sRaw = Stat.of(raw);
        Stat sPool = Stat.of(pooled);
        Stat sTput = Stat.of(tput);
        Stat sTputRaw = Stat.of(tputRaw);
        double tasksPerMin = tasks * 60_000.0 / sTput.median;
        double rawPerMin = tasks * 60_000.0 / sTputRaw.median;
        StringBuilder md = new StringBuilder();
        md.append(String.format(Locale.ROOT, "Measured %s on %s (%d cores, load average before: %s), Docker %s, %s; "
                        + "%d rounds (throughput: %d rounds of %d tasks), %d s in all.%n%n",
                DateTimeFormatter.ISO_LOCAL_DATE_TIME.format(Instant.now().atOffset(ZoneOffset.UTC).withNano(0)) + "Z",
                a.get("machine"), Runtime.getRuntime().availableProcessors(), a.get("load"), a.get("engine"),
                a.get("java"), rounds, throughputRounds, tasks, seconds));
        md.append("| figure | measured: median (min–max) | ratio (medians) | goal |\n|---|---|---|---|\n");
        md.append(row("raw pair (`docker run` clone, then `docker run` review)", sRaw.fmt("ms"), "1.00", "—"));
        md.append(row("cold, 1 slot, claim → result", sCold.fmt("ms"), ratio(sCold.median, sRaw.median) + " × raw", "≤ 1.0 × raw"));
        md.append(row("`DOCKER_POOL_SIZE=1`, claim → result", sPool.fmt("ms"), ratio(sPool.median, sRaw.median) + " × raw", "≤ 0.35 × raw"));
        md.append(row("  of which clone (cloning → reviewing)", Stat.of(pooledClone).fmt("ms"), "", ""));
        md.append(row("  of which review (reviewing → submitting)", Stat.of(pooledReview).fmt("ms"), "", ""));
        Stat sBack = Stat.of(backToBack);
        md.append(row("`DOCKER_POOL_SIZE=1`, back to back (enqueued at the previous result), claim → result", sBack.fmt("ms"),
                ratio(sBack.median, sRaw.median) + " × raw", "≤ 0.5 × raw"));
        md.append(row("throughput, " + tasks + " tasks at 4 slots (first claim → last result)", sTput.fmt("ms")
                + String.format(Locale.ROOT, " = %.1f tasks/min", tasksPerMin), ratio(tasksPerMin, rawPerMin) + " × `xargs -P 4`", "≥ 1.0 ×"));
        md.append(row("  `xargs -P 4` of the raw pair, " + tasks + " tasks", sTputRaw.fmt("ms")
                + String.format(Locale.ROOT, " = %.1f tasks/min", rawPerMin), "1.00", ""));
        md.append(row("  machine CPU per task, runner (of which its JVM)", String.format(Locale.ROOT, "%.0f ms (%.0f ms)",
                Stat.of(cpuRunnerPath).median, Stat.of(cpuRunnerJvm).median), ratio(Stat.of(cpuRunnerPath).median,
                Stat.of(cpuRawPath).median) + " × raw", ""));
        md.append(row("  machine CPU per task, `xargs -P 4` of the raw pair", String.format(Locale.ROOT, "%.0f ms",
                Stat.of(cpuRawPath).median), "1.00", ""));
        md.append(row("runner RSS idle, as shipped", Stat.of(idleShipped).fmt("MB"), "", "≤ 80 MB"));
        md.append(row("runner RSS, 4 busy slots, as shipped (max while busy)", Stat.of(busyShipped).fmt("MB"), "", "≤ 120 MB"));
        md.append(row("runner RSS idle, `java -jar` without flags", Stat.of(idlePlain).fmt("MB"), "", "—"));
        md.append(row("runner RSS, 4 busy slots, `java -jar` without flags (max)", plainBusy.get() + " MB", "", "—"));
        md.append(row("executor image size", String.format(Locale.ROOT, "%.0f MB", imageBytes / 1e6), "", "≤ 300 MB"));
        md.append("\nPer round (ms): cold ").append(cold).append("; pooled ").append(pooled)
                .append("; pooled back to back ").append(backToBack).append("; raw pair ").append(raw)
                .append("; throughput ").append(tput).append(" vs xargs ").append(tputRaw).append(".\n");
        Files.writeString(Path.of(a.get("out")), md.toString(), StandardCharsets.UTF_8);
        System.out.print(quick ? "[bench] quick run: every figure measured once, table in " + a.get("out") + "\n" : md);
    }

    /**
     * The classes a runner loads from start through idle polling, cold and pooled tasks and a 4-slot batch, for the
     * runner's class-data-sharing archive (Dockerfile.runner dumps it from this list).
     */
    private void writeClassList(Path out) throws Exception {
        Path tmp = wsBase.resolve("runner.classlist");
        Process p = startRunner("bench-cds", 4, 1, List.of("-XX:+UseSerialGC", "-XX:DumpLoadedClassList=" + tmp), Map.of());
        awaitWarmPool("bench-cds");
        task(p);
        batch(p, 4);
        Thread.sleep(20_000); // idle: heartbeats and polls after the tasks
        stop(p);
        List<String> lines = Files.readAllLines(tmp);
        Files.write(out, lines);
        System.out.println("[bench] " + lines.size() + " classes written to " + out);
    }

    private static String row(String figure, String value, String ratio, String goal) {
        return "| " + figure + " | " + value + " | " + ratio + " | " + goal + " |\n";
    }

    private static String ratio(double x, double y) {
        return String.format(Locale.ROOT, "%.2f", x / y);
    }

    // --- runner processes --------------------------------------------------------------------------------------

    private Process startRunner(String name, int slots, int pool, List<String> flags, Map<String, String> extraEnv)
            throws IOException, InterruptedException, java.util.concurrent.TimeoutException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(flags);
        String extra = System.getenv("BENCH_RUNNER_FLAGS"); // e.g. a flight recording while profiling
        if (extra != null && !extra.isBlank()) {
            cmd.addAll(Arrays.asList(extra.trim().split("\\s+")));
        }
        cmd.addAll(List.of("-jar", jar.toString(), "run"));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(wsBase.resolve(name + ".log").toFile());
        Map<String, String> env = pb.environment();
        env.putAll(extraEnv);
        env.put("RUNNER_SERVER_URL", server.baseUrl());
        env.put("RUNNER_TOKEN", TOKEN);
        env.put("RUNNER_NAME", name);
        env.put("RUNNER_MAX_CONCURRENT_JOBS", Integer.toString(slots));
        env.put("DOCKER_POOL_SIZE", Integer.toString(pool));
        env.put("DOCKER_EXECUTOR_IMAGE", a.get("image"));
        env.put("DOCKER_PULL_POLICY", "never");
        env.put("DOCKER_NETWORK_MODE", "host");
        env.put("DOCKER_WORKSPACE_BASE", wsBase.resolve("runners").toString());
        env.put("LOG_LEVEL", System.getenv().getOrDefault("BENCH_LOG_LEVEL", "WARN")); // DEBUG: the runner's own steps, in the log
        Process p = pb.start();
        started.add(p);
        server.awaitRunners(rs -> rs.stream().anyMatch(r -> r.name().equals(name) && r.polls() > 0), Duration.ofSeconds(120));
        return p;
    }

    private void stop(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private void stopAll() {
        for (Process p : started) {
            if (p.isAlive()) {
                try {
                    stop(p);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        if (server != null) {
            server.close();
        }
    }

    private static long rssMb(Process p) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(p.pid()), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
                }
            }
        } catch (IOException ignored) {
            // process gone
        }
        return 0;
    }

    /** RSS of an idle runner: after a settling period (start-up garbage collected, a few polls and heartbeats). */
    private List<Long> idleRss(Process p) throws InterruptedException {
        Thread.sleep(quick ? 2_000 : 20_000); // a measurement interval, not a synchronisation
        List<Long> xs = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            xs.add(rssMb(p));
            Thread.sleep(quick ? 200 : 1_000);
        }
        return xs;
    }

    private static long withRssSampling(Process p, AtomicLong max, Supplier<Long> work) throws InterruptedException {
        Thread sampler = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                max.accumulateAndGet(rssMb(p), Math::max);
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "rss-sampler");
        sampler.start();
        try {
            return work.get();
        } finally {
            sampler.interrupt();
            sampler.join();
        }
    }

    // --- tasks -------------------------------------------------------------------------------------------------

    record Timed(long claimToResultMs, long cloneMs, long reviewMs) {
    }

    private String enqueue() {
        return server.enqueue(NewTask.forRepository(a.get("url")).branch(a.get("branch")).headSha(a.get("head")).build());
    }

    private Timed task(Process runner) throws Exception {
        String id = enqueue();
        TaskSnapshot t = server.awaitTerminal(id, Duration.ofMinutes(3));
        if (!"completed".equals(t.resultStatus())) {
            throw new IllegalStateException("task " + id + " ended " + t.resultStatus() + ": " + t.result());
        }
        return new Timed(Duration.between(t.claimedAt(), t.finishedAt()).toMillis(),
                between(t, "cloning", "reviewing"), between(t, "reviewing", "submitting"));
    }

    /**
     * Pickup with 2 slots and tasks that fail fast (a repository the git daemon does not have: the clone fails),
     * arriving every 0.4–0.9 s (seeded): enqueue → claim for each task, split by whether a slot was free when it
     * was enqueued (fewer than 2 of the runner's tasks claimed and not finished), and claim → result of the failing
     * task against a raw `docker run` of the same failing clone. Prints; touches nothing.
     */
    private void pickupProfile() throws Exception {
        Process runner = startRunner("bench-pickup", 2, 0, shippedFlags(), shippedEnv());
        String missing = a.get("url").replace("bench.git", "missing-" + System.nanoTime() + ".git");
        java.util.Random random = new java.util.Random(18);
        int n = Math.max(8, rounds * 4);
        failing(missing); // warm-up, not counted
        List<String> ids = new ArrayList<>();
        List<Boolean> slotFree = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            long busy = ids.stream().map(server::task).filter(t -> t.claimedAt() != null && t.finishedAt() == null).count()
                    + ids.stream().map(server::task).filter(t -> t.claimedAt() == null).count();
            slotFree.add(busy < 2);
            ids.add(server.enqueue(NewTask.forRepository(missing).branch(a.get("branch")).headSha(a.get("head")).build()));
            Thread.sleep(400 + random.nextInt(501)); // the arrival process being measured, not a wait for a result
        }
        List<Long> free = new ArrayList<>();
        List<Long> all = new ArrayList<>();
        List<Long> failMs = new ArrayList<>();
        List<Long> toCloning = new ArrayList<>();
        List<Long> cloningToResult = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            TaskSnapshot t = server.awaitTerminal(ids.get(i), Duration.ofMinutes(3));
            long pickup = Duration.between(t.enqueuedAt(), t.claimedAt()).toMillis();
            all.add(pickup);
            if (slotFree.get(i)) {
                free.add(pickup);
            }
            failMs.add(Duration.between(t.claimedAt(), t.finishedAt()).toMillis());
            Instant cloning = stamped(t, "cloning");
            if (cloning != null) { // the runner's stamp; the server's clock is the same machine's
                toCloning.add(Duration.between(t.claimedAt(), cloning).toMillis());
                cloningToResult.add(Duration.between(cloning, t.finishedAt()).toMillis());
            }
        }
        stop(runner);
        List<Long> raw = new ArrayList<>();
        for (int i = 0; i < Math.max(3, rounds); i++) {
            raw.add(rawFailingClone(missing));
        }
        System.out.printf(Locale.ROOT, "repository cache: RUNNER_REPO_CACHE_LIMIT=%s, RUNNER_REPO_CACHE_GIT=%s, RUNNER_GIT_IMAGE=%s%n",
                System.getenv().getOrDefault("RUNNER_REPO_CACHE_LIMIT", "(default)"),
                System.getenv().getOrDefault("RUNNER_REPO_CACHE_GIT", "(default: auto)"),
                System.getenv().getOrDefault("RUNNER_GIT_IMAGE", "(default)"));
        System.out.printf(Locale.ROOT, "pickup (enqueue -> claim), a slot free at enqueue: %s%n", Stat.of(free).fmt("ms"));
        System.out.printf(Locale.ROOT, "pickup (enqueue -> claim), every task:             %s%n", Stat.of(all).fmt("ms"));
        System.out.printf(Locale.ROOT, "failing task, claim -> result:                    %s%n", Stat.of(failMs).fmt("ms"));
        System.out.printf(Locale.ROOT, "  of which claim -> 'cloning' stamped:             %s%n", Stat.of(toCloning).fmt("ms"));
        System.out.printf(Locale.ROOT, "  of which 'cloning' stamped -> result received:    %s%n", Stat.of(cloningToResult).fmt("ms"));
        System.out.printf(Locale.ROOT, "raw `docker run` of the same failing clone:        %s%n", Stat.of(raw).fmt("ms"));
        System.out.printf(Locale.ROOT, "ratio failing task / raw (medians): %s%n", ratio(Stat.of(failMs).median, Stat.of(raw).median));
        System.out.println("per task pickup (ms): " + all + "; slot free: " + slotFree + "; claim -> result: " + failMs + "; raw: " + raw);
    }

    private void failing(String url) throws Exception {
        String id = server.enqueue(NewTask.forRepository(url).branch(a.get("branch")).headSha(a.get("head")).build());
        TaskSnapshot t = server.awaitTerminal(id, Duration.ofMinutes(3));
        if (!"clone_failed".equals(t.errorKind())) {
            throw new IllegalStateException("the failing task ended " + t.resultStatus() + "/" + t.errorKind());
        }
    }

    /** The clone half of bench/raw-pair.sh against a missing repository: it must fail; its wall time. */
    private long rawFailingClone(String url) throws Exception {
        Path ws = Files.createTempDirectory(wsBase, "raw-fail");
        ws.toFile().setWritable(true, false);
        List<String> cmd = new ArrayList<>(List.of("docker", "run", "--rm", "--label", "ai-review.managed=true", "--label",
                "ai-review.bench=raw", "--network", "host", "--user", "10001:10001", "--read-only", "--tmpfs",
                "/tmp:rw,nosuid,nodev,size=256m", "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--init",
                "--memory", "2g", "--memory-swap", "2g", "--cpus", "1", "--pids-limit", "512", "-v", ws + ":/workspace",
                "-w", "/workspace", "-e", "HOME=/tmp", "-e", "U=" + url, "-e", "B=" + a.get("branch"), "--entrypoint", "sh",
                a.get("image"), "-c", "set -e; git init -q /workspace/repo; cd /workspace/repo; git remote add origin \"$U\"; "
                        + "git fetch -q --no-tags --depth=50 origin \"+refs/heads/$B:refs/remotes/origin/$B\""));
        long t = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException("raw failing clone did not end");
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t);
        if (p.exitValue() == 0) {
            throw new IllegalStateException("the raw clone of a missing repository succeeded");
        }
        exec(List.of("rm", "-rf", ws.toString()));
        return ms;
    }

    /** The runner's own time stamp of the first change to {@code phase}, or null. */
    private static Instant stamped(TaskSnapshot t, String phase) {
        for (PhaseChange c : t.phases()) {
            if (c.phase().equals(phase) && c.at() != null) {
                try {
                    return Instant.parse(c.at());
                } catch (java.time.format.DateTimeParseException e) {
                    return null;
                }
            }
        }
        return null;
    }

    private static long between(TaskSnapshot t, String from, String to) {
        Instant a = null;
        Instant b = null;
        for (PhaseChange c : t.phases()) {
            if (c.phase().equals(from) && a == null) {
                a = c.receivedAt();
            } else if (c.phase().equals(to) && b == null) {
                b = c.receivedAt();
            }
        }
        return a == null || b == null ? -1 : Duration.between(a, b).toMillis();
    }

    /** n tasks at once; first claim → last result, in ms. */
    private long batch(Process runner, int n) {
        try {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ids.add(enqueue());
            }
            Instant first = null;
            Instant last = null;
            for (String id : ids) {
                TaskSnapshot t = server.awaitTerminal(id, Duration.ofMinutes(5));
                if (!"completed".equals(t.resultStatus())) {
                    throw new IllegalStateException("task " + id + " ended " + t.resultStatus() + ": " + t.result());
                }
                first = first == null || t.claimedAt().isBefore(first) ? t.claimedAt() : first;
                last = last == null || t.finishedAt().isAfter(last) ? t.finishedAt() : last;
            }
            return Duration.between(first, last).toMillis();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The pooled container is running and its warm-up is over (its CPU time has stopped growing). */
    private void awaitWarmPool(String runner) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        String id = "";
        while (id.isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no pooled container for " + runner + " within 120 s");
            }
            id = exec(List.of("docker", "ps", "-q", "--no-trunc", "--filter", "label=ai-review.runner=" + runner,
                    "--filter", "label=ai-review.task=pool", "--filter", "status=running")).strip();
            if (id.isEmpty()) {
                Thread.sleep(100);
            }
        }
        id = id.lines().findFirst().orElseThrow();
        Path usage = Path.of("/sys/fs/cgroup/cpu,cpuacct/docker", id, "cpuacct.usage");
        if (!Files.exists(usage)) {
            usage = Path.of("/sys/fs/cgroup/system.slice", "docker-" + id + ".scope", "cpu.stat");
        }
        long last = -1;
        while (System.nanoTime() < deadline) {
            Thread.sleep(300);
            long now = cpu(usage);
            if (now < 0) {
                Thread.sleep(3_000); // no cgroup file to watch: give the warm-up a fixed time
                return;
            }
            // less than 3 ms of CPU in 300 ms: the JVM is only polling for task.json
            if (last >= 0 && now - last < 3_000_000) {
                return;
            }
            last = now;
        }
    }

    private static long cpu(Path usage) {
        try {
            String s = Files.readString(usage).strip();
            if (usage.getFileName().toString().equals("cpu.stat")) {
                return Long.parseLong(s.lines().filter(l -> l.startsWith("usage_usec")).findFirst().orElseThrow().split(" ")[1]) * 1000;
            }
            return Long.parseLong(s);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * Pooled tasks only (bash bench/run.sh --pooled, {@code pool} 1) or cold ones (--cold, {@code pool} 0): for each,
     * claim → result split at the phase changes as the runner stamped them (ms since the claim); with
     * BENCH_TIMELINE_LOGS=true also every log line the runner sent, at its runner time stamp. Prints; does not touch
     * BENCHMARKS.md.
     */
    private void timeline(String name, int pool) throws Exception {
        Process runner = startRunner(name, 1, pool, shippedFlags(), shippedEnv());
        boolean logs = Boolean.parseBoolean(System.getenv().getOrDefault("BENCH_TIMELINE_LOGS", "false"));
        if (pool > 0) {
            awaitWarmPool(name);
        }
        task(runner);
        List<Long> total = new ArrayList<>();
        List<Long> raw = new ArrayList<>();
        Map<String, List<Long>> at = new java.util.LinkedHashMap<>();
        for (int i = 0; i < rounds; i++) {
            if (pool > 0) {
                awaitWarmPool(name);
            }
            total.add(timed("task " + (i + 1), enqueue(), at, logs));
            if (pool > 0) {
                awaitWarmPool(name); // the raw pair on a quiet machine too, not beside the replacement's warm-up
            }
            raw.add(rawPair());
        }
        // back to back: each task enqueued at the previous one's result, the pool not waited for
        List<Long> back = new ArrayList<>();
        for (int i = 0; pool > 0 && i < rounds; i++) {
            back.add(timed("back to back " + (i + 1), enqueue(), new java.util.LinkedHashMap<>(), logs));
        }
        stop(runner);
        System.out.println("median ms since the claim: " + at.entrySet().stream()
                .map(e -> e.getKey() + " +" + Math.round(Stat.of(e.getValue()).median)).toList());
        System.out.printf(Locale.ROOT, "claim → result %s; raw pair (interleaved) %s; ratio (medians) %s%n",
                Stat.of(total).fmt("ms"), Stat.of(raw).fmt("ms"), ratio(Stat.of(total).median, Stat.of(raw).median));
        if (pool > 0) {
            System.out.printf(Locale.ROOT, "back to back (the pool not waited for): claim → result %s %s; ratio (medians) %s × raw%n",
                    back, Stat.of(back).fmt("ms"), ratio(Stat.of(back).median, Stat.of(raw).median));
        }
    }

    /** Waits for task {@code id}, prints its phases (and with {@code logs} its log) since the claim; claim → result, ms. */
    private long timed(String name, String id, Map<String, List<Long>> at, boolean logs) throws Exception {
        TaskSnapshot t = server.awaitTerminal(id, Duration.ofMinutes(3));
        long ms = Duration.between(t.claimedAt(), t.finishedAt()).toMillis();
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%s: claim→result %d ms;", name, ms));
        for (PhaseChange c : t.phases()) {
            Instant stamp = c.at() == null ? c.receivedAt() : Instant.parse(c.at());
            long since = Duration.between(t.claimedAt(), stamp).toMillis();
            line.append(' ').append(c.phase()).append(" +").append(since);
            at.computeIfAbsent(c.phase(), k -> new ArrayList<>()).add(since);
        }
        System.out.println(line);
        if (logs) {
            for (dev.aireview.runner.devserver.LogLine l : t.logs()) {
                Instant stamp = l.ts() == null ? l.receivedAt() : Instant.parse(l.ts());
                System.out.printf(Locale.ROOT, "    +%5d %s %s%n", Duration.between(t.claimedAt(), stamp).toMillis(), l.stream(),
                        l.text().length() > 140 ? l.text().substring(0, 140) + "…" : l.text());
            }
        }
        if (!"completed".equals(t.resultStatus())) {
            throw new IllegalStateException("task " + id + " ended " + t.resultStatus() + ": " + t.result());
        }
        return ms;
    }

    private List<String> shippedFlags() {
        return Arrays.asList(a.get("flags").trim().split("\\s+"));
    }

    private Map<String, String> shippedEnv() {
        Map<String, String> env = new HashMap<>();
        for (String kv : a.getOrDefault("flagsEnv", "").trim().split("\\s+")) {
            if (kv.contains("=")) {
                env.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
            }
        }
        return env;
    }

    // --- CPU accounting (the throughput profile) ---------------------------------------------------------------

    /** CPU seconds so far: the whole machine (busy, not idle/iowait), the runner, dockerd and containerd. */
    record Cpu(double machine, double runner, double dockerd, double containerd) {
        Cpu minus(Cpu o) {
            return new Cpu(machine - o.machine, runner - o.runner, dockerd - o.dockerd, containerd - o.containerd);
        }

        String fmt() {
            return String.format(Locale.ROOT, "machine %.2f s (runner JVM %.2f, dockerd %.2f, containerd %.2f, rest %.2f)",
                    machine, runner, dockerd, containerd, machine - runner - dockerd - containerd);
        }
    }

    private static Cpu cpuNow(Process runner) {
        double machine = 0;
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            for (int i : new int[] {1, 2, 3, 6, 7, 8}) { // user nice system irq softirq steal
                machine += Long.parseLong(f[i]);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return new Cpu(machine / 100.0, procCpu(runner.pid()), procCpu(pidOf("dockerd")), procCpu(pidOf("containerd")));
    }

    private static long pidOf(String name) {
        try {
            String out = exec(List.of("pgrep", "-xo", name)).strip();
            return out.isEmpty() ? -1 : Long.parseLong(out);
        } catch (Exception e) {
            return -1;
        }
    }

    private static double procCpu(long pid) {
        try {
            String s = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0; // utime stime (fields 14, 15)
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /**
     * Throughput only (bash bench/run.sh --throughput): batches of 16 tasks on a 4-slot runner against xargs -P 4
     * of the raw pair, each with the CPU it cost, split by process. Prints; does not touch BENCHMARKS.md.
     */
    private void throughputProfile() throws Exception {
        List<String> shipped = shippedFlags();
        Map<String, String> shippedEnv = shippedEnv();
        int tasks = 16;
        Process runner = startRunner("bench-busy", 4, 0, shipped, shippedEnv);
        batch(runner, tasks); // warm-up batch
        xargsRaw(4);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < rounds; i++) {
            Cpu c0 = cpuNow(runner);
            long ms = batch(runner, tasks);
            Cpu c1 = cpuNow(runner);
            long rawMs = xargsRaw(tasks);
            Cpu c2 = cpuNow(runner);
            out.append(String.format(Locale.ROOT, "round %d: runner %d ms, %s%n         xargs  %d ms, %s  ratio %.2f%n",
                    i + 1, ms, c1.minus(c0).fmt(), rawMs, c2.minus(c1).fmt(), (double) rawMs / ms));
            System.out.print(out.substring(out.lastIndexOf("round ")));
        }
        stop(runner);
    }

    // --- the raw commands --------------------------------------------------------------------------------------

    private ProcessBuilder rawEnv(ProcessBuilder pb) {
        Map<String, String> env = pb.environment();
        env.put("BENCH_IMAGE", a.get("image"));
        env.put("BENCH_GIT_URL", a.get("url"));
        env.put("BENCH_BRANCH", a.get("branch"));
        env.put("BENCH_HEAD", a.get("head"));
        env.put("BENCH_WS_BASE", wsBase.toString());
        return pb.redirectErrorStream(true);
    }

    private long rawPair() throws Exception {
        long t = System.nanoTime();
        String out = run(rawEnv(new ProcessBuilder("bash", a.get("rawPair"))));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t);
        if (!out.isBlank()) {
            throw new IllegalStateException("raw pair failed: " + out);
        }
        return ms;
    }

    private long xargsRaw(int n) {
        try {
            long t = System.nanoTime();
            String out = run(rawEnv(new ProcessBuilder("sh", "-c", "seq " + n + " | xargs -P 4 -n 1 bash " + a.get("rawPair"))));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t);
            if (!out.isBlank()) {
                throw new IllegalStateException("xargs raw pairs failed: " + out);
            }
            return ms;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String exec(List<String> cmd) throws Exception {
        return run(new ProcessBuilder(cmd).redirectErrorStream(true));
    }

    private static String run(ProcessBuilder pb) throws Exception {
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("timed out: " + pb.command());
        }
        String s = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IllegalStateException(pb.command() + " exited " + p.exitValue() + ": " + s);
        }
        return s;
    }
}

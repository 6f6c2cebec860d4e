package dev.aireview.runner.kubernetes;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.aireview.runner.kubernetes.KubeletScript.running;
import static dev.aireview.runner.kubernetes.KubeletScript.terminated;
import static dev.aireview.runner.kubernetes.KubeletScript.waiting;
import static org.awaitility.Awaitility.await;

/**
 * A one-node cluster for end-to-end tests without Docker: fabric8's mock API server in CRUD mode, and a kubelet that
 * runs the task pods it finds there as local processes.
 *
 * <p>For every task pod (label {@link PodSpecs#LABEL_MANAGED}) the kubelet waits for the pod's Secret (as a real
 * kubelet cannot mount it before), makes a local directory per volume (emptyDirs empty, the Secret's keys as files
 * with its {@code defaultMode}), then runs the init containers and the main container one after the other, each as
 * the pod spec says: its command and args, or the executor image's entrypoint ({@link LocalExecutorImage}); the
 * image's environment and the container's; its working directory. In-pod paths are mapped to the local directories
 * of the container's volume mounts (a mount path in a command, an argument, an environment value or the working
 * directory becomes the volume's directory), which is what the container runtime's bind mounts do; the environment
 * is only the image's and the container's (nothing of the test JVM's). Each container's output (stdout and stderr
 * together, as the kubelet keeps it) is kept with a timestamp per line and served on {@code pods/log}; the pod's
 * status (container running, terminated with its exit code, pod phase) is written to the mock as the kubelet does.
 * A deleted pod's processes are killed and its directories removed.
 *
 * <p>Not like a cluster: no user namespaces, read-only mounts are not read-only, no resource limits, no network
 * policy; and the mock server cannot hold a followed log open, so a followed log's stream ends with what was written
 * so far (the follower resumes it).
 */
final class LocalKubelet implements AutoCloseable {
    /** Longest a container may run here (a test bound, far above what the steps take). */
    static final Duration CONTAINER_LIMIT = Duration.ofSeconds(120);
    private static final Pattern LOG_PATH = Pattern.compile("/api/v1/namespaces/([^/]+)/pods/([^/?]+)/log(\\?.*)?");

    /** One container as the kubelet started it: the local command, environment and directory, and its exit code. */
    record Launch(String pod, String container, List<String> command, Map<String, String> env, Path dir, Integer exitCode) {
    }

    /** One line of a container's log as the kubelet keeps it. */
    record Line(Instant time, String text) {
    }

    private final KubernetesMockServer server;
    private final KubernetesClient client;
    private final String namespace;
    private final LocalExecutorImage image;
    private final Path root;
    private final KubeletScript statuses;
    private final Map<String, PodRun> runs = new ConcurrentHashMap<>();
    private final Map<String, List<Line>> logs = new ConcurrentHashMap<>();
    /** Every version of a task pod the kubelet's watch delivered (for the "no secret in a pod spec" check). */
    final List<Pod> seen = new CopyOnWriteArrayList<>();
    /** The Secrets the kubelet mounted. */
    final List<Secret> mounted = new CopyOnWriteArrayList<>();
    final List<Launch> launches = new CopyOnWriteArrayList<>();
    /** Every pods/log request served (path with query). */
    final List<String> logRequests = new CopyOnWriteArrayList<>();
    /** What went wrong inside the kubelet itself (a test asserts it empty). */
    final List<String> problems = new CopyOnWriteArrayList<>();
    private final Watch watch;

    private LocalKubelet(String namespace, LocalExecutorImage image, Path root) {
        this.namespace = namespace;
        this.image = image;
        this.root = root;
        Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
        KubernetesMixedDispatcher crud = new KubernetesMixedDispatcher(responses);
        this.server = new KubernetesMockServer(new Context(Serialization.jsonMapper()), new MockWebServer(), responses,
                new Dispatcher() {
                    @Override
                    public MockResponse dispatch(RecordedRequest request) {
                        Matcher m = LOG_PATH.matcher(request.getPath());
                        return "GET".equals(request.getMethod()) && m.matches() ? serveLog(m) : crud.dispatch(request);
                    }

                    @Override
                    public void shutdown() {
                        crud.shutdown();
                    }
                }, false);
        server.init();
        this.client = server.createClient();
        this.statuses = new KubeletScript(client, server, namespace);
        this.watch = client.pods().inNamespace(namespace).withLabel(PodSpecs.LABEL_MANAGED, "true").watch(new Watcher<>() {
            @Override
            public void eventReceived(Action action, Pod pod) {
                seen.add(pod);
                String name = pod.getMetadata().getName();
                if (action == Action.ADDED) {
                    PodRun run = new PodRun(pod);
                    if (runs.putIfAbsent(name, run) == null) {
                        Thread t = new Thread(run, "kubelet-" + name);
                        t.setDaemon(true);
                        t.start();
                    }
                } else if (action == Action.DELETED) {
                    PodRun run = runs.get(name);
                    if (run != null) {
                        run.delete();
                    }
                }
            }

            @Override
            public void onClose(WatcherException cause) {
                problems.add("the kubelet's watch closed: " + cause);
            }
        });
    }

    /** A mock API server with this kubelet on its node; {@code root} holds the pods' volumes. */
    static LocalKubelet start(String namespace, LocalExecutorImage image, Path root) throws IOException {
        Files.createDirectories(root);
        return new LocalKubelet(namespace, image, root);
    }

    KubernetesMockServer server() {
        return server;
    }

    /** The kubelet's own client (statuses, watch); tests may read through it. */
    KubernetesClient client() {
        return client;
    }

    /** The containers started for {@code pod}, in order. */
    List<Launch> launches(String pod) {
        return launches.stream().filter(l -> l.pod().equals(pod)).toList();
    }

    /** The lines of one container's log, as kept (empty when it never started). */
    List<String> logLines(String pod, String container) {
        return logs.getOrDefault(pod + "/" + container, List.of()).stream().map(Line::text).toList();
    }

    /** Every line of every container log kept. */
    List<String> allLogLines() {
        return logs.values().stream().flatMap(List::stream).map(Line::text).toList();
    }

    /** Pods whose processes still run or whose volumes are still on disk. */
    List<String> podsOnNode() {
        return runs.values().stream().filter(r -> !r.cleaned()).map(r -> r.name).toList();
    }

    /** {@code pods/log}: the kept lines of a container that has started, as the kubelet serves them. */
    private MockResponse serveLog(Matcher m) {
        String query = m.group(3) == null ? "" : m.group(3).substring(1);
        logRequests.add(m.group(0));
        Map<String, String> q = new HashMap<>();
        for (String kv : query.split("&")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                q.put(kv.substring(0, eq), URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        String pod = m.group(2);
        String container = q.get("container");
        List<Line> lines = logs.get(pod + "/" + container);
        if (!m.group(1).equals(namespace) || lines == null) {
            String message = "container \"" + container + "\" in pod \"" + pod + "\" is waiting to start: PodInitializing";
            return new MockResponse().setResponseCode(400).setBody("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                    + "\"message\":\"" + message.replace("\"", "\\\"") + "\",\"reason\":\"BadRequest\",\"code\":400}");
        }
        Instant since = q.containsKey("sinceTime") ? Instant.parse(q.get("sinceTime")) : null;
        boolean timestamps = "true".equals(q.get("timestamps"));
        StringBuilder b = new StringBuilder();
        for (Line l : lines) {
            if (since == null || !l.time().isBefore(since)) {
                b.append(timestamps ? l.time() + " " : "").append(l.text()).append('\n');
            }
        }
        byte[] body = b.toString().getBytes(StandardCharsets.UTF_8);
        if (q.containsKey("limitBytes")) {
            body = java.util.Arrays.copyOf(body, (int) Math.min(body.length, Long.parseLong(q.get("limitBytes"))));
        }
        return new MockResponse().setResponseCode(200).setBody(body);
    }

    @Override
    public void close() {
        watch.close();
        runs.values().forEach(PodRun::delete);
        client.close();
        server.destroy();
    }

    /** One pod on the node: its volumes, its containers run in order, its status. */
    private final class PodRun implements Runnable {
        private final Pod pod;
        private final String name;
        private final Path dir;
        private volatile Process current;
        private boolean deleted;
        private boolean finished;
        private boolean cleaned;

        PodRun(Pod pod) {
            this.pod = pod;
            this.name = pod.getMetadata().getName();
            this.dir = root.resolve(name);
        }

        @Override
        public void run() {
            try {
                Map<String, Path> volumes = volumes();
                List<Container> init = pod.getSpec().getInitContainers();
                List<Container> main = pod.getSpec().getContainers();
                List<ContainerStatus> initStatus = new ArrayList<>();
                init.forEach(c -> initStatus.add(waiting(c.getName(), "PodInitializing", null)));
                List<ContainerStatus> mainStatus = new ArrayList<>();
                main.forEach(c -> mainStatus.add(waiting(c.getName(), "PodInitializing", null)));
                for (int i = 0; i < init.size(); i++) {
                    Container c = init.get(i);
                    initStatus.set(i, running(c.getName()));
                    if (!status("Pending", initStatus, mainStatus)) {
                        return;
                    }
                    Integer exit = runContainer(c, volumes);
                    if (exit == null) {
                        return;
                    }
                    initStatus.set(i, terminated(c.getName(), exit, exit == 0 ? "Completed" : "Error"));
                    if (exit != 0) {
                        status("Failed", initStatus, mainStatus);
                        return;
                    }
                }
                if (main.size() != 1) {
                    throw new IllegalStateException("a task pod has one main container, this one " + main.size());
                }
                Container c = main.get(0);
                mainStatus.set(0, running(c.getName()));
                if (!status("Running", initStatus, mainStatus)) {
                    return;
                }
                Integer exit = runContainer(c, volumes);
                if (exit == null) {
                    return;
                }
                mainStatus.set(0, terminated(c.getName(), exit, exit == 0 ? "Completed" : "Error"));
                status(exit == 0 ? "Succeeded" : "Failed", initStatus, mainStatus);
            } catch (Exception e) {
                if (!isDeleted()) {
                    problems.add("pod " + name + ": " + e);
                    try {
                        String first = pod.getSpec().getInitContainers().get(0).getName();
                        status("Pending", List.of(waiting(first, "RunContainerError", "the local kubelet failed: " + e)), List.of());
                    } catch (RuntimeException again) {
                        problems.add("pod " + name + ": its failure could not be said in its status: " + again);
                    }
                }
            } finally {
                boolean clean;
                synchronized (this) {
                    finished = true;
                    clean = deleted;
                }
                if (clean) {
                    cleanUp();
                }
            }
        }

        /** Writes the pod's status; false when the pod is gone (deleted meanwhile). */
        private boolean status(String phase, List<ContainerStatus> init, List<ContainerStatus> main) {
            if (isDeleted()) {
                return false;
            }
            try {
                statuses.status(name, KubeletScript.status(phase, List.copyOf(init), List.copyOf(main)));
                return true;
            } catch (RuntimeException e) {
                if (client.pods().inNamespace(namespace).withName(name).get() == null) {
                    return false;
                }
                throw e;
            }
        }

        /** A local directory per volume; the Secret's keys as files (waits for the Secret, as a kubelet does). */
        private Map<String, Path> volumes() throws IOException {
            Map<String, Path> out = new LinkedHashMap<>();
            for (Volume v : pod.getSpec().getVolumes()) {
                Path d = Files.createDirectories(dir.resolve("volumes").resolve(v.getName()));
                out.put(v.getName(), d);
                if (v.getSecret() != null) {
                    String secretName = v.getSecret().getSecretName();
                    await().atMost(KubeletScript.WAIT).pollInterval(Duration.ofMillis(20))
                            .until(() -> isDeleted() || client.secrets().inNamespace(namespace).withName(secretName).get() != null);
                    Secret s = client.secrets().inNamespace(namespace).withName(secretName).get();
                    if (s == null) {
                        continue;
                    }
                    mounted.add(s);
                    for (Map.Entry<String, String> e : s.getData().entrySet()) {
                        Path f = d.resolve(e.getKey());
                        Files.write(f, Base64.getDecoder().decode(e.getValue()));
                        Files.setPosixFilePermissions(f, permissions(v.getSecret().getDefaultMode()));
                    }
                } else if (v.getEmptyDir() == null) {
                    throw new IllegalStateException("volume " + v.getName() + " is neither an emptyDir nor a Secret");
                }
            }
            return out;
        }

        /** Runs one container to its end; its exit code, or null when the pod was deleted meanwhile. */
        private Integer runContainer(Container c, Map<String, Path> volumes) throws IOException, InterruptedException {
            Map<String, Path> mounts = new LinkedHashMap<>();
            for (VolumeMount m : c.getVolumeMounts()) {
                mounts.put(m.getMountPath(), volumes.get(m.getName()));
            }
            List<String> command = new ArrayList<>();
            if (c.getCommand() == null || c.getCommand().isEmpty()) {
                command.addAll(image.localEntrypoint());
            } else {
                command.addAll(c.getCommand());
            }
            if (c.getArgs() != null) {
                command.addAll(c.getArgs());
            }
            command.replaceAll(s -> mapped(s, mounts));
            Map<String, String> env = new LinkedHashMap<>();
            image.localEnv().forEach((k, v) -> env.put(k, mapped(v, mounts)));
            for (EnvVar e : c.getEnv() == null ? List.<EnvVar>of() : c.getEnv()) {
                if (e.getValueFrom() != null) {
                    throw new IllegalStateException("container " + c.getName() + ": env " + e.getName() + " from a reference");
                }
                env.put(e.getName(), mapped(e.getValue() == null ? "" : e.getValue(), mounts));
            }
            Path workdir = Path.of(mapped(c.getWorkingDir() != null ? c.getWorkingDir() : image.workdir(), mounts));
            ProcessBuilder pb = new ProcessBuilder(command).directory(workdir.toFile()).redirectErrorStream(true);
            pb.environment().clear();
            pb.environment().putAll(env);
            List<Line> log = new CopyOnWriteArrayList<>();
            logs.put(name + "/" + c.getName(), log);
            Process p;
            synchronized (this) {
                if (deleted) {
                    return null;
                }
                p = pb.start();
                current = p;
            }
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        log.add(new Line(Instant.now(), line));
                    }
                } catch (IOException e) {
                    // killed: the log ends here
                }
            }, "kubelet-log-" + name + "-" + c.getName());
            reader.setDaemon(true);
            reader.start();
            if (!p.waitFor(CONTAINER_LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
                problems.add("pod " + name + ": container " + c.getName() + " ran longer than " + CONTAINER_LIMIT);
                kill(p);
            }
            reader.join(TimeUnit.SECONDS.toMillis(10));
            current = null;
            int exit = p.waitFor();
            launches.add(new Launch(name, c.getName(), List.copyOf(command), Map.copyOf(env), workdir, exit));
            return isDeleted() ? null : exit;
        }

        synchronized boolean isDeleted() {
            return deleted;
        }

        synchronized boolean cleaned() {
            return cleaned;
        }

        /** The pod was deleted: its process is killed, and its volumes go once its thread has ended. */
        void delete() {
            boolean clean;
            synchronized (this) {
                deleted = true;
                clean = finished;
                Process p = current;
                if (p != null) {
                    kill(p);
                }
            }
            if (clean) {
                cleanUp();
            }
        }

        private void cleanUp() {
            synchronized (this) {
                if (cleaned) {
                    return;
                }
                cleaned = true;
            }
            try {
                if (Files.exists(dir)) {
                    try (var walk = Files.walk(dir)) {
                        for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                            p.toFile().setWritable(true);
                            Files.deleteIfExists(p);
                        }
                    }
                }
            } catch (IOException e) {
                problems.add("pod " + name + ": its volumes could not be removed: " + e);
            }
        }
    }

    private static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
    }

    /**
     * {@code s} with every in-pod mount path (as a whole path: not inside a longer name) replaced by its local
     * directory, in one pass (a local directory may itself start with a mount path, e.g. /tmp).
     */
    static String mapped(String s, Map<String, Path> mounts) {
        if (mounts.isEmpty()) {
            return s;
        }
        List<String> paths = new ArrayList<>(mounts.keySet());
        paths.sort(Comparator.comparingInt(String::length).reversed());
        String any = paths.stream().map(Pattern::quote).collect(java.util.stream.Collectors.joining("|"));
        return Pattern.compile("(?<![A-Za-z0-9_./])(" + any + ")(?![A-Za-z0-9_.-])").matcher(s)
                .replaceAll(m -> Matcher.quoteReplacement(mounts.get(m.group(1)).toString()));
    }

    private static Set<PosixFilePermission> permissions(Integer mode) {
        int m = mode == null ? 0644 : mode;
        Set<PosixFilePermission> out = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = {PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
                PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE,
                PosixFilePermission.GROUP_READ, PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
                PosixFilePermission.OWNER_READ};
        for (int i = 0; i < bits.length; i++) {
            if ((m & (1 << i)) != 0) {
                out.add(bits[i]);
            }
        }
        return out;
    }
}

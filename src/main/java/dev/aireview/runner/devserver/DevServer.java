package dev.aireview.runner.devserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.observability.RunnerVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * An in-memory AI Review server for development, demos and tests: the server side of PROTOCOL.md on a JDK
 * {@link HttpServer}, an admin JSON API and an HTML dashboard. See {@code docs/dev-server.md}.
 *
 * <pre>{@code
 * try (DevServer server = DevServer.start(DevServerOptions.builder("secret").build())) {
 *     String id = server.enqueue(NewTask.forRepository("file:///tmp/repo").headSha(sha).build());
 *     TaskSnapshot done = server.awaitTerminal(id, Duration.ofMinutes(1));
 * }
 * }</pre>
 */
public final class DevServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(DevServer.class);

    static {
        // The JDK server writes headers and body separately; without TCP_NODELAY every small answer waits ~40 ms
        // for the client's delayed ACK (Nagle). Read once, when the first HttpServer of this JVM is created.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) {
            System.setProperty("sun.net.httpserver.nodelay", "true");
        }
    }

    private final DevServerOptions options;
    private final DevServerStore store;
    private final Faults faults = new Faults();
    private final ExecutorService httpThreads;
    private final ScheduledExecutorService sweeper;
    private final Object lifecycle = new Object();
    private HttpServer http;
    private int port;
    private boolean suspended;
    private boolean stopped;

    private DevServer(DevServerOptions options) {
        this.options = options;
        this.store = new DevServerStore(options, faults);
        this.httpThreads = Executors.newCachedThreadPool(threads("dev-server-http-"));
        this.sweeper = Executors.newSingleThreadScheduledExecutor(threads("dev-server-heartbeat-timeout-"));
    }

    /** Starts a server; with port 0 it listens on a free port, see {@link #port()}. */
    public static DevServer start(DevServerOptions options) throws IOException {
        DevServer server = new DevServer(options);
        try {
            server.listen(options.port());
        } catch (IOException | RuntimeException e) {
            server.httpThreads.shutdownNow();
            server.sweeper.shutdownNow();
            throw e;
        }
        long period = Math.max(10, Math.min(1000, options.heartbeatTimeout().toMillis() / 5));
        server.sweeper.scheduleWithFixedDelay(server::sweep, period, period, TimeUnit.MILLISECONDS);
        log.info("dev server listening on {} (heartbeat timeout {} ms)", server.baseUrl(),
                options.heartbeatTimeout().toMillis());
        return server;
    }

    private void listen(int requestedPort) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getByName(options.bindAddress()), requestedPort), 128);
        s.setExecutor(httpThreads);
        s.createContext("/api/health", new JsonHandler() {
            @Override
            void route(com.sun.net.httpserver.HttpExchange ex) throws IOException {
                if (faults.unavailable()) {
                    throw new ApiException(503, "the server is unavailable (injected outage)");
                }
                ObjectNode data = Json.mapper().createObjectNode();
                data.put("status", "ok");
                data.put("server", "ai-review-runner dev server");
                data.put("version", RunnerVersion.get());
                Http.sendData(ex, 200, data);
            }
        });
        s.createContext(RunnerApi.PREFIX + "/", new RunnerApi(store, options, faults));
        s.createContext(AdminApi.PREFIX + "/", new AdminApi(store, options, new AdminApi.FaultControl() {
            @Override
            public JsonNode inject(JsonNode spec) {
                return injectFault(spec, true);
            }

            @Override
            public JsonNode list() {
                return faults();
            }

            @Override
            public void clear() {
                clearFaults();
            }
        }));
        s.createContext("/api/", new JsonHandler() {
            @Override
            void route(com.sun.net.httpserver.HttpExchange ex) {
                throw ApiException.notFound("no such call: " + ex.getRequestURI().getPath());
            }
        });
        s.createContext("/", new Dashboard(store, options));
        s.start();
        http = s;
        port = s.getAddress().getPort();
    }

    private void sweep() {
        try {
            store.expireSilentRunners();
        } catch (RuntimeException e) {
            log.warn("heartbeat timeout check failed", e);
        }
    }

    public DevServerOptions options() {
        return options;
    }

    /** The TCP port the server listens on. */
    public int port() {
        return port;
    }

    /** {@code http://<host>:<port>} to give runners as {@code RUNNER_SERVER_URL}. */
    public String baseUrl() {
        String host = options.bindAddress();
        if (host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]")) {
            host = "127.0.0.1";
        } else if (host.contains(":") && !host.startsWith("[")) {
            host = "[" + host + "]";
        }
        return "http://" + host + ":" + port;
    }

    /** The token runners (and the admin API) must present. */
    public String token() {
        return options.token();
    }

    // ------------------------------------------------------------------ tasks

    /** Enqueues a review task; returns its id. */
    public String enqueue(NewTask task) {
        return enqueue(task.toRequest());
    }

    /** Enqueues a task from an admin API request body ({@code POST /api/admin/tasks}); returns its id. */
    public String enqueue(JsonNode request) {
        return call(() -> store.enqueue(TaskRequests.toTask(request), false, true));
    }

    /**
     * Enqueues {@code body} verbatim, as runners will receive it (for tasks with missing or malformed fields).
     * A body without an id gets {@code "id": "task_<n>"} added.
     */
    public String enqueueRaw(JsonNode body) {
        return enqueueRaw(body, true);
    }

    /** Like {@link #enqueueRaw(JsonNode)}; with {@code assignId} false a body without an id is sent without one. */
    public String enqueueRaw(JsonNode body, boolean assignId) {
        if (body == null || !body.isObject()) {
            throw new IllegalArgumentException("a raw task must be a JSON object");
        }
        return call(() -> store.enqueue(((ObjectNode) body).deepCopy(), true, assignId));
    }

    /** A snapshot of the task, logs included. */
    public TaskSnapshot task(String id) {
        return call(() -> store.task(id, true));
    }

    /** Snapshots of every task in enqueue order, without logs. */
    public List<TaskSnapshot> tasks() {
        return store.tasks();
    }

    /** Waits (without polling) until the task has finished: a result arrived, or it was cancelled while pending. */
    public TaskSnapshot awaitTerminal(String id, Duration timeout) throws InterruptedException, TimeoutException {
        return awaitTask(id, TaskSnapshot::terminal, timeout);
    }

    /** Waits until the task satisfies {@code condition}; returns the snapshot (with logs) that did. */
    public TaskSnapshot awaitTask(String id, Predicate<TaskSnapshot> condition, Duration timeout)
            throws InterruptedException, TimeoutException {
        try {
            return store.awaitTask(id, condition, timeout);
        } catch (ApiException e) {
            throw translate(e);
        }
    }

    /**
     * Cancels a task: a pending task ends {@code cancelled} at once; a claimed one is handed to its runner as
     * {@code cancelTaskIds} on the next heartbeat. Throws {@link IllegalStateException} when it already finished.
     */
    public TaskSnapshot cancel(String id) {
        return call(() -> store.cancel(id));
    }

    // ------------------------------------------------------------------ runners

    public List<RunnerSnapshot> runners() {
        return store.runners();
    }

    public Optional<RunnerSnapshot> runner(String id) {
        return store.runners().stream().filter(r -> r.id().equals(id)).findFirst();
    }

    /** Waits until the list of runners satisfies {@code condition}. */
    public List<RunnerSnapshot> awaitRunners(Predicate<List<RunnerSnapshot>> condition, Duration timeout)
            throws InterruptedException, TimeoutException {
        return store.awaitRunners(condition, timeout);
    }

    // ------------------------------------------------------------------ faults

    /**
     * Injects a fault (the body of {@code POST /api/admin/faults}, see {@link Fault} and docs/dev-server.md); returns
     * the rule as stored, or for an outage its description. An outage of kind {@code refused} closes the port now
     * and opens it again after {@code durationMs}; kind {@code 503} answers every runner call 503 meanwhile.
     */
    public JsonNode injectFault(JsonNode spec) {
        return call(() -> injectFault(spec, false));
    }

    private JsonNode injectFault(JsonNode spec, boolean fromHandler) {
        if (spec != null && "outage".equalsIgnoreCase(Json.text(spec, "mode"))) {
            return outage(spec, fromHandler);
        }
        return faults.add(spec);
    }

    private JsonNode outage(JsonNode spec, boolean fromHandler) {
        Integer ms = Http.intField(spec, "durationMs", "duration_ms");
        if (ms == null || ms < 1) {
            throw ApiException.badRequest("an outage needs a positive 'durationMs'");
        }
        String kind = Json.text(spec, "kind");
        kind = kind == null ? "refused" : kind.trim().toLowerCase(java.util.Locale.ROOT);
        Duration d = Duration.ofMillis(ms);
        switch (kind) {
            case "refused" -> {
                // From a request handler the port cannot be closed under the answer being written: one moment later.
                if (fromHandler) {
                    sweeper.schedule(() -> refusedOutage(d), 100, TimeUnit.MILLISECONDS);
                } else {
                    refusedOutage(d);
                }
            }
            case "503" -> {
                faults.unavailableFor(d);
                faults.countOutage("503");
                log.info("dev server answers 503 to every runner call for {} ms (injected outage)", ms);
            }
            default -> throw ApiException.badRequest("unknown outage kind '" + kind + "'; one of refused, 503");
        }
        ObjectNode out = Json.mapper().createObjectNode();
        out.put("mode", "outage");
        out.put("kind", kind);
        out.put("durationMs", ms);
        return out;
    }

    private void refusedOutage(Duration d) {
        suspend();
        faults.countOutage("refused");
        sweeper.schedule(() -> {
            try {
                resume();
            } catch (IOException e) {
                log.warn("dev server could not listen again after the injected outage", e);
            }
        }, d.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The fault rules (with what is left of each) and every injection so far, counted by {@code call:mode}. */
    public JsonNode faults() {
        ObjectNode n = faults.toJson();
        synchronized (lifecycle) {
            n.put("suspended", suspended);
        }
        return n;
    }

    /** Every injection so far by {@code call:mode} ({@code outage:refused}, {@code outage:503} for outages). */
    public java.util.Map<String, Integer> injectedFaults() {
        return faults.injected();
    }

    /** Removes every rule, ends a 503 outage, releases every stalled call. A closed port stays closed until resumed. */
    public void clearFaults() {
        faults.clear();
    }

    // ------------------------------------------------------------------ lifecycle

    /**
     * Simulates an outage: closes the listening socket (connections are refused) while keeping all state. No
     * runner times out while suspended. {@link #resume()} listens again on the same port.
     */
    public void suspend() {
        synchronized (lifecycle) {
            if (stopped || suspended) {
                return;
            }
            suspended = true;
            store.setPaused(true);
            http.stop(0);
            log.info("dev server suspended (port {} closed)", port);
        }
    }

    /** Ends a {@link #suspend()}: listens on the same port again; every runner gets a fresh heartbeat timeout. */
    public void resume() throws IOException {
        synchronized (lifecycle) {
            if (stopped || !suspended) {
                return;
            }
            listen(port);
            suspended = false;
            store.setPaused(false);
            log.info("dev server resumed on {}", baseUrl());
        }
    }

    /** Stops the server: pending long polls answer at once, the port is closed. Idempotent. */
    public void stop() {
        synchronized (lifecycle) {
            if (stopped) {
                return;
            }
            stopped = true;
            faults.close();
            store.close();
            if (!suspended) {
                http.stop(0);
            }
            sweeper.shutdownNow();
            httpThreads.shutdownNow();
            log.info("dev server on port {} stopped", port);
        }
    }

    @Override
    public void close() {
        stop();
    }

    private interface StoreCall<T> {
        T run();
    }

    private static <T> T call(StoreCall<T> c) {
        try {
            return c.run();
        } catch (ApiException e) {
            throw translate(e);
        }
    }

    private static RuntimeException translate(ApiException e) {
        return switch (e.status()) {
            case 404 -> new NoSuchElementException(e.getMessage());
            case 409 -> new IllegalStateException(e.getMessage());
            default -> new IllegalArgumentException(e.getMessage());
        };
    }

    private static ThreadFactory threads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}

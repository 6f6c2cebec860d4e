package dev.aireview.runner.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.WaitContainerResultCallback;
import dev.aireview.runner.config.ConfigLoader;
import dev.aireview.runner.config.DockerConfig;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Every Docker call has a deadline: a fake engine that stalls fails calls in bounded time, naming DOCKER_HOST. */
class DockerDeadlineTest {
    static final DockerConnection.Timeouts SHORT = new DockerConnection.Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(2),
            Duration.ofSeconds(2), Duration.ofSeconds(4));
    /** For a loaded machine: bounded is the point, not exact. */
    static final Duration SLACK = Duration.ofSeconds(10);

    /** How the fake engine treats a request other than {@code /version} (and {@code /version} when {@code stallVersion}). */
    enum Stall { SILENT, DRIBBLE }

    /** A fake engine on loopback speaking just enough HTTP/1.1: {@code /version} answered (or not), the rest stalled. */
    static final class FakeEngine implements AutoCloseable {
        final ServerSocket socket;
        final List<Socket> open = new CopyOnWriteArrayList<>();
        final boolean stallVersion;
        final Stall stall;

        FakeEngine(boolean stallVersion, Stall stall) throws IOException {
            this.socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            this.stallVersion = stallVersion;
            this.stall = stall;
            Thread t = new Thread(this::accept, "fake-engine");
            t.setDaemon(true);
            t.start();
        }

        String host() {
            return "tcp://127.0.0.1:" + socket.getLocalPort();
        }

        private void accept() {
            while (!socket.isClosed()) {
                try {
                    Socket s = socket.accept();
                    open.add(s);
                    Thread t = new Thread(() -> serve(s), "fake-engine-conn");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void serve(Socket s) {
            try (s) {
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                while (true) {
                    String head = readHead(in);
                    if (head == null) {
                        return;
                    }
                    String line = head.substring(0, head.indexOf('\r'));
                    if (line.contains("/version") && !stallVersion) {
                        byte[] body = "{\"Version\":\"26.1.0\",\"ApiVersion\":\"1.45\",\"MinAPIVersion\":\"1.24\"}".getBytes(StandardCharsets.UTF_8);
                        out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
                                .getBytes(StandardCharsets.US_ASCII));
                        out.write(body);
                        out.flush();
                        continue;
                    }
                    if (stall == Stall.DRIBBLE) {
                        out.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n[".getBytes(StandardCharsets.US_ASCII));
                        out.flush();
                        while (!s.isClosed()) {
                            out.write(' ');
                            out.flush();
                            Thread.sleep(300);
                        }
                    }
                    while (in.read() >= 0) {
                        // silent: hold the connection until the client gives up
                    }
                    return;
                }
            } catch (IOException | InterruptedException ignored) {
                // the client went away
            }
        }

        private static String readHead(InputStream in) throws IOException {
            StringBuilder sb = new StringBuilder();
            int b;
            while ((b = in.read()) >= 0) {
                sb.append((char) b);
                if (sb.length() >= 4 && sb.substring(sb.length() - 4).equals("\r\n\r\n")) {
                    return sb.toString();
                }
            }
            return null;
        }

        @Override
        public void close() throws IOException {
            socket.close();
            for (Socket s : open) {
                s.close();
            }
        }
    }

    private static Duration since(long t0) {
        return Duration.ofNanos(System.nanoTime() - t0);
    }

    @Test
    void shouldFailStartUpWithinTheProbeDeadlineWhenTheEngineNeverAnswersVersion() throws Exception {
        try (FakeEngine engine = new FakeEngine(true, Stall.SILENT)) {
            long t0 = System.nanoTime();
            DockerExecutorException e = assertThrows(DockerExecutorException.class, () -> DockerConnection.open(engine.host(), null, SHORT));
            assertTrue(since(t0).compareTo(SHORT.probe().plus(SLACK)) < 0, "took " + since(t0));
            assertTrue(e.getMessage().contains("DOCKER_HOST '" + engine.host() + "'"), e.getMessage());
        }
    }

    @Test
    void shouldFailACallWithinItsDeadlineWhenTheEngineAnswersVersionThenStalls() throws Exception {
        for (Stall stall : Stall.values()) {
            try (FakeEngine engine = new FakeEngine(false, stall); DockerConnection c = DockerConnection.open(engine.host(), null, SHORT)) {
                assertEquals("1.45", c.apiVersion());
                long t0 = System.nanoTime();
                RuntimeException e = assertThrows(RuntimeException.class, () -> c.client().listContainersCmd().withShowAll(true).exec(), stall.name());
                Duration took = since(t0);
                Duration bound = (stall == Stall.SILENT ? SHORT.response() : SHORT.call()).plus(SLACK);
                assertTrue(took.compareTo(bound) < 0, stall + " took " + took);
                String message = messages(e);
                assertTrue(message.contains("DOCKER_HOST '" + engine.host() + "'"), stall + ": " + message);
                assertTrue(message.contains("/containers/json"), stall + ": " + message);
                assertTrue(String.valueOf(e.getMessage()).contains("DOCKER_HOST"), "the top message names it too: " + e.getMessage());
            }
        }
    }

    @Test
    void shouldFailExecutorStartUpWithinABoundNamingDockerHostWhenTheEngineStallsAfterVersion() throws Exception {
        try (FakeEngine engine = new FakeEngine(false, Stall.SILENT)) {
            ConfigLoader.Result loaded = ConfigLoader.load(Map.of("RUNNER_SERVER_URL", "http://127.0.0.1:9", "RUNNER_TOKEN", "tok-x",
                    "RUNNER_NAME", DockerTestSupport.runnerName("stalled"), "DOCKER_HOST", engine.host(),
                    "DOCKER_EXECUTOR_IMAGE", DockerTestSupport.IMAGE, "DOCKER_PULL_POLICY", "never",
                    "DOCKER_WORKSPACE_BASE", DockerTestSupport.WORKSPACE_BASE.toString()), Map.of());
            assertTrue(loaded.ok(), loaded.problems().toString());
            DockerConfig config = loaded.config().docker();
            DockerTaskExecutor executor = new DockerTaskExecutor(config, null, SHORT);
            long t0 = System.nanoTime();
            RuntimeException e = assertThrows(RuntimeException.class, executor::start);
            assertTrue(since(t0).compareTo(SHORT.response().plus(SLACK)) < 0, "took " + since(t0));
            assertTrue(String.valueOf(e.getMessage()).contains("DOCKER_HOST '" + engine.host() + "'"), e.getMessage());
        }
    }

    @Test
    void shouldLetAWaitOutlastTheResponseTimeoutOnARealEngine() throws Exception {
        String runner = DockerTestSupport.runnerName("deadline");
        try (DockerConnection c = DockerConnection.open(DockerTestSupport.dockerHost(), null, SHORT)) {
            DockerClient docker = c.client();
            String id = docker.createContainerCmd("debian:bookworm-slim").withCmd("sleep", "5")
                    .withLabels(Labels.of(runner, "deadline-wait", "test")).exec().getId();
            try {
                docker.startContainerCmd(id).exec();
                long t0 = System.nanoTime();
                int code = docker.waitContainerCmd(id).exec(new WaitContainerResultCallback()).awaitStatusCode(60, TimeUnit.SECONDS);
                assertEquals(0, code);
                assertTrue(since(t0).compareTo(SHORT.response()) > 0, "the wait was silent longer than the response timeout");
                StringBuilder log = new StringBuilder();
                docker.logContainerCmd(id).withStdOut(true).withStdErr(true)
                        .exec(new com.github.dockerjava.api.async.ResultCallback.Adapter<com.github.dockerjava.api.model.Frame>() {
                            @Override
                            public void onNext(com.github.dockerjava.api.model.Frame f) {
                                log.append(new String(f.getPayload(), StandardCharsets.UTF_8));
                            }
                        }).awaitCompletion(30, TimeUnit.SECONDS);
                assertEquals("", log.toString());
            } finally {
                docker.removeContainerCmd(id).withForce(true).withRemoveVolumes(true).exec();
            }
            assertTrue(DockerTestSupport.containersOfRunner(runner).isEmpty());
        }
    }

    @Test
    void shouldRouteOnlyCallsThatWaitForAContainerToTheClientWithoutResponseTimeout() {
        TimedDockerHttpClient t = new TimedDockerHttpClient(null, null, "tcp://x", Duration.ofSeconds(120), Duration.ofMinutes(5));
        for (String streaming : List.of("/v1.45/containers/abc/wait?condition=not-running", "/containers/abc/attach?stream=1",
                "/v1.41/containers/abc/logs?stdout=1&follow=1", "/v1.45/exec/e1/start", "/v1.45/images/create?fromImage=x",
                "/v1.45/containers/abc/stop?t=600")) {
            assertTrue(t.isStreaming(request("POST", streaming)), streaming);
        }
        for (String ordinary : List.of("/v1.45/containers/json?all=1", "/v1.45/containers/abc/json", "/v1.45/containers/create",
                "/v1.45/containers/abc/start", "/v1.45/containers/abc/stop?t=10", "/v1.45/containers/abc?force=1", "/_ping", "/version",
                "/v1.45/containers/waiting/json")) {
            assertFalse(t.isStreaming(request("POST", ordinary)), ordinary);
        }
    }

    private static com.github.dockerjava.transport.DockerHttpClient.Request request(String method, String path) {
        return com.github.dockerjava.transport.DockerHttpClient.Request.builder()
                .method(com.github.dockerjava.transport.DockerHttpClient.Request.Method.valueOf(method)).path(path).build();
    }

    private static String messages(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            sb.append(t.getMessage()).append(" | ");
        }
        return sb.toString();
    }
}

package dev.aireview.runner.e2e;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Volume;
import dev.aireview.runner.devserver.TaskSnapshot;
import dev.aireview.runner.docker.DockerTestSupport;
import dev.aireview.runner.testsupport.ExecutorImages;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Docker access without the raw socket: the runner's DOCKER_HOST is {@code tcp://127.0.0.1:PORT}, served by the
 * restrictive HAProxy of docker/socket-proxy (Debian's haproxy, network host, listening on loopback only) that
 * forwards only the endpoints docs/operations.md lists. Reviews complete through it, with and without the
 * pre-warmed pool (exec), and anything else, such as {@code /info}, {@code /build} or attaching, is refused with 403.
 */
class SocketProxyIT {
    @RegisterExtension
    static final E2eFixture fixture = E2eFixture.withTestImage(Duration.ofSeconds(10));

    static final String PROXY_IMAGE = "ai-review-test/socket-proxy:it";
    static String proxyId;
    static int port;

    @BeforeAll
    static void startProxy() throws Exception {
        DockerClient docker = DockerTestSupport.docker();
        File dir = ExecutorImages.projectRoot().resolve("docker/socket-proxy").toFile();
        docker.buildImageCmd(dir).withTags(Set.of(PROXY_IMAGE)).withLabels(Map.of("ai-review.test", "socket-proxy"))
                .withPull(false).start().awaitImageId();
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        proxyId = docker.createContainerCmd(PROXY_IMAGE).withName("ai-review-test-socket-proxy-" + UUID.randomUUID().toString().substring(0, 8))
                .withLabels(Map.of("ai-review.test", "socket-proxy"))
                .withEnv("PROXY_BIND=127.0.0.1:" + port)
                .withHostConfig(HostConfig.newHostConfig().withNetworkMode("host")
                        .withBinds(new Bind("/var/run/docker.sock", new Volume("/var/run/docker.sock"))))
                .exec().getId();
        docker.startContainerCmd(proxyId).exec();
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> get("/version").statusCode() == 200);
    }

    @AfterAll
    static void stopProxy() {
        if (proxyId != null) {
            DockerTestSupport.docker().removeContainerCmd(proxyId).withForce(true).exec();
            assertTrue(DockerTestSupport.docker().listContainersCmd().withShowAll(true)
                    .withIdFilter(List.of(proxyId)).exec().isEmpty(), "proxy container removed");
        }
    }

    static HttpResponse<String> request(String method, String path) throws Exception {
        HttpClient http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY).connectTimeout(Duration.ofSeconds(5)).build();
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(20))
                .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(String path) throws Exception {
        return request("GET", path);
    }

    @Test
    void reviewsCompleteThroughTheProxyWithAndWithoutThePool() throws Exception {
        for (int pool : new int[]{0, 1}) {
            String name = DockerTestSupport.runnerName("proxy" + pool);
            Map<String, String> env = E2e.env(fixture.server(), name, DockerTestSupport.IMAGE, 1);
            env.put("DOCKER_HOST", "tcp://127.0.0.1:" + port);
            env.put("DOCKER_POOL_SIZE", Integer.toString(pool));
            try (var runner = E2e.inProcess(env)) {
                if (pool > 0) { // the pre-warmed container is up: the review will exec into it
                    await().atMost(Duration.ofSeconds(60)).until(() -> DockerTestSupport.containersOfRunner(name).stream()
                            .anyMatch(c -> "running".equals(c.getState())));
                }
                String id = fixture.server().enqueue(E2e.task(fixture.git(), null).build());
                TaskSnapshot t = fixture.server().awaitTerminal(id, Duration.ofSeconds(120));
                assertEquals("completed", t.resultStatus(), "pool " + pool + ": " + t.errorKind() + " " + t.errorMessage() + "\n" + E2e.logText(t));
                assertEquals(pool > 0, E2e.logText(t).contains("using pre-warmed container"), E2e.logText(t));
            }
        }
        String log = proxyLog();
        // the runner really went through the proxy: its calls are in the proxy's access log, each allowed
        for (String call : List.of("GET /version", "/containers/create", "/start", "/wait", "/logs", "GET /v1.", "/exec")) {
            assertTrue(log.contains(call), call + " not in the proxy log:\n" + log);
        }
        assertFalse(log.lines().filter(l -> l.contains("\"")).anyMatch(l -> l.contains(" 403 ")), "the runner hit a refused endpoint:\n" + log);
    }

    @Test
    void endpointsTheRunnerDoesNotUseAreRefused() throws Exception {
        assertEquals(200, get("/_ping").statusCode());
        for (String[] call : new String[][]{{"GET", "/info"}, {"GET", "/v1.45/info"}, {"GET", "/v1.45/images/json"}, {"POST", "/build"},
                {"POST", "/v1.45/containers/abc/attach"}, {"GET", "/v1.45/secrets"}, {"POST", "/v1.45/swarm/init"},
                {"GET", "/v1.45/networks"}, {"POST", "/v1.45/images/load"}, {"DELETE", "/v1.45/images/debian:bookworm-slim"}}) {
            HttpResponse<String> r = request(call[0], call[1]);
            assertEquals(403, r.statusCode(), call[0] + " " + call[1] + ": " + r.body());
        }
    }

    static String proxyLog() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        DockerTestSupport.docker().logContainerCmd(proxyId).withStdOut(true).withStdErr(true)
                .exec(new com.github.dockerjava.api.async.ResultCallback.Adapter<com.github.dockerjava.api.model.Frame>() {
                    @Override
                    public void onNext(com.github.dockerjava.api.model.Frame f) {
                        out.writeBytes(f.getPayload());
                    }
                }).awaitCompletion();
        return out.toString(StandardCharsets.UTF_8);
    }
}

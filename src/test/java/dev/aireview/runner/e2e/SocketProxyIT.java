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
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.concurrent.TimeUnit;
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
 * pre-warmed pool (exec), and anything else, such as {@code /info}, {@code /build} or listing images, is refused with 403.
 * The same allow-list behind TLS with client certificates (a test CA made with openssl) is reached by a runner
 * process with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, and not without them.
 */
class SocketProxyIT {
    @RegisterExtension
    static final E2eFixture fixture = E2eFixture.withTestImage(Duration.ofSeconds(10));

    static final String PROXY_IMAGE = dev.aireview.runner.testsupport.CheckoutTag.image("ai-review-test/socket-proxy:it");
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
        for (String call : List.of("GET /version", "/containers/create", "/start", "/wait", "/attach", "GET /v1.", "/exec")) {
            assertTrue(log.contains(call), call + " not in the proxy log:\n" + log);
        }
        assertFalse(log.lines().filter(l -> l.contains("\"")).anyMatch(l -> l.contains(" 403 ")), "the runner hit a refused endpoint:\n" + log);
    }

    @Test
    void endpointsTheRunnerDoesNotUseAreRefused() throws Exception {
        assertEquals(200, get("/_ping").statusCode());
        for (String[] call : new String[][]{{"GET", "/info"}, {"GET", "/v1.45/info"}, {"GET", "/v1.45/images/json"}, {"POST", "/build"},
                {"GET", "/v1.45/secrets"}, {"POST", "/v1.45/swarm/init"},
                {"GET", "/v1.45/networks"}, {"POST", "/v1.45/images/load"}, {"DELETE", "/v1.45/images/debian:bookworm-slim"}}) {
            HttpResponse<String> r = request(call[0], call[1]);
            assertEquals(403, r.statusCode(), call[0] + " " + call[1] + ": " + r.body());
        }
    }

    @Test
    void aRunnerReachesATlsProxyWithDockerTlsVerifyAndDockerCertPathOnly(@TempDir Path dir) throws Exception {
        Path certs = Files.createDirectories(dir.resolve("client"));
        Path server = Files.createDirectories(dir.resolve("server"));
        makeCertificates(dir, certs, server);
        int tlsPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            tlsPort = s.getLocalPort();
        }
        // the shipped allow-list, bound with TLS and a required client certificate of the test CA
        String cfg = Files.readString(ExecutorImages.projectRoot().resolve("docker/socket-proxy/haproxy.cfg"))
                .replace("bind \"${PROXY_BIND}\"", "bind 127.0.0.1:" + tlsPort + " ssl crt /tls/server.pem ca-file /tls/ca.pem verify required");
        assertTrue(cfg.contains("verify required"), "bind line replaced");
        Files.writeString(server.resolve("haproxy.cfg"), cfg);
        DockerClient docker = DockerTestSupport.docker();
        String id = docker.createContainerCmd(PROXY_IMAGE).withName("ai-review-test-socket-proxy-tls-" + UUID.randomUUID().toString().substring(0, 8))
                .withLabels(Map.of("ai-review.test", "socket-proxy"))
                .withCmd("-f", "/tls/haproxy.cfg")
                .withEntrypoint("haproxy", "-W", "-db")
                .withHostConfig(HostConfig.newHostConfig().withNetworkMode("host").withBinds(
                        new Bind("/var/run/docker.sock", new Volume("/var/run/docker.sock")),
                        new Bind(server.toString(), new Volume("/tls"), com.github.dockerjava.api.model.AccessMode.ro)))
                .exec().getId();
        try {
            docker.startContainerCmd(id).exec();
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
                try (java.net.Socket socket = new java.net.Socket()) {
                    socket.connect(new java.net.InetSocketAddress("127.0.0.1", tlsPort), 500);
                    return true;
                }
            });
            String name = DockerTestSupport.runnerName("proxytls");
            Map<String, String> env = E2e.env(fixture.server(), name, DockerTestSupport.IMAGE, 1);
            env.put("DOCKER_HOST", "tcp://127.0.0.1:" + tlsPort);

            // without the TLS variables the runner cannot talk to the engine: exit 1, saying so
            try (E2e.RunnerProcess plain = E2e.process(env)) {
                assertTrue(plain.process().waitFor(90, TimeUnit.SECONDS), "runner without TLS settings did not give up");
                assertEquals(1, plain.process().exitValue(), plain.output());
                assertTrue(plain.output().contains("cannot reach the Docker engine at DOCKER_HOST 'tcp://127.0.0.1:" + tlsPort + "'"), plain.output());
            }

            env.put("DOCKER_TLS_VERIFY", "1");
            env.put("DOCKER_CERT_PATH", certs.toString());
            try (E2e.RunnerProcess runner = E2e.process(env)) {
                fixture.server().awaitRunners(rs -> rs.stream().anyMatch(r -> r.id().equals(name) && r.online()), Duration.ofSeconds(90));
                String task = fixture.server().enqueue(E2e.task(fixture.git(), null).build());
                TaskSnapshot t = fixture.server().awaitTerminal(task, Duration.ofSeconds(120));
                assertEquals("completed", t.resultStatus(), t.errorKind() + " " + t.errorMessage() + "\n" + runner.output());
                assertEquals(0, runner.terminate(), runner.output());
                assertTrue(runner.output().contains("connected to Docker") && runner.output().contains("at tcp://127.0.0.1:" + tlsPort), runner.output());
            }
        } finally {
            docker.removeContainerCmd(id).withForce(true).exec();
        }
    }

    /** A test CA, a server certificate for 127.0.0.1 (server/) and a client certificate (client/: ca.pem, cert.pem, key.pem). */
    static void makeCertificates(Path dir, Path client, Path server) throws Exception {
        openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "2", "-subj", "/CN=ai-review-test-ca");
        Files.writeString(dir.resolve("server.ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
        Files.writeString(dir.resolve("client.ext"), "extendedKeyUsage=clientAuth\n");
        for (String who : List.of("server", "client")) {
            openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", who + "-key.pem", "-out", who + ".csr", "-subj", "/CN=" + who);
            openssl(dir, "x509", "-req", "-in", who + ".csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial",
                    "-out", who + "-cert.pem", "-days", "2", "-extfile", who + ".ext");
        }
        Files.copy(dir.resolve("ca.pem"), client.resolve("ca.pem"));
        Files.copy(dir.resolve("client-cert.pem"), client.resolve("cert.pem"));
        Files.copy(dir.resolve("client-key.pem"), client.resolve("key.pem"));
        Files.copy(dir.resolve("ca.pem"), server.resolve("ca.pem"));
        Files.writeString(server.resolve("server.pem"), Files.readString(dir.resolve("server-cert.pem")) + Files.readString(dir.resolve("server-key.pem")));
    }

    static void openssl(Path dir, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "openssl hung");
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + "\n" + out);
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

package dev.aireview.runner.docker;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import dev.aireview.runner.config.DockerConfig;
import dev.aireview.runner.config.PullPolicy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static com.github.tomakehurst.wiremock.client.WireMock.*;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Engines that accept a setting and do not apply it, and Podman's differences, against a fake engine (WireMock) that
 * answers as Podman 4.3.1's Docker API does (its answers recorded from Debian bookworm's podman): the start-up probe
 * container is read back and a mismatch refuses the start naming engine, setting and fix; the host-gateway entry is
 * the network's gateway; a missing catatonit, a TLS port and a missing update endpoint are explained.
 */
class EngineVerificationTest {
    static final String PODMAN_VERSION = """
            {"Platform":{"Name":"linux/amd64/debian-12"},"Components":[{"Name":"Podman Engine","Version":"4.3.1",
             "Details":{"APIVersion":"4.3.1","MinAPIVersion":"4.0.0"}}],"Version":"4.3.1","ApiVersion":"1.41","MinAPIVersion":"1.24"}""";
    static final String DOCKER_VERSION = """
            {"Platform":{"Name":"Docker Engine - Community"},"Components":[{"Name":"Engine","Version":"26.1.5"}],
             "Version":"26.1.5","ApiVersion":"1.45","MinAPIVersion":"1.24"}""";

    WireMockServer engine;
    @TempDir
    Path base;
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();
    private final Logger verifierLog = (Logger) LoggerFactory.getLogger(ContainerVerifier.class);

    @BeforeEach
    void start() {
        engine = new WireMockServer(options().dynamicPort().bindAddress("127.0.0.1"));
        engine.start();
        logged.start();
        verifierLog.addAppender(logged);
    }

    @AfterEach
    void stop() {
        verifierLog.detachAppender(logged);
        engine.stop();
    }

    String host() {
        return "tcp://127.0.0.1:" + engine.port();
    }

    DockerConfig config(String runtime) {
        return new DockerConfig(host(), "ai-review-executor:latest", PullPolicy.NEVER, 256L * 1024 * 1024, 1.5, "bridge", base,
                Duration.ofSeconds(60), 0, 1, 128, "10001:10001", Duration.ofSeconds(1), "fake-engine-runner",
                1024 * 1024, 0, dev.aireview.runner.config.FreeDiskThreshold.OFF, runtime, null);
    }

    /** A Podman 4.3.1 engine whose containers' inspect is {@code hostConfig} (everything else as Podman answers). */
    void podman(String hostConfig) {
        engine.stubFor(get(urlPathMatching("(/v[0-9.]+)?/version")).willReturn(okJson(PODMAN_VERSION)));
        engine.stubFor(get(urlPathMatching(".*/info")).willReturn(okJson("{\"Runtimes\":{\"crun\":{},\"runc\":{},\"runsc\":{},\"kata\":{}}}")));
        engine.stubFor(get(urlPathMatching(".*/images/.*/json")).willReturn(okJson("{\"Id\":\"sha256:0123\"}")));
        engine.stubFor(get(urlPathMatching(".*/containers/json")).willReturn(okJson("[]")));
        engine.stubFor(get(urlPathMatching(".*/volumes")).willReturn(okJson("{\"Volumes\":[]}")));
        engine.stubFor(get(urlPathMatching(".*/networks/bridge")).willReturn(okJson(
                "{\"Name\":\"bridge\",\"Driver\":\"bridge\",\"IPAM\":{\"Driver\":\"default\",\"Config\":[{\"Subnet\":\"10.88.0.0/16\",\"Gateway\":\"10.88.0.1\"}]}}")));
        engine.stubFor(post(urlPathMatching(".*/containers/create")).willReturn(okJson("{\"Id\":\"probe0123456789\",\"Warnings\":[]}")));
        engine.stubFor(get(urlPathMatching(".*/containers/probe0123456789/json")).willReturn(okJson(
                "{\"Id\":\"probe0123456789\",\"State\":{\"Running\":false},\"Config\":{\"User\":\"10001:10001\"},\"HostConfig\":" + hostConfig + "}")));
        engine.stubFor(delete(urlPathMatching(".*/containers/probe0123456789")).willReturn(aResponse().withStatus(204)));
    }

    /** What Podman 4.3.1 (rootful, cgroup v1) reports for the runner's review container: every limit applied, runtime "oci". */
    static String podmanHostConfig(long memory, long nanoCpus, long pids) {
        return """
                {"Runtime":"oci","Memory":%d,"MemorySwap":%d,"NanoCpus":%d,"CpuQuota":%d,"CpuPeriod":100000,"PidsLimit":%d,
                 "ReadonlyRootfs":true,"CapAdd":[],"CapDrop":["AUDIT_WRITE","CHOWN","DAC_OVERRIDE","FOWNER","FSETID","KILL","MKNOD",
                 "NET_BIND_SERVICE","NET_RAW","SETFCAP","SETGID","SETPCAP","SETUID","SYS_CHROOT"],"SecurityOpt":["no-new-privileges"],
                 "LogConfig":{"Type":"json-file","Config":null},"Init":true,"NetworkMode":"bridge"}"""
                .formatted(memory, memory, nanoCpus, nanoCpus / 10_000, pids);
    }

    @Test
    void shouldRefuseToStartWhenPodmanIgnoresTheRuntimeOfTheProbeContainer() {
        podman(podmanHostConfig(256L * 1024 * 1024, 1_500_000_000L, 128));
        DockerTaskExecutor executor = new DockerTaskExecutor(config("runsc"));

        DockerExecutorException e = assertThrows(DockerExecutorException.class, executor::start);

        assertTrue(e.getMessage().contains("Podman 4.3.1"), e.getMessage());
        assertTrue(e.getMessage().contains("runtime (DOCKER_RUNTIME): asked runsc, the container got oci"), e.getMessage());
        assertTrue(e.getMessage().contains("unset DOCKER_RUNTIME"), "names the fix: " + e.getMessage());
        assertFalse(e.getMessage().contains("memory"), "only what differs: " + e.getMessage());
        engine.verify(deleteRequestedFor(urlPathMatching(".*/containers/probe0123456789")));
        engine.verify(0, postRequestedFor(urlPathMatching(".*/start")));
        executor.close();
    }

    @Test
    void shouldRefuseToStartWhenTheLimitsAreSilentlyDroppedAndGiveHostDockerInternalTheNetworksGateway() {
        // rootless Podman on cgroup v1: Warnings [] and every limit 0 in the inspect
        podman(podmanHostConfig(0, 0, 0));
        DockerTaskExecutor executor = new DockerTaskExecutor(config(null));

        DockerExecutorException e = assertThrows(DockerExecutorException.class, executor::start);

        for (String named : List.of("Podman 4.3.1", "memory (DOCKER_MEMORY_LIMIT): asked 268435456 bytes, the container got 0 bytes",
                "CPUs (DOCKER_CPU_LIMIT): asked 1.5 CPUs, the container got no limit", "pids (DOCKER_PIDS_LIMIT)", "cgroup v2")) {
            assertTrue(e.getMessage().contains(named), named + " in: " + e.getMessage());
        }
        List<LoggedRequest> creates = engine.findAll(postRequestedFor(urlPathMatching(".*/containers/create")));
        assertEquals(1, creates.size());
        String body = creates.get(0).getBodyAsString();
        assertTrue(body.contains("host.docker.internal:10.88.0.1"), body);
        assertFalse(body.contains("host-gateway"), "Podman 4.3 writes host-gateway literally into /etc/hosts: " + body);
        executor.close();
    }

    @Test
    void shouldPassTheProbeWhenPodmanAppliedEverythingAndLogTheCreateWarnings() {
        podman(podmanHostConfig(256L * 1024 * 1024, 1_500_000_000L, 128));
        engine.stubFor(post(urlPathMatching(".*/containers/create")).willReturn(okJson(
                "{\"Id\":\"probe0123456789\",\"Warnings\":[\"Your kernel does not support swap limit capabilities\"]}")));
        DockerConnection connection = DockerConnection.open(host());
        ContainerRunner runner = new ContainerRunner(connection.client(), Duration.ofSeconds(1));
        ContainerVerifier verifier = new ContainerVerifier(connection.client(), connection.engineLabel(), runner);
        ContainerSpecs specs = new ContainerSpecs(config(null));

        String id = verifier.create(specs.review(connection.client(), base, "t1"));

        assertEquals("probe0123456789", id);
        assertTrue(logged.list.stream().anyMatch(ev -> ev.getFormattedMessage().contains("Podman 4.3.1 warned when creating container")
                && ev.getFormattedMessage().contains("swap limit")), () -> logged.list.toString());
        engine.verify(0, deleteRequestedFor(urlPathMatching(".*/containers/probe0123456789")));
        connection.close();
    }

    @Test
    void shouldExplainAMissingCatatonit() {
        podman(podmanHostConfig(256L * 1024 * 1024, 1_500_000_000L, 128));
        engine.stubFor(post(urlPathMatching(".*/containers/create")).willReturn(aResponse().withStatus(500)
                .withHeader("Content-Type", "application/json").withBody("{\"cause\":\"no such file or directory\",\"message\":"
                        + "\"container create: container-init binary not found on the host: stat /usr/libexec/podman/catatonit: "
                        + "no such file or directory\",\"response\":500}")));
        DockerTaskExecutor executor = new DockerTaskExecutor(config(null));

        DockerExecutorException e = assertThrows(DockerExecutorException.class, executor::start);

        assertTrue(e.getMessage().contains("container-init binary not found"), "the engine's own words kept: " + e.getMessage());
        assertTrue(e.getMessage().contains("apt-get install catatonit"), e.getMessage());
        assertTrue(e.getMessage().contains("init_path"), e.getMessage());
        executor.close();
    }

    @Test
    void shouldKeepTheEnginesExplanationAndHintAtTlsWhenATlsPortAnswers400() {
        // what dockerd's TLS port answers a plain HTTP request
        engine.stubFor(get(urlPathMatching("(/v[0-9.]+)?/version")).willReturn(aResponse().withStatus(400)
                .withBody("Client sent an HTTP request to an HTTPS server.\n")));

        DockerExecutorException e = assertThrows(DockerExecutorException.class, () -> DockerConnection.open(host()));

        assertTrue(e.getMessage().contains("HTTP 400"), e.getMessage());
        assertTrue(e.getMessage().contains("Client sent an HTTP request to an HTTPS server."), e.getMessage());
        assertTrue(e.getMessage().contains("DOCKER_TLS_VERIFY=1") && e.getMessage().contains("DOCKER_CERT_PATH"), e.getMessage());
    }

    @Test
    void shouldTellPodmanFromDocker() {
        engine.stubFor(get(urlPathMatching("(/v[0-9.]+)?/version")).willReturn(okJson(DOCKER_VERSION)));
        try (DockerConnection docker = DockerConnection.open(host())) {
            assertFalse(docker.isPodman());
            assertEquals("Docker 26.1.5", docker.engineLabel());
        }
        engine.stubFor(get(urlPathMatching("(/v[0-9.]+)?/version")).willReturn(okJson(PODMAN_VERSION)));
        try (DockerConnection podman = DockerConnection.open(host())) {
            assertTrue(podman.isPodman());
            assertEquals("Podman 4.3.1", podman.engineLabel());
            assertEquals("1.41", podman.apiVersion(), "the engine's own API version is used");
        }
    }

    @Test
    void shouldRaiseTheCpuWeightThroughPodmansOwnEndpointWhenTheDockerOneIs404() {
        engine.stubFor(get(urlPathMatching("(/v[0-9.]+)?/version")).willReturn(okJson(PODMAN_VERSION)));
        engine.stubFor(post(urlPathMatching(".*/containers/pooled123456/update")).atPriority(5)
                .willReturn(aResponse().withStatus(404).withBody("Not Found\n")));
        engine.stubFor(post(urlPathEqualTo("/v4.0.0/libpod/containers/pooled123456/update")).atPriority(1)
                .willReturn(aResponse().withStatus(201).withBody("pooled123456")));
        try (DockerConnection connection = DockerConnection.open(host())) {
            ContainerPool pool = new ContainerPool(connection.client(), null, null, null, p -> true, 0);
            assertFalse(pool.promote("pooled123456"), "no fallback: 404 is a stated failure");

            pool.useCpuWeightFallback((id, shares) -> {
                DockerConnection.RawResponse r = connection.post("/v4.0.0/libpod/containers/" + id + "/update",
                        "{\"cpu\":{\"shares\":" + shares + "}}");
                return r.status() / 100 == 2 ? null : "HTTP " + r.status();
            });
            assertTrue(pool.promote("pooled123456"));
            engine.verify(postRequestedFor(urlPathEqualTo("/v4.0.0/libpod/containers/pooled123456/update"))
                    .withRequestBody(equalToJson("{\"cpu\":{\"shares\":1024}}")));

            engine.stubFor(post(urlPathEqualTo("/v4.0.0/libpod/containers/pooled123456/update")).atPriority(1)
                    .willReturn(aResponse().withStatus(500).withBody("{\"message\":\"cgroup not writable\"}")));
            assertFalse(pool.promote("pooled123456"), "Podman's own endpoint failing is reported, not hidden");
        }
    }
}

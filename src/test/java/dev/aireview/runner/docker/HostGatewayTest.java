package dev.aireview.runner.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.WaitContainerResultCallback;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HostConfig;
import dev.aireview.runner.config.DockerConfig;
import dev.aireview.runner.config.PullPolicy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Containers on a Docker network resolve {@code host.docker.internal} to the Docker host (the bridge gateway), so
 * a server or git host on the runner's machine has the same URL for a compose runner and for its containers.
 * Real engine; the container is created from {@link ContainerSpecs} with all its hardening.
 */
class HostGatewayTest {
    static final String RUNNER = "it-hostgw-" + UUID.randomUUID().toString().substring(0, 8);
    static Path workspace;

    @BeforeAll
    static void createWorkspace() throws Exception {
        workspace = Files.createTempDirectory("ai-review-hostgw");
    }

    @AfterAll
    static void cleanUp() throws Exception {
        DockerClient docker = DockerTestSupport.docker();
        docker.listContainersCmd().withShowAll(true).withLabelFilter(java.util.Map.of(Labels.RUNNER, RUNNER)).exec()
                .forEach(c -> docker.removeContainerCmd(c.getId()).withForce(true).withRemoveVolumes(true).exec());
        assertTrue(docker.listContainersCmd().withShowAll(true).withLabelFilter(java.util.Map.of(Labels.RUNNER, RUNNER)).exec().isEmpty());
        Files.deleteIfExists(workspace);
    }

    static DockerConfig config(String network) {
        return new DockerConfig("unix:///var/run/docker.sock", "debian:bookworm-slim", PullPolicy.NEVER, 64L * 1024 * 1024, 0.5,
                network, workspace.getParent(), Duration.ofSeconds(60), 0, 1, 64, "10001:10001", Duration.ofSeconds(1), RUNNER);
    }

    @Test
    void shouldResolveHostDockerInternalToTheBridgeGatewayInABridgeContainer() throws Exception {
        DockerClient docker = DockerTestSupport.docker();
        String gateway = docker.inspectNetworkCmd().withNetworkId("bridge").exec().getIpam().getConfig().get(0).getGateway();
        assertNotNull(gateway);

        String id = new ContainerSpecs(config("bridge")).script(docker, workspace, "hostgw", "clone",
                "getent hosts host.docker.internal || echo unresolved", List.of()).exec().getId();
        docker.startContainerCmd(id).exec();
        int exit = docker.waitContainerCmd(id).exec(new WaitContainerResultCallback()).awaitStatusCode(60, TimeUnit.SECONDS);
        String out = logs(docker, id);
        assertEquals(0, exit, out);
        assertTrue(out.trim().startsWith(gateway + " "), "expected '" + gateway + " host.docker.internal', got: " + out);
        assertTrue(out.contains("host.docker.internal"), out);
        docker.removeContainerCmd(id).withForce(true).exec();
    }

    @Test
    void shouldAddTheEntryOnlyWhereTheContainerHasItsOwnNetwork() {
        for (String own : new String[]{"bridge", "my-net", ""}) {
            HostConfig h = new ContainerSpecs(config(own)).hostConfig(workspace);
            assertArrayEquals(new String[]{ContainerSpecs.HOST_GATEWAY_ENTRY}, h.getExtraHosts(), own);
        }
        for (String shared : new String[]{"host", "none", "container:abc"}) {
            HostConfig h = new ContainerSpecs(config(shared)).hostConfig(workspace);
            assertTrue(h.getExtraHosts() == null || h.getExtraHosts().length == 0, shared);
        }
    }

    static String logs(DockerClient docker, String id) throws InterruptedException {
        List<String> lines = new ArrayList<>();
        docker.logContainerCmd(id).withStdOut(true).withStdErr(true).exec(new ResultCallback.Adapter<Frame>() {
            @Override
            public void onNext(Frame f) {
                lines.add(new String(f.getPayload(), StandardCharsets.UTF_8));
            }
        }).awaitCompletion(30, TimeUnit.SECONDS);
        return String.join("", lines);
    }
}

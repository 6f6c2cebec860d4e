package dev.aireview.runner.docker;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.LogConfig;
import dev.aireview.runner.config.DockerConfig;
import dev.aireview.runner.config.PullPolicy;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** {@link ContainerVerifier#compare}: what the runner asks against what engines report back (their inspect shapes). */
class ContainerVerifierTest {
    static final ObjectMapper JSON = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    static HostConfig asked() {
        DockerConfig config = new DockerConfig("unix:///var/run/docker.sock", "img", PullPolicy.NEVER, 256L * 1024 * 1024, 1.5,
                "bridge", Path.of("/tmp"), Duration.ofSeconds(60), 0, 1, 128, "10001:10001", Duration.ofSeconds(1), "r");
        return new ContainerSpecs(config).hostConfig(Path.of("/tmp/ws"));
    }

    static InspectContainerResponse inspect(String hostConfig, String user) throws Exception {
        return JSON.readValue("{\"Config\":{\"User\":\"" + user + "\"},\"HostConfig\":" + hostConfig + "}", InspectContainerResponse.class);
    }

    static final String DOCKER_26 = """
            {"Runtime":"runc","Memory":268435456,"MemorySwap":268435456,"NanoCpus":1500000000,"PidsLimit":128,"ReadonlyRootfs":true,
             "CapDrop":["ALL"],"SecurityOpt":["no-new-privileges"],"LogConfig":{"Type":"json-file","Config":{}},"Init":true}""";

    @Test
    void shouldFindNothingWhenDockerAppliedEverything() throws Exception {
        assertEquals(List.of(), ContainerVerifier.compare(asked(), "10001:10001", inspect(DOCKER_26, "10001:10001")));
    }

    @Test
    void shouldAcceptPodmansWayOfReportingCapabilitiesAndCpus() throws Exception {
        String podman = EngineVerificationTest.podmanHostConfig(256L * 1024 * 1024, 0, 128); // CPUs as quota/period only
        podman = podman.replace("\"CpuQuota\":0", "\"CpuQuota\":150000");
        assertEquals(List.of(), ContainerVerifier.compare(asked(), "10001:10001", inspect(podman, "10001:10001")));
    }

    @Test
    void shouldNameEveryHardeningSettingThatWasNotApplied() throws Exception {
        String weak = """
                {"Memory":268435456,"MemorySwap":0,"NanoCpus":1500000000,"PidsLimit":128,"ReadonlyRootfs":false,
                 "CapDrop":["NET_RAW"],"CapAdd":["SYS_ADMIN"],"SecurityOpt":[],"Init":false}""";
        List<ContainerVerifier.Mismatch> found = ContainerVerifier.compare(asked(), "10001:10001", inspect(weak, "0"));
        List<String> settings = found.stream().map(ContainerVerifier.Mismatch::setting).toList();
        assertEquals(List.of("memory+swap (no extra swap)", "read-only root filesystem", "capabilities", "user (DOCKER_USER)",
                "no-new-privileges", "init"), settings);
        assertTrue(ContainerVerifier.describe("Docker 20.10.24", found).startsWith("the Docker 20.10.24 engine at DOCKER_HOST"));
    }

    @Test
    void shouldCompareTheLogDriverAndReportedOptions() throws Exception {
        HostConfig asked = asked().withLogConfig(new LogConfig(LogConfig.LoggingType.JSON_FILE, Map.of("max-size", "1m")));
        assertEquals(List.of(), ContainerVerifier.compare(asked, "10001:10001",
                inspect(DOCKER_26.replace("\"Config\":{}", "\"Config\":{\"max-size\":\"1m\"}"), "10001:10001")));
        assertEquals(List.of(), ContainerVerifier.compare(asked, "10001:10001", inspect(DOCKER_26, "10001:10001")),
                "an engine that reports no options (Podman) is judged by the driver");
        assertEquals(List.of("log option max-size"), ContainerVerifier.compare(asked, "10001:10001",
                inspect(DOCKER_26.replace("\"Config\":{}", "\"Config\":{\"max-size\":\"100m\"}"), "10001:10001"))
                .stream().map(ContainerVerifier.Mismatch::setting).toList());
        assertEquals(List.of("log driver"), ContainerVerifier.compare(asked, "10001:10001",
                inspect(DOCKER_26.replace("json-file", "journald"), "10001:10001")).stream().map(ContainerVerifier.Mismatch::setting).toList());
    }
}

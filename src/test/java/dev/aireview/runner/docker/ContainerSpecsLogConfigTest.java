package dev.aireview.runner.docker;

import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.LogConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Every container the runner creates gets a bounded engine log: the runner follows the output itself. */
class ContainerSpecsLogConfigTest {

    @Test
    void shouldBoundTheEngineLogOfEveryContainer() {
        ContainerSpecs specs = new ContainerSpecs(DockerTestSupport.config(DockerTestSupport.runnerName("logcfg"), "none", 0));
        for (String network : new String[]{"none", "bridge", null}) {
            HostConfig host = specs.hostConfig(Path.of("/tmp/ws"), network);
            assertEquals(LogConfig.LoggingType.JSON_FILE, host.getLogConfig().getType());
            assertEquals(Map.of("max-size", "1m", "max-file", "2"), host.getLogConfig().getConfig());
        }
    }
}

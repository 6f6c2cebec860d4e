package dev.aireview.runner.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Info;

import java.util.Map;
import java.util.TreeSet;

/**
 * Start-up check of DOCKER_RUNTIME: the engine must list the runtime (as {@code docker info} does), otherwise every
 * review container would fail to start; the runner refuses to start instead, naming the setting.
 */
final class RuntimeCheck {
    private RuntimeCheck() {
    }

    static void verify(DockerClient docker, String runtime) {
        if (runtime == null) {
            return;
        }
        Info info = docker.infoCmd().exec();
        Map<String, ?> runtimes = info.getRuntimes() == null ? Map.of() : info.getRuntimes();
        if (!runtimes.containsKey(runtime)) {
            throw new DockerExecutorException("DOCKER_RUNTIME='" + runtime + "' is not a runtime of the Docker engine (it lists: "
                    + String.join(", ", new TreeSet<>(runtimes.keySet())) + "); register it in the engine's daemon.json or unset DOCKER_RUNTIME");
        }
    }
}

package dev.aireview.runner.config;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * docker/runner.env.example is generated from {@link ConfigOption}, so it lists every option with its default and
 * meaning and cannot drift from the loader. After changing an option, regenerate it:
 * {@code mvn -B -q -o test -Dtest=RunnerEnvExampleTest -Dregenerate=true}.
 */
class RunnerEnvExampleTest {
    static final Path FILE = Path.of("docker/runner.env.example");

    @Test
    void shouldListEveryOptionWithItsDefaultAsConfigOptionSays() throws Exception {
        String expected = render();
        if (Boolean.getBoolean("regenerate")) {
            Files.writeString(FILE, expected, StandardCharsets.UTF_8);
        }
        assertEquals(expected, Files.readString(FILE, StandardCharsets.UTF_8),
                "docker/runner.env.example is out of date: mvn -B -q -o test -Dtest=RunnerEnvExampleTest -Dregenerate=true");
    }

    static String render() {
        StringBuilder sb = new StringBuilder();
        sb.append("""
                # Settings of ai-review-runner, one variable a line (docs/configuration.md has the full reference).
                # systemd (docker/ai-review-runner.service): /etc/ai-review-runner/runner.env, mode 0600, owned by root.
                # Compose: an .env file next to docker-compose.runner.yml (the compose file passes these through).
                # Required variables are uncommented; every other line shows the default and may stay commented.
                # Generated from the option list (config/ConfigOption) by RunnerEnvExampleTest: do not edit by hand.

                """);
        for (ConfigOption o : ConfigOption.values()) {
            for (String line : wrap(o.description(), 110)) {
                sb.append("# ").append(line).append('\n');
            }
            if (o.required()) {
                sb.append(o.env()).append("=\n");
            } else if (o.defaultValue().startsWith("=") || o.defaultValue().startsWith("(")) {
                sb.append("# Default: ").append(o.defaultValue()).append('\n');
                sb.append('#').append(o.env()).append("=\n");
            } else {
                sb.append('#').append(o.env()).append('=').append(o.defaultValue()).append('\n');
            }
            sb.append('\n');
        }
        sb.append("""
                # --- Outside the runner's options ---------------------------------------------------------------------
                # Root log level of the runner's own lines (LogSetup): TRACE, DEBUG, INFO, WARN, ERROR.
                #LOG_LEVEL=INFO
                # Docker TLS for a tcp:// DOCKER_HOST: 1 = verify the engine and present a client certificate from
                # DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem), as the docker CLI does.
                #DOCKER_TLS_VERIFY=
                #DOCKER_CERT_PATH=
                # Compose only (docker-compose.runner.yml): image names, how the jar gets into the images, the runner
                # container's own limits, the Docker address inside it, and the health check period.
                #RUNNER_IMAGE=ai-review-runner:latest
                #JAR_FROM=build
                #RUNNER_CONTAINER_CPUS=1.0
                #RUNNER_CONTAINER_MEMORY=768m
                #RUNNER_CONTAINER_PIDS=512
                #RUNNER_DOCKER_HOST=unix:///var/run/docker.sock
                #RUNNER_HEALTHCHECK_INTERVAL=30s
                """);
        return sb.toString();
    }

    static List<String> wrap(String text, int width) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : text.split(" ")) {
            if (line.length() > 0 && line.length() + 1 + word.length() > width) {
                lines.add(line.toString());
                line.setLength(0);
            }
            if (line.length() > 0) {
                line.append(' ');
            }
            line.append(word);
        }
        if (line.length() > 0) {
            lines.add(line.toString());
        }
        return lines;
    }
}

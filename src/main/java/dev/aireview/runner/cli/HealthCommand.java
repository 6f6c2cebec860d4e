package dev.aireview.runner.cli;

import dev.aireview.runner.config.ConfigOption;
import dev.aireview.runner.config.HealthAddress;
import dev.aireview.runner.observability.HealthProbe;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code ai-review-runner health}: asks a running runner's {@code /health} endpoint on this host and exits 0 when it
 * answers 200, 1 otherwise (one line on stdout saying why), within {@code --timeout-ms}. Made for container health
 * checks in images without curl: the port comes from the same RUNNER_HEALTH_PORT the runner listens on, so a
 * compose health check needs no arguments. A malformed or off (0) RUNNER_HEALTH_PORT is exit 1 too, with the reason on
 * stderr: Docker reserves exit 2 of a health check, so there is no third status.
 */
@Command(name = "health", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = {"Ask a runner on this host for GET /health: exit 0 when healthy, 1 when not (one line says why).",
                "For health checks in images without curl."})
public final class HealthCommand implements Callable<Integer> {

    /** Environment seam for tests; null means the process environment. */
    Map<String, String> environment;

    @Option(names = "--health-port", paramLabel = "[ADDR:]PORT",
            description = "[RUNNER_HEALTH_PORT] The runner's health endpoint; a wildcard or missing address means 127.0.0.1.")
    String healthPort;

    @Option(names = "--timeout-ms", paramLabel = "MS", defaultValue = "3000",
            description = "Give up after this long (connect and answer). Default: ${DEFAULT-VALUE}.")
    long timeoutMs;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Map<String, String> env = environment != null ? environment : System.getenv();
        String value = healthPort != null && !healthPort.isBlank() ? healthPort : env.get(ConfigOption.HEALTH_PORT.env());
        HealthAddress address;
        try {
            address = HealthAddress.parse(value == null || value.isBlank() ? ConfigOption.HEALTH_PORT.defaultValue() : value);
        } catch (HealthAddress.InvalidException e) {
            err.println("ai-review-runner health: RUNNER_HEALTH_PORT: " + e.getMessage());
            err.flush();
            return 1;
        }
        if (address.port() == 0) {
            err.println("ai-review-runner health: RUNNER_HEALTH_PORT is 0 (off): set it (or --health-port) to the runner's endpoint");
            err.flush();
            return 1;
        }
        if (timeoutMs <= 0) {
            err.println("ai-review-runner health: --timeout-ms must be positive");
            err.flush();
            return 1;
        }
        HealthProbe.Outcome outcome = HealthProbe.check(address.connectAddress(), address.port(), Duration.ofMillis(timeoutMs));
        out.println(outcome.line());
        out.flush();
        return outcome.healthy() ? 0 : 1;
    }
}

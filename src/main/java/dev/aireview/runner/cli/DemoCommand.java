package dev.aireview.runner.cli;

import dev.aireview.runner.demo.Demo;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code ai-review-runner demo}: one real review end to end on this machine (needs a Docker engine). */
@Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = {"Show a real review end to end: builds the executor image if missing, starts a dev server,",
                "makes a sample repository with a change worth reviewing, runs a runner until the review is done,",
                "prints it, and removes everything it made."})
public final class DemoCommand implements Callable<Integer> {

    @Option(names = "--docker-host", defaultValue = "${env:DOCKER_HOST:-unix:///var/run/docker.sock}",
            description = "[DOCKER_HOST] Docker engine. Default: ${DEFAULT-VALUE}")
    String dockerHost;
    @Option(names = "--image", defaultValue = "${env:DOCKER_EXECUTOR_IMAGE:-ai-review-executor:latest}",
            description = "[DOCKER_EXECUTOR_IMAGE] Executor image; built from this jar when missing. Default: ${DEFAULT-VALUE}")
    String image;
    @Option(names = "--rebuild-image", description = "Build the executor image even if it exists.")
    boolean rebuildImage;
    @Option(names = "--port", defaultValue = "3000", description = "Dev server / dashboard port (a free one if taken). Default: ${DEFAULT-VALUE}")
    int port;
    @Option(names = "--timeout-seconds", defaultValue = "300", description = "Wall-time limit of the review. Default: ${DEFAULT-VALUE}")
    int timeoutSeconds;
    @Option(names = "--ai-base-url", description = "OpenAI-compatible API base URL (e.g. https://host/v1); with --ai-model, the review uses that model.")
    String aiBaseUrl;
    @Option(names = "--ai-model", description = "Model name for --ai-base-url.")
    String aiModel;
    @Option(names = "--ai-key-env", defaultValue = "AI_API_KEY", description = "Environment variable holding the API key. Default: ${DEFAULT-VALUE}")
    String aiKeyEnv;

    @Option(names = "--verbose", description = "Show the runner's and dev server's own log lines too.")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        if (!verbose) {
            // The demo prints its own progress; the daemon's INFO lines would interleave with it.
            ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                    .setLevel(ch.qos.logback.classic.Level.WARN);
        }
        if ((aiBaseUrl == null) != (aiModel == null)) {
            System.err.println("demo: --ai-base-url and --ai-model go together");
            return 2;
        }
        String key = aiBaseUrl == null ? null : System.getenv(aiKeyEnv);
        try {
            return new Demo(new Demo.Options(dockerHost, image, port, rebuildImage, Duration.ofSeconds(timeoutSeconds),
                    aiBaseUrl, aiModel, key, System.out)).run();
        } catch (Exception e) {
            System.err.println("demo failed: " + e.getMessage());
            return 1;
        }
    }
}

package dev.aireview.runner.cli;

import dev.aireview.runner.devserver.DevServer;
import dev.aireview.runner.devserver.DevServerOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code dev-server}: runs the in-memory AI Review server until SIGINT/SIGTERM. */
@Command(name = "dev-server", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = {"Runs an in-memory AI Review server (runner protocol, admin API, HTML dashboard) for "
                + "development and demos. Blocks until SIGINT/SIGTERM. See docs/dev-server.md."})
public final class DevServerCommand implements Callable<Integer> {

    @Option(names = "--port", defaultValue = "3000", description = "TCP port (0: a free one). Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--bind", defaultValue = "127.0.0.1", description = "Address to listen on. Default: ${DEFAULT-VALUE}.")
    String bind;

    @Option(names = "--token", defaultValue = "${env:DEV_SERVER_TOKEN}",
            description = "Token runners and the admin API must present (env DEV_SERVER_TOKEN, preferred over the "
                    + "flag). Without one a random token is generated and printed once.")
    String token;

    @Option(names = "--admin-token", defaultValue = "${env:DEV_SERVER_ADMIN_TOKEN}",
            description = "Optional second token accepted on /api/admin/** only (env DEV_SERVER_ADMIN_TOKEN).")
    String adminToken;

    @Option(names = "--heartbeat-timeout-ms", defaultValue = "30000",
            description = "A runner silent this long is offline and its unfinished tasks are re-queued. Default: ${DEFAULT-VALUE}.")
    long heartbeatTimeoutMs;

    @Option(names = "--max-poll-wait-ms", defaultValue = "30000",
            description = "Cap on the waitMs of a long poll. Default: ${DEFAULT-VALUE}.")
    long maxPollWaitMs;

    @Option(names = "--max-shutdown-retries", defaultValue = "3",
            description = "A runner_shutdown result re-queues its task as a new attempt up to this many times. Default: ${DEFAULT-VALUE}.")
    int maxShutdownRetries;

    @Override
    public Integer call() throws Exception {
        boolean generated = token == null || token.isBlank();
        String effectiveToken = generated ? generateToken() : token;
        DevServerOptions options = DevServerOptions.builder(effectiveToken)
                .bindAddress(bind)
                .port(port)
                .adminToken(adminToken)
                .heartbeatTimeout(Duration.ofMillis(heartbeatTimeoutMs))
                .maxPollWait(Duration.ofMillis(maxPollWaitMs))
                .maxShutdownRetries(maxShutdownRetries)
                .build();
        DevServer server = DevServer.start(options);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.stop();
            System.out.println("AI Review dev server stopped");
            System.out.flush();
            stopped.countDown();
        }, "dev-server-shutdown"));
        System.out.println("AI Review dev server listening on " + server.baseUrl());
        System.out.println("  dashboard:  " + server.baseUrl() + "/");
        System.out.println("  runner:     RUNNER_SERVER_URL=" + server.baseUrl());
        if (generated) {
            System.out.println("  token (generated, shown only now): " + effectiveToken);
        } else {
            System.out.println("  token:      as given (--token / DEV_SERVER_TOKEN)");
        }
        System.out.println("Press Ctrl+C to stop.");
        System.out.flush();
        stopped.await();
        return 0;
    }

    private static String generateToken() {
        byte[] bytes = new byte[24];
        new SecureRandom().nextBytes(bytes);
        return "dev_" + HexFormat.of().formatHex(bytes);
    }
}

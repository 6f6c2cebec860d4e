package dev.aireview.runner.docker;

import com.github.dockerjava.api.DockerClient;
import dev.aireview.runner.config.DockerConfig;
import dev.aireview.runner.execution.CancelSignal;
import dev.aireview.runner.source.CachedCheckout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.InputStream;
import java.time.Instant;
import java.util.List;

/**
 * The checkout script ({@link CachedCheckout#SCRIPT}) by {@code docker exec} in a review container whose entrypoint
 * waits for its task: a cold one with the cache entry mounted, or a pre-warmed one fed the commits on its standard
 * input ({@link StreamedCheckout}). An exec the engine refuses because the container has ended is the image breaking
 * the contract ({@link ExecutorContract#requireWaiting}); an exec that ends without an exit code while the container
 * still runs is an endpoint that cannot exec (some socket proxies do not upgrade it): {@code execUnavailable} is told,
 * and this and every later checkout need a container of their own.
 */
final class CheckoutExec {
    private static final Logger LOG = LoggerFactory.getLogger(CheckoutExec.class);

    private final DockerClient docker;
    private final ContainerRunner runner;
    private final DockerConfig config;
    private final Runnable execUnavailable;

    CheckoutExec(DockerClient docker, ContainerRunner runner, DockerConfig config, Runnable execUnavailable) {
        this.docker = docker;
        this.runner = runner;
        this.config = config;
        this.execUnavailable = execUnavailable;
    }

    /**
     * The exec's outcome, or null when the endpoint did not run it.
     *
     * @param container what the container is, for the log ({@code review container}, {@code pre-warmed container})
     * @param stdin     copied to the script's standard input while it runs; null for none
     */
    ContainerRunner.Outcome run(String containerId, String container, List<String> env, LogPump pump, Instant deadline,
                                CancelSignal cancel, InputStream stdin) {
        ContainerRunner.Outcome out;
        try {
            out = runner.exec(containerId, config.user(), CachedCheckout.SCRIPT, env, pump, deadline, cancel, stdin);
        } catch (RuntimeException e) {
            // the exec refused because the container ended (Docker: 409 "container ... is not running"; Podman 4.3:
            // 500 "can only create exec sessions on running containers"): the image broke the contract
            ExecutorContract.requireWaiting(docker, config.executorImage(), containerId);
            throw e;
        }
        if (out.end() == ContainerRunner.End.EXITED && out.exitCode() == null && ExecutorContract.isRunning(docker, containerId)) {
            execUnavailable.run();
            LOG.warn("the Docker endpoint at DOCKER_HOST did not run the checkout inside the running {} {} "
                    + "(an exec ended without an exit code: the endpoint does not upgrade it, as some socket proxies do not); "
                    + "this and every later task check out in a container of their own", container, ContainerRunner.shortId(containerId));
            return null;
        }
        return out;
    }
}

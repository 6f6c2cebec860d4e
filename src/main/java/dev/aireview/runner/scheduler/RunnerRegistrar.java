package dev.aireview.runner.scheduler;

import dev.aireview.runner.server.Registration;
import dev.aireview.runner.server.ServerClient;
import dev.aireview.runner.server.ServerException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Holds the runner id the server gave us and registers again when the server forgot the runner. */
public final class RunnerRegistrar {
    private static final Logger log = LoggerFactory.getLogger(RunnerRegistrar.class);
    private final ServerClient client;
    private volatile Registration registration;
    private volatile String runnerId;

    public RunnerRegistrar(ServerClient client, Registration registration) {
        this.client = client;
        this.registration = registration;
        this.runnerId = registration.runnerId();
    }

    /** Adds the engine details the executor found at start-up to every later register call. */
    public void describeEngine(String version, String apiVersion) {
        if (version != null || apiVersion != null) {
            registration = registration.withDocker(new Registration.DockerInfo(version, apiVersion));
        }
    }

    public String runnerId() {
        return runnerId;
    }

    /** One register call; on success the server's id is used from then on. */
    public synchronized void register() throws ServerException, InterruptedException {
        String id = client.register(registration);
        if (!id.equals(runnerId)) {
            log.info("server assigned runner id {} (was {})", id, runnerId);
        }
        runnerId = id;
    }

    /** Registers again after a 404 (or a refused token); one attempt, failures only logged. */
    public boolean reRegister(String why) throws InterruptedException {
        log.info("registering again: {}", why);
        try {
            register();
            log.info("registered again as {}", runnerId);
            return true;
        } catch (ServerException e) {
            log.warn("registering again failed: {}", e.getMessage());
            return false;
        }
    }
}

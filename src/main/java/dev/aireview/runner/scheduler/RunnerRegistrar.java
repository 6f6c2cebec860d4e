package dev.aireview.runner.scheduler;

import dev.aireview.runner.server.Backoff;
import dev.aireview.runner.server.ErrorClass;
import dev.aireview.runner.server.Registration;
import dev.aireview.runner.server.Retrier;
import dev.aireview.runner.server.ServerClient;
import dev.aireview.runner.server.ServerException;
import dev.aireview.runner.server.Sleeper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Random;

/**
 * Holds the runner id the server gave us and registers again when the server forgot the runner (a 404 naming
 * the runner on a heartbeat, poll or result). Re-registering goes through the {@link Retrier} (a few attempts);
 * when several threads find the runner forgotten at once, the registration that finished while a thread waited
 * for its turn serves that thread too.
 */
public final class RunnerRegistrar {
    private static final Logger log = LoggerFactory.getLogger(RunnerRegistrar.class);
    /** Attempts of one re-registration; the caller's own retry loop is the next chance after that. */
    static final int RE_REGISTER_ATTEMPTS = 3;

    private final ServerClient client;
    private final Retrier retrier;
    private volatile Registration registration;
    private volatile String runnerId;
    private volatile long registeredAtNanos = Long.MIN_VALUE;

    public RunnerRegistrar(ServerClient client, Registration registration) {
        this(client, registration, new Retrier(Backoff.standard(new Random()), Sleeper.SYSTEM));
    }

    public RunnerRegistrar(ServerClient client, Registration registration, Retrier retrier) {
        this.client = client;
        this.registration = registration;
        this.runnerId = registration.runnerId();
        this.retrier = retrier;
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
        registeredAtNanos = System.nanoTime();
    }

    /**
     * Registers again after a 404 for the runner (or a refused token): up to {@link #RE_REGISTER_ATTEMPTS}
     * attempts of retryable failures; other failures only logged. True when the runner is registered now.
     */
    public boolean reRegister(String why) throws InterruptedException {
        long requested = System.nanoTime();
        synchronized (this) {
            if (registeredAtNanos != Long.MIN_VALUE && registeredAtNanos - requested > 0) {
                log.debug("registering again ({}): another call registered meanwhile", why);
                return true;
            }
            log.info("registering again: {}", why);
            Retrier.Outcome<Void> out = retrier.run(Retrier.policy("register again").retry(ErrorClass.RETRYABLE)
                    .maxAttempts(RE_REGISTER_ATTEMPTS), () -> {
                        register();
                        return null;
                    });
            if (out.ok()) {
                log.info("registered again as {}", runnerId);
                return true;
            }
            log.warn("registering again failed: {}", out.failure().getMessage());
            return false;
        }
    }
}

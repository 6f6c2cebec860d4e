package dev.aireview.runner.observability;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Process-wide registry of secrets that must never appear in the runner's own log output: the runner
 * token (registered at start) and the secrets of the tasks that are running (registered and unregistered
 * per task; counted, so two tasks sharing a clone token keep it masked until both end). The Logback
 * converters {@link MaskingMessageConverter} and {@link MaskingThrowableConverter} mask every registered
 * value, so even an accidental {@code log.info("{}", token)} prints {@code ****}; the masking server client
 * ({@code server.MaskingServerClient}) masks everything sent to the server with the same set.
 */
public final class Secrets {
    private static final Logger LOG = LoggerFactory.getLogger(Secrets.class);
    private static final Map<String, Integer> SECRETS = new ConcurrentHashMap<>();
    private static volatile SecretMasker masker = SecretMasker.none();

    private Secrets() {
    }

    /**
     * Adds a secret. A value shorter than {@link SecretMasker#MIN_LENGTH} cannot be masked in free text (see
     * {@link SecretMasker}); it is not registered, and a warning says so (without the value).
     */
    public static synchronized void register(String secret) {
        if (secret != null && !secret.isEmpty() && secret.length() < SecretMasker.MIN_LENGTH) {
            LOG.warn("a secret of {} character(s) is too short to be masked in log text; use secrets of at least {} characters",
                    secret.length(), SecretMasker.MIN_LENGTH);
        }
        if (secret != null && secret.length() >= SecretMasker.MIN_LENGTH) {
            if (SECRETS.merge(secret, 1, Integer::sum) == 1) {
                rebuild();
            }
        }
    }

    public static void registerAll(List<String> secrets) {
        secrets.forEach(Secrets::register);
    }

    public static synchronized void unregister(String secret) {
        if (secret != null && SECRETS.containsKey(secret)) {
            if (SECRETS.merge(secret, -1, Integer::sum) <= 0) {
                SECRETS.remove(secret);
                rebuild();
            }
        }
    }

    public static void unregisterAll(List<String> secrets) {
        secrets.forEach(Secrets::unregister);
    }

    /** The current masker (a snapshot). */
    public static SecretMasker masker() {
        return masker;
    }

    public static String mask(String text) {
        return masker.mask(text);
    }

    private static void rebuild() {
        masker = SecretMasker.of(List.copyOf(SECRETS.keySet()));
    }
}

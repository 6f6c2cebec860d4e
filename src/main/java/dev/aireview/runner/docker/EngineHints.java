package dev.aireview.runner.docker;

/**
 * Engine errors that need a hint to be acted on: the engine's own message is kept, and what to do is added.
 * One place for the engine-specific explanations (Podman's missing init binary, a TLS port spoken to in plain HTTP).
 */
final class EngineHints {
    /** What Podman says when {@code --init} is asked and its init binary (catatonit) is not installed. */
    static final String PODMAN_NO_INIT = "container-init binary not found";
    static final String CATATONIT_HINT = "Podman runs the containers' init process (the runner asks for one, as docker run --init) "
            + "with catatonit, which is not installed: install it (Debian/Ubuntu: apt-get install catatonit) or point "
            + "init_path in /etc/containers/containers.conf at an installed one (e.g. /usr/bin/tini)";

    private EngineHints() {
    }

    /**
     * {@code e} itself when there is nothing to add, else a {@link DockerExecutorException} with the engine's message
     * and the hint.
     */
    static RuntimeException explain(RuntimeException e, String engine) {
        String message = e.getMessage();
        if (message != null && message.contains(PODMAN_NO_INIT)) {
            return new DockerExecutorException(engine + " could not create the container: " + message.strip() + ". "
                    + CATATONIT_HINT, e);
        }
        return e;
    }

    /**
     * The message for an HTTP 400 answer to the {@code /version} probe: the engine's own explanation (a bounded,
     * single-line excerpt of its body), and the TLS hint when the engine says it speaks HTTPS or the host is a TCP one.
     */
    static String versionRefused(String host, int status, String body) {
        String said = body == null ? "" : body.replaceAll("[\\p{Cntrl}\\s]+", " ").strip();
        if (said.length() > 300) {
            said = said.substring(0, 300) + "…";
        }
        StringBuilder out = new StringBuilder("Docker engine at DOCKER_HOST '" + host + "' answered /version with HTTP " + status);
        if (!said.isEmpty()) {
            out.append(": \"").append(said).append('"');
        }
        boolean tcp = host.regionMatches(true, 0, "tcp://", 0, 6);
        if (status == 400 && (said.toLowerCase(java.util.Locale.ROOT).contains("https") || tcp)) {
            out.append(". The port expects TLS: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to a directory with ca.pem, "
                    + "cert.pem and key.pem (docs/operations.md), or use the engine's plain port or unix socket");
        }
        return out.toString();
    }
}

package dev.aireview.runner.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import com.github.dockerjava.transport.DockerHttpClient;
import dev.aireview.runner.model.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;

/**
 * Connects to the Docker engine and negotiates the API version: docker-java does not, so the engine's
 * unversioned {@code /version} is asked first and the client is then built with the engine's API version
 * (never above what the engine reports, optionally capped lower), so it works from API 1.41 (Docker 20.10) up.
 * Every call has a deadline ({@link Timeouts}, {@link TimedDockerHttpClient}), the probe included, so an engine
 * that stalls fails start-up or the call, naming DOCKER_HOST, instead of hanging the runner.
 */
public final class DockerConnection implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DockerConnection.class);
    /** The oldest engine API this executor supports (Docker 20.10). */
    public static final String MIN_API_VERSION = "1.41";

    /** {@link #engineName()} of Podman's Docker-compatible API. */
    public static final String PODMAN = "Podman";

    private final DockerClient client;
    private final DockerHttpClient transport;
    private final String engineName;
    private final String engineVersion;
    private final String apiVersion;

    private DockerConnection(DockerClient client, DockerHttpClient transport, String engineName, String engineVersion, String apiVersion) {
        this.client = client;
        this.transport = transport;
        this.engineName = engineName;
        this.engineVersion = engineVersion;
        this.apiVersion = apiVersion;
    }

    /** "Podman" when {@code /version} names a Podman engine component (Podman's Docker API), else "Docker". */
    static String engineName(JsonNode version) {
        JsonNode components = version.path("Components");
        for (JsonNode c : components) {
            if (c.path("Name").asText("").toLowerCase(java.util.Locale.ROOT).contains("podman")) {
                return PODMAN;
            }
        }
        return version.path("Platform").path("Name").asText("").toLowerCase(java.util.Locale.ROOT).contains("podman") ? PODMAN : "Docker";
    }

    /**
     * Deadlines of Docker calls ({@link TimedDockerHttpClient}).
     *
     * @param connect  establishing a connection
     * @param probe    the whole {@code /version} probe at start-up: an engine that accepts and stalls fails start-up here
     * @param response longest silence within an ordinary call
     * @param call     whole-call deadline of an ordinary call (streaming calls have their caller's deadline)
     */
    public record Timeouts(Duration connect, Duration probe, Duration response, Duration call) {
        /** 10 s connect, 30 s probe, 2 min of silence, 5 min per ordinary call. */
        public static final Timeouts DEFAULT = new Timeouts(Duration.ofSeconds(10), Duration.ofSeconds(30),
                Duration.ofMinutes(2), Duration.ofMinutes(5));
    }

    /** Connects to {@code host} (DOCKER_HOST form) with the engine's own API version. */
    public static DockerConnection open(String host) {
        return open(host, null);
    }

    /** As {@link #open(String, String, Timeouts)} with {@link Timeouts#DEFAULT}. */
    public static DockerConnection open(String host, String maxApiVersion) {
        return open(host, maxApiVersion, Timeouts.DEFAULT);
    }

    /**
     * Connects to {@code host}; {@code maxApiVersion} (e.g. "1.41") caps the negotiated version, null for none.
     * Throws {@link DockerExecutorException} naming DOCKER_HOST when the engine cannot be reached or does not
     * answer {@code /version} within {@code timeouts.probe()}. Every later call has a deadline too
     * ({@link TimedDockerHttpClient}).
     */
    public static DockerConnection open(String host, String maxApiVersion, Timeouts timeouts) {
        if (host == null || host.isBlank()) {
            throw new DockerExecutorException("DOCKER_HOST is empty: set it to e.g. unix:///var/run/docker.sock or tcp://127.0.0.1:2375");
        }
        DefaultDockerClientConfig.Builder probeBuilder =
                tls(DefaultDockerClientConfig.createDefaultConfigBuilder().withDockerHost(host), host, System.getenv());
        DefaultDockerClientConfig probeConfig;
        try {
            probeConfig = probeBuilder.build();
        } catch (RuntimeException e) {
            throw new DockerExecutorException("DOCKER_HOST '" + host + "' is not a valid Docker host: " + e.getMessage(), e);
        }
        String engineVersion;
        String engineName;
        String engineApi;
        String engineMinApi;
        DockerHttpClient probeHttp = httpClient(probeConfig, timeouts.connect(), timeouts.probe());
        try (DockerHttpClient probe = new TimedDockerHttpClient(probeHttp, probeHttp, host, timeouts.probe(), timeouts.probe())) {
            DockerHttpClient.Request request = DockerHttpClient.Request.builder()
                    .method(DockerHttpClient.Request.Method.GET).path("/version").build();
            try (DockerHttpClient.Response response = probe.execute(request); InputStream body = response.getBody()) {
                if (response.getStatusCode() != 200) {
                    throw new DockerExecutorException(EngineHints.versionRefused(host, response.getStatusCode(),
                            new String(body.readNBytes(4096), java.nio.charset.StandardCharsets.UTF_8)));
                }
                JsonNode version = Json.mapper().readTree(body);
                engineVersion = Json.text(version, "Version");
                engineName = engineName(version);
                engineApi = Json.text(version, "ApiVersion");
                engineMinApi = Json.text(version, "MinAPIVersion");
            }
        } catch (DockerExecutorException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new DockerExecutorException("cannot reach the Docker engine at DOCKER_HOST '" + host + "': " + rootMessage(e), e);
        }
        if (engineApi == null) {
            throw new DockerExecutorException("Docker engine at DOCKER_HOST '" + host + "' did not report its API version");
        }
        if (compare(engineApi, MIN_API_VERSION) < 0) {
            throw new DockerExecutorException("Docker engine at DOCKER_HOST '" + host + "' speaks API " + engineApi
                    + " (Docker " + engineVersion + "); at least API " + MIN_API_VERSION + " (Docker 20.10) is needed");
        }
        String api = engineApi;
        if (maxApiVersion != null && compare(maxApiVersion, api) < 0) {
            api = maxApiVersion;
        }
        if (engineMinApi != null && compare(api, engineMinApi) < 0) {
            api = engineMinApi;
        }
        DefaultDockerClientConfig config = tls(DefaultDockerClientConfig.createDefaultConfigBuilder()
                .withDockerHost(host).withApiVersion(api), host, System.getenv()).build();
        DockerHttpClient transport = new TimedDockerHttpClient(httpClient(config, timeouts.connect(), timeouts.response()),
                httpClient(config, timeouts.connect(), null), host, timeouts.response(), timeouts.call());
        DockerClient client = DockerClientImpl.getInstance(config, transport);
        LOG.info("connected to {} {} at {} (engine API {}, using API {})", engineName, engineVersion, host, engineApi, api);
        return new DockerConnection(client, transport, engineName, engineVersion, api);
    }

    /**
     * DOCKER_TLS_VERIFY and DOCKER_CERT_PATH for a {@code tcp://} host, as the docker CLI reads them: a value of
     * DOCKER_TLS_VERIFY other than empty, {@code 0} or {@code false} turns TLS on, verifying the engine against
     * {@code ca.pem} and presenting {@code cert.pem}/{@code key.pem} from DOCKER_CERT_PATH (default
     * {@code ~/.docker}). Checked here, so a wrong path is one clear start-up error instead of a TLS handshake failure
     * later. Other schemes are left alone (a unix socket has no TLS; {@code https://} carries its own setting).
     */
    static DefaultDockerClientConfig.Builder tls(DefaultDockerClientConfig.Builder builder, String host, java.util.Map<String, String> env) {
        if (!host.regionMatches(true, 0, "tcp://", 0, 6)) {
            return builder;
        }
        String verify = env.getOrDefault("DOCKER_TLS_VERIFY", "").trim();
        if (verify.isEmpty() || verify.equals("0") || verify.equalsIgnoreCase("false")) {
            return builder.withDockerTlsVerify(false);
        }
        String certPath = env.getOrDefault("DOCKER_CERT_PATH", "").trim();
        java.nio.file.Path dir = certPath.isEmpty()
                ? java.nio.file.Path.of(System.getProperty("user.home"), ".docker") : java.nio.file.Path.of(certPath);
        for (String file : new String[]{"ca.pem", "cert.pem", "key.pem"}) {
            if (!java.nio.file.Files.isReadable(dir.resolve(file))) {
                throw new DockerExecutorException("DOCKER_TLS_VERIFY is set for DOCKER_HOST '" + host + "', but " + dir.resolve(file)
                        + " is missing or unreadable (DOCKER_CERT_PATH must hold ca.pem, cert.pem and key.pem)");
            }
        }
        return builder.withDockerTlsVerify(true).withDockerCertPath(dir.toString());
    }

    /** An httpclient5 transport; {@code responseTimeout} null for none (streaming calls). */
    private static DockerHttpClient httpClient(DefaultDockerClientConfig config, Duration connect, Duration responseTimeout) {
        ApacheDockerHttpClient.Builder b = new ApacheDockerHttpClient.Builder()
                .dockerHost(config.getDockerHost())
                .sslConfig(config.getSSLConfig())
                .maxConnections(64)
                .connectionTimeout(connect);
        if (responseTimeout != null) {
            b.responseTimeout(responseTimeout);
        }
        return b.build();
    }

    /** Compares two "major.minor" API versions. */
    static int compare(String a, String b) {
        String[] x = a.trim().split("\\.");
        String[] y = b.trim().split("\\.");
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            int xi = i < x.length ? Integer.parseInt(x[i]) : 0;
            int yi = i < y.length ? Integer.parseInt(y[i]) : 0;
            if (xi != yi) {
                return Integer.compare(xi, yi);
            }
        }
        return 0;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String message = t.getMessage();
        return message == null ? t.getClass().getSimpleName() : message;
    }

    public DockerClient client() {
        return client;
    }

    /** "Docker" or {@link #PODMAN}, as the engine's {@code /version} tells. */
    public String engineName() {
        return engineName;
    }

    /** True for Podman's Docker-compatible API. */
    public boolean isPodman() {
        return PODMAN.equals(engineName);
    }

    /** The engine as named in messages, e.g. "Podman 4.3.1" or "Docker 26.1.5". */
    public String engineLabel() {
        return engineName + " " + engineVersion;
    }

    /**
     * POSTs {@code jsonBody} to {@code path} (an unversioned path such as Podman's {@code /v4.0.0/libpod/...}, which
     * docker-java has no command for) with the ordinary call deadline; the HTTP status and up to 4 KiB of the body.
     */
    public RawResponse post(String path, String jsonBody) {
        DockerHttpClient.Request request = DockerHttpClient.Request.builder().method(DockerHttpClient.Request.Method.POST)
                .path(path).putHeader("Content-Type", "application/json")
                .body(new java.io.ByteArrayInputStream(jsonBody.getBytes(java.nio.charset.StandardCharsets.UTF_8))).build();
        try (DockerHttpClient.Response response = transport.execute(request); InputStream body = response.getBody()) {
            return new RawResponse(response.getStatusCode(),
                    body == null ? "" : new String(body.readNBytes(4096), java.nio.charset.StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new DockerExecutorException("POST " + path + " to DOCKER_HOST failed: " + rootMessage(e), e);
        }
    }

    /** Status and (bounded) body of a {@link #post}. */
    public record RawResponse(int status, String body) {
    }

    /** The engine's version, e.g. "26.1.5". */
    public String engineVersion() {
        return engineVersion;
    }

    /** The API version this client speaks, e.g. "1.45". */
    public String apiVersion() {
        return apiVersion;
    }

    @Override
    public void close() {
        try {
            client.close();
        } catch (IOException e) {
            LOG.debug("closing the Docker client failed", e);
        }
    }
}

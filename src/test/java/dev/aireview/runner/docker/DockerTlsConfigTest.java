package dev.aireview.runner.docker;

import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.LocalDirectorySSLConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** DOCKER_TLS_VERIFY / DOCKER_CERT_PATH are honoured for tcp:// hosts, checked up front, and ignored elsewhere. */
class DockerTlsConfigTest {
    static DefaultDockerClientConfig config(String host, Map<String, String> env) {
        return DockerConnection.tls(DefaultDockerClientConfig.createDefaultConfigBuilder().withDockerHost(host), host, env).build();
    }

    @Test
    void shouldUseTheCertificatesOfDockerCertPathWhenTlsVerifyIsSetForATcpHost(@TempDir Path certs) throws Exception {
        for (String f : new String[]{"ca.pem", "cert.pem", "key.pem"}) {
            Files.writeString(certs.resolve(f), "x");
        }
        DefaultDockerClientConfig c = config("tcp://127.0.0.1:2376", Map.of("DOCKER_TLS_VERIFY", "1", "DOCKER_CERT_PATH", certs.toString()));
        LocalDirectorySSLConfig ssl = assertInstanceOf(LocalDirectorySSLConfig.class, c.getSSLConfig());
        assertEquals(certs.toString(), ssl.getDockerCertPath());
    }

    @Test
    void shouldRefuseToStartWhenACertificateFileIsMissing(@TempDir Path certs) throws Exception {
        Files.writeString(certs.resolve("ca.pem"), "x");
        DockerExecutorException e = assertThrows(DockerExecutorException.class,
                () -> config("tcp://127.0.0.1:2376", Map.of("DOCKER_TLS_VERIFY", "true", "DOCKER_CERT_PATH", certs.toString())));
        assertTrue(e.getMessage().contains(certs.resolve("cert.pem").toString()), e.getMessage());
        assertTrue(e.getMessage().contains("DOCKER_CERT_PATH must hold ca.pem, cert.pem and key.pem"), e.getMessage());
    }

    @Test
    void shouldUsePlainTcpWithoutTlsVerifyAndLeaveUnixSocketsAlone(@TempDir Path certs) {
        for (String off : new String[]{"", "0", "false"}) {
            assertNull(config("tcp://127.0.0.1:2375", Map.of("DOCKER_TLS_VERIFY", off, "DOCKER_CERT_PATH", certs.toString())).getSSLConfig(), off);
        }
        // no certificates there, yet no error: a unix socket has no TLS
        DefaultDockerClientConfig unix = config("unix:///var/run/docker.sock", Map.of("DOCKER_TLS_VERIFY", "1", "DOCKER_CERT_PATH", certs.toString()));
        assertEquals("unix", unix.getDockerHost().getScheme());
    }
}

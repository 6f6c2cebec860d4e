package dev.aireview.runner.e2e;

import dev.aireview.runner.devserver.DevServer;
import dev.aireview.runner.docker.DockerTestSupport;
import dev.aireview.runner.docker.GitFixture;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.time.Duration;

/**
 * What every end-to-end class starts with and ends with: a git daemon with the fixture repository, a dev server,
 * (optionally) the shell test executor image; afterwards both are closed and nothing of any runner may remain.
 * Register as {@code @RegisterExtension static final E2eFixture fixture = ...}: its after-all check runs after the
 * class's own {@code @AfterAll} methods (which stop the runners they started).
 */
public final class E2eFixture implements BeforeAllCallback, AfterAllCallback {
    private final Duration heartbeatTimeout;
    private final boolean buildTestImage;
    private GitFixture git;
    private DevServer server;

    private E2eFixture(Duration heartbeatTimeout, boolean buildTestImage) {
        this.heartbeatTimeout = heartbeatTimeout;
        this.buildTestImage = buildTestImage;
    }

    /** With the shell test executor image ({@link DockerTestSupport#IMAGE}) built. */
    static E2eFixture withTestImage(Duration heartbeatTimeout) {
        return new E2eFixture(heartbeatTimeout, true);
    }

    /** Without the test image (the class brings its own). */
    public static E2eFixture withoutTestImage(Duration heartbeatTimeout) {
        return new E2eFixture(heartbeatTimeout, false);
    }

    public GitFixture git() {
        return git;
    }

    public DevServer server() {
        return server;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        if (buildTestImage) {
            DockerTestSupport.buildImage();
        }
        git = GitFixture.start();
        server = E2e.server(heartbeatTimeout);
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        try {
            if (server != null) {
                server.close();
            }
        } finally {
            if (git != null) {
                git.close();
            }
        }
        E2e.assertNothingLeft();
    }
}

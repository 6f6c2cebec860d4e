package dev.aireview.runner.docker;

import dev.aireview.runner.config.DockerConfig;

import java.util.List;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A test class's started Docker executor on the test image, with its git repository: built in {@code @BeforeAll},
 * closed in {@code @AfterAll}, where nothing of the JVM's runners may be left (containers, volumes, workspaces).
 */
final class ExecutorFixture implements AutoCloseable {
    final GitFixture git;
    final String runner;
    final DockerTaskExecutor executor;

    private ExecutorFixture(GitFixture git, String runner, DockerTaskExecutor executor) {
        this.git = git;
        this.runner = runner;
        this.executor = executor;
    }

    /** Builds the test image, serves the test repository, starts an executor (network host) named for {@code purpose}. */
    static ExecutorFixture start(String purpose, int poolSize, UnaryOperator<DockerConfig> settings) throws Exception {
        DockerTestSupport.buildImage();
        GitFixture git = GitFixture.start();
        String runner = DockerTestSupport.runnerName(purpose);
        DockerTaskExecutor executor;
        try {
            executor = new DockerTaskExecutor(settings.apply(DockerTestSupport.config(runner, "host", poolSize)));
            executor.start();
        } catch (Exception | Error e) {
            git.close();
            throw e;
        }
        return new ExecutorFixture(git, runner, executor);
    }

    /** The repository cache's directory of this fixture's runner. */
    java.nio.file.Path cacheDir() {
        return new Workspaces(DockerTestSupport.WORKSPACE_BASE, runner).runnerDir().resolve(Workspaces.REPO_CACHE_DIR);
    }

    /** Closes the executor and the repository, then asserts that nothing is left and removes the runner directories. */
    @Override
    public void close() throws Exception {
        try {
            executor.close();
        } finally {
            git.close();
        }
        assertEquals(List.of(), DockerTestSupport.leftovers(), "containers, volumes or workspaces left behind");
        DockerTestSupport.removeRunnerDirs();
    }
}

package dev.aireview.runner.docker;

import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Container;
import dev.aireview.runner.execution.TaskContext;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 13, clone credentials: over git's smart HTTP protocol (two servers on 127.0.0.1 that record every
 * Authorization header), the clone token reaches the task repository's own host and port only, never a host it is
 * redirected to; it is used by the runner's trusted fetch before any container of the task exists (issue 19), and is in
 * neither the configuration (env, argv) of the task's containers (cold or pre-warmed, with the clone network the
 * review's or another) nor the workspace.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class GitCredentialScopeDockerTest {
    private static final String TOKEN = "ghs_Sc0ped+Token/77xyz";
    private static final String ENCODED = "ghs_Sc0ped%2BToken%2F77xyz";

    private GitFixture git;
    private String runner;
    private DockerTaskExecutor executor;
    private final List<AutoCloseable> servers = new ArrayList<>();

    @BeforeAll
    void setUp() throws Exception {
        DockerTestSupport.buildImage();
        git = GitFixture.start();
        runner = DockerTestSupport.runnerName("credscope");
        executor = new DockerTaskExecutor(DockerTestSupport.config(runner, "host", 0));
        executor.start();
    }

    @AfterAll
    void tearDown() throws Exception {
        executor.close();
        for (AutoCloseable s : servers) {
            s.close();
        }
        git.close();
        assertEquals(List.of(), DockerTestSupport.leftovers(), "containers, volumes or workspaces left behind");
        DockerTestSupport.removeRunnerDirs();
    }

    private GitHttpServer server(String token, boolean challenge) throws Exception {
        GitHttpServer s = GitHttpServer.start(git.root(), token, challenge);
        servers.add(s);
        return s;
    }

    /** Everything the engine knows about how a container was started: env, entrypoint, command, args. */
    private static String configOf(InspectContainerResponse info) {
        return String.join("\n", Arrays.asList(info.getConfig().getEnv())) + "\n" + Arrays.toString(info.getConfig().getEntrypoint())
                + "\n" + Arrays.toString(info.getConfig().getCmd()) + "\n" + info.getPath() + "\n" + Arrays.toString(info.getArgs());
    }

    /**
     * What the engine knows about the clone of {@code taskId} while it runs (called while git waits for the server's
     * answer): the configuration of every container of the task (a clone container, or the review container the
     * clone runs in) and of the processes executed in them, prefixed by the container's role.
     */
    private static Runnable inspectClone(String taskId, List<String> into) {
        return () -> {
            StringBuilder seen = new StringBuilder();
            for (Container c : DockerTestSupport.containersOfTask(taskId)) {
                InspectContainerResponse info = DockerTestSupport.docker().inspectContainerCmd(c.getId()).exec();
                seen.append("role=").append(c.getLabels().get(Labels.ROLE)).append('\n').append(configOf(info)).append('\n');
                for (String execId : info.getExecIds() == null ? List.<String>of() : info.getExecIds()) {
                    var process = DockerTestSupport.docker().inspectExecCmd(execId).exec().getProcessConfig();
                    seen.append("exec ").append(process.getEntryPoint()).append(' ').append(process.getArguments()).append('\n');
                }
            }
            into.add(seen.toString());
        };
    }

    /**
     * While the task's credentials were in use (the server's first request), the task had no container at all: the
     * runner's trusted git fetches before any container of the executor image exists.
     */
    private static void assertCloneSeen(String config) {
        assertEquals("", config, "no container of the task exists while its credentials are in use");
    }

    /** A second executor whose clone needs its own container (clone network other than the review's). */
    private DockerTaskExecutor splitExecutor() throws Exception {
        DockerTaskExecutor split = new DockerTaskExecutor(DockerTestSupport.config(runner + "-split", "none", 0).withIsolation(null, "host"));
        split.start();
        return split;
    }

    @Test
    void shouldSendTheTokenToTheRepositoryHostOnlyAndFollowNoRedirectToAnotherPort() throws Exception {
        try (DockerTaskExecutor split = splitExecutor()) {
            redirectedClone(executor, false);
            redirectedClone(split, true);
        }
    }

    private void redirectedClone(DockerTaskExecutor ex, boolean ownContainer) throws Exception {
        GitHttpServer elsewhere = server(null, true);
        List<String> cloneConfig = new CopyOnWriteArrayList<>();
        GitHttpServer origin = server(TOKEN, true).redirectTo(elsewhere);
        ReviewTask task = DockerTestSupport.task(null, origin.url("shop.git"), "feature/x", git.head(), null, TOKEN);
        origin.onFirstRequest(inspectClone(task.id(), cloneConfig));
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(90));

        TaskResult result = ex.execute(task, ctx);

        assertEquals(ErrorKind.CLONE_FAILED, result.error().kind(), () -> result + "\n" + ctx.lines());
        assertTrue(result.error().message().contains("redirect"), result.error().message());
        assertTrue(origin.authorizations().contains(GitHttpServer.basic("x-access-token", TOKEN)),
                "the repository's own host got the token: " + origin.seen);
        // under git's default http.followRedirects=initial the redirected first request does reach the other port
        // (observed with git 2.39: unauthenticated there, but the clone then continues against the new base URL)
        assertEquals(List.of(), elsewhere.seen, "the host redirected to got no request, let alone the token");
        assertEquals(1, cloneConfig.size(), "the task's containers were inspected while the clone ran");
        assertCloneSeen(cloneConfig.get(0));
        assertFalse(cloneConfig.get(0).contains(TOKEN), "token in a container's configuration: " + cloneConfig.get(0));
        assertFalse(ctx.lines().stream().anyMatch(l -> l.contains(TOKEN)), ctx.lines().toString());
    }

    @Test
    void shouldLeaveNoCredentialInTheWorkspaceOrTheCloneContainerConfiguration() throws Exception {
        for (boolean inUrl : List.of(false, true)) {
            GitHttpServer origin = server(TOKEN, true);
            String plain = origin.url("shop.git");
            String url = inUrl ? plain.replace("http://", "http://x-access-token:" + ENCODED + "@") : plain;
            ReviewTask task = DockerTestSupport.task(null, url, "feature/x", git.head(), null, inUrl ? null : TOKEN);
            List<String> cloneConfig = new CopyOnWriteArrayList<>();
            origin.onFirstRequest(inspectClone(task.id(), cloneConfig));
            List<String> workspaceFindings = new CopyOnWriteArrayList<>();
            List<String> gitConfig = new CopyOnWriteArrayList<>();
            RecordingContext recording = new RecordingContext(Duration.ofSeconds(90));
            recording.onPhase = phase -> {
                if (phase == TaskPhase.REVIEWING) {
                    scanWorkspace(task.id(), workspaceFindings, gitConfig);
                }
            };
            TaskContext ctx = recording;

            TaskResult result = executor.execute(task, ctx);

            String how = inUrl ? "credentials in the URL" : "clone token";
            assertEquals(ResultStatus.COMPLETED, result.status(), () -> how + ": " + result + "\n" + recording.lines());
            assertTrue(origin.authorizations().contains(GitHttpServer.basic("x-access-token", TOKEN)), how + ": " + origin.seen);
            assertEquals(1, cloneConfig.size(), how);
            assertCloneSeen(cloneConfig.get(0));
            assertFalse(cloneConfig.get(0).contains(TOKEN) || cloneConfig.get(0).contains(ENCODED),
                    how + ": token in a container's configuration: " + cloneConfig.get(0));
            assertEquals(1, gitConfig.size(), how + ": the workspace was scanned while the review ran");
            assertTrue(gitConfig.get(0).contains("url = " + plain), how + ": " + gitConfig.get(0));
            assertEquals(List.of(), workspaceFindings, how + ": files in the workspace holding the token");
        }
    }

    @Test
    void shouldKeepTheTokenOutOfAPreWarmedContainer() throws Exception {
        String poolRunner = DockerTestSupport.runnerName("credpool");
        try (DockerTaskExecutor pooled = new DockerTaskExecutor(DockerTestSupport.config(poolRunner, "host", 1))) {
            pooled.start();
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> pooled.readyPoolContainers() == 1);
            GitHttpServer origin = server(TOKEN, true);
            ReviewTask task = DockerTestSupport.task(null, origin.url("shop.git"), "feature/x", git.head(), null, TOKEN);
            List<String> containerConfig = new CopyOnWriteArrayList<>();
            origin.onFirstRequest(() -> DockerTestSupport.containersOfRunner(poolRunner).forEach(c ->
                    containerConfig.add(configOf(DockerTestSupport.docker().inspectContainerCmd(c.getId()).exec()))));
            RecordingContext ctx = new RecordingContext(Duration.ofSeconds(90));

            TaskResult result = pooled.execute(task, ctx);

            assertEquals(ResultStatus.COMPLETED, result.status(), () -> result + "\n" + ctx.lines());
            assertTrue(ctx.logged("using pre-warmed container"), ctx.lines().toString());
            assertTrue(origin.authorizations().contains(GitHttpServer.basic("x-access-token", TOKEN)), origin.seen.toString());
            assertFalse(containerConfig.isEmpty(), "the pooled container was inspected during the clone");
            containerConfig.forEach(c -> assertFalse(c.contains(TOKEN), "token in a container's configuration: " + c));
        }
    }

    /** Finds the workspace mounted into the task's review container and every file in it that holds the token. */
    private static void scanWorkspace(String taskId, List<String> findings, List<String> gitConfig) {
        // the workspace once, however many of the task's containers mount it (the clone container may still be
        // being removed beside the review)
        java.util.Set<String> scanned = new java.util.HashSet<>();
        for (Container c : DockerTestSupport.containersOfTask(taskId)) {
            InspectContainerResponse info;
            try {
                info = DockerTestSupport.docker().inspectContainerCmd(c.getId()).exec();
            } catch (com.github.dockerjava.api.exception.NotFoundException gone) {
                continue; // the clone container, removed beside the review meanwhile
            }
            for (InspectContainerResponse.Mount m : info.getMounts()) {
                if (!ContainerSpecs.WORKSPACE.equals(m.getDestination().getPath()) || !scanned.add(m.getSource())) {
                    continue;
                }
                Path ws = Path.of(m.getSource());
                try (Stream<Path> files = Files.walk(ws)) {
                    for (Path f : files.filter(Files::isRegularFile).toList()) {
                        byte[] bytes = Files.readAllBytes(f);
                        String text = new String(bytes, StandardCharsets.ISO_8859_1);
                        if (text.contains(TOKEN) || text.contains(ENCODED)) {
                            findings.add(ws.relativize(f).toString());
                        }
                    }
                    gitConfig.add(Files.readString(ws.resolve("repo/.git/config")));
                } catch (java.io.IOException e) {
                    findings.add("cannot scan: " + e);
                }
            }
        }
    }
}

package dev.aireview.runner.docker;

import com.sun.net.httpserver.BasicAuthenticator;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpServer;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Clone over git's dumb HTTP transport behind basic auth (served on 127.0.0.1 by the test): the token reaches the
 * server only through the credential helper, and a server without shallow support is retried without --depth.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class GitCloneDockerTest {
    private static final String TOKEN = "tok_Secr3t+value/42";

    private GitFixture git;
    private HttpServer http;
    private final AtomicInteger authenticated = new AtomicInteger();
    private final AtomicInteger refused = new AtomicInteger();
    private String runner;
    private DockerTaskExecutor executor;

    @BeforeAll
    void setUp() throws Exception {
        DockerTestSupport.buildImage();
        git = GitFixture.start();
        http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        HttpContext context = http.createContext("/shop.git", exchange -> {
            Path file = git.repo.resolve(exchange.getRequestURI().getPath().substring("/shop.git".length()).replaceFirst("^/", ""))
                    .normalize();
            if (!file.startsWith(git.repo) || !Files.isRegularFile(file)) {
                exchange.sendResponseHeaders(404, -1);
                exchange.close();
                return;
            }
            byte[] body = Files.readAllBytes(file);
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        context.setAuthenticator(new BasicAuthenticator("git") {
            @Override
            public boolean checkCredentials(String user, String password) {
                boolean ok = "x-access-token".equals(user) && TOKEN.equals(password);
                (ok ? authenticated : refused).incrementAndGet();
                return ok;
            }
        });
        http.start();
        runner = DockerTestSupport.runnerName("clone");
        executor = new DockerTaskExecutor(DockerTestSupport.config(runner, "host", 0));
        executor.start();
    }

    @AfterAll
    void tearDown() throws Exception {
        executor.close();
        http.stop(0);
        git.close();
        assertEquals(List.of(), DockerTestSupport.leftovers(), "containers, volumes or workspaces left behind");
        DockerTestSupport.removeRunnerDirs();
    }

    private String url() {
        return "http://127.0.0.1:" + http.getAddress().getPort() + "/shop.git";
    }

    @Test
    void shouldCloneWithTheTokenThroughTheCredentialHelperAndFallBackFromShallow() {
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(60));
        ReviewTask task = DockerTestSupport.task(null, url(), "feature/x", git.middle(), null, TOKEN);

        TaskResult result = executor.execute(task, ctx);

        assertEquals(ResultStatus.COMPLETED, result.status(), () -> result + "\n" + ctx.lines());
        assertTrue(result.summary().contains("head=" + git.middle()), result.summary());
        assertTrue(result.summary().contains("depth=2 "), "full history after the shallow retry: " + result.summary());
        assertTrue(ctx.logged("does not support shallow fetches"), ctx.lines().toString());
        assertTrue(authenticated.get() > 0, "the server saw the token");
        assertFalse(ctx.lines().stream().anyMatch(l -> l.contains(TOKEN) || l.contains("Secr3t")), "token never in the output");
        assertEquals(List.of(), DockerTestSupport.containersOfTask(task.id()));
    }

    @Test
    void shouldReportCloneFailedWithoutTheTokenWhenAuthIsRefused() {
        RecordingContext ctx = new RecordingContext(Duration.ofSeconds(60));
        String wrong = "wrong-token-123456";
        ReviewTask task = DockerTestSupport.task(null, url(), "feature/x", git.head(), null, wrong);

        TaskResult result = executor.execute(task, ctx);

        assertEquals(ErrorKind.CLONE_FAILED, result.error().kind(), () -> result + "\n" + ctx.lines());
        assertTrue(result.error().message().contains("Authentication failed"), result.error().message());
        assertFalse(result.error().message().contains(wrong), result.error().message());
        assertTrue(refused.get() > 0);
    }
}

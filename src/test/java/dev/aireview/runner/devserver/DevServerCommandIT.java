package dev.aireview.runner.devserver;

import dev.aireview.runner.testsupport.TestJvm;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** The {@code dev-server} subcommand of the packaged jar: starts, serves the protocol, stops on SIGTERM. */
class DevServerCommandIT {
    private static final Pattern LISTENING = Pattern.compile("listening on (http://\\S+)");
    private static final Pattern GENERATED = Pattern.compile("token \\(generated, shown only now\\): (\\S+)");

    private Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> seen = java.util.Collections.synchronizedList(new ArrayList<>());

    @AfterEach
    void kill() throws Exception {
        if (process != null && process.isAlive()) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private void launch(String token, String... args) throws Exception {
        Path jar = Path.of(System.getProperty("runner.jar", "target/ai-review-runner.jar"));
        assertTrue(Files.isRegularFile(jar), "packaged jar missing: " + jar);
        List<String> cmd = new ArrayList<>(TestJvm.command("-jar", jar.toString(), "dev-server"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("DEV_SERVER_TOKEN");
        if (token != null) {
            pb.environment().put("DEV_SERVER_TOKEN", token);
        }
        process = pb.start();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    seen.add(line);
                    lines.add(line);
                }
            } catch (Exception ignored) {
                // process ended
            }
        }, "dev-server-it-output");
        reader.setDaemon(true);
        reader.start();
    }

    /** Waits (on the output queue) for a line matching {@code p}; returns its first group. */
    private String awaitLine(Pattern p) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            String line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
            if (line == null) {
                break;
            }
            Matcher m = p.matcher(line);
            if (m.find()) {
                return m.group(1);
            }
        }
        fail("no line matching " + p + " in the output:\n" + String.join("\n", seen));
        return null;
    }

    @Test
    void shouldServeTheProtocolWithTheTokenFromTheEnvironmentAndStopOnSigterm() throws Exception {
        String token = "it-env-token-5f3a9c";
        launch(token, "--port", "0", "--heartbeat-timeout-ms", "5000");
        String baseUrl = awaitLine(LISTENING);
        Api api = new Api(baseUrl, token);
        assertEquals(200, api.withToken(null).get("/api/health").status());
        assertEquals(201, api.register("it-runner", 2).status());
        assertEquals(401, api.withToken("nope").register("it-runner", 2).status());
        Api.Reply enq = api.post("/api/admin/tasks", "{\"repository\":\"https://git.example/a/b.git\",\"branch\":\"main\"}");
        assertEquals(201, enq.status(), enq.toString());
        assertEquals(enq.data().get("id").asText(), api.poll("it-runner", 1, 1000).data().get(0).get("id").asText());
        assertEquals(200, api.withToken(null).get("/").status());

        process.destroy(); // SIGTERM
        assertTrue(process.waitFor(90, TimeUnit.SECONDS), "dev-server did not stop on SIGTERM");
        assertThrows(ConnectException.class, () -> api.get("/api/health"));
        synchronized (seen) {
            assertTrue(seen.stream().noneMatch(l -> l.contains(token)), "the token must not be printed");
        }
    }

    @Test
    void shouldGenerateAndPrintATokenOnceWhenNoneIsGiven() throws Exception {
        launch(null, "--port", "0");
        String baseUrl = awaitLine(LISTENING);
        String token = awaitLine(GENERATED);
        Api api = new Api(baseUrl, token);
        assertEquals(201, api.register("it-runner", 1).status());
        assertEquals(200, api.get("/api/admin/runners").status());
        process.destroy();
        assertTrue(process.waitFor(90, TimeUnit.SECONDS));
        synchronized (seen) {
            assertEquals(1, seen.stream().filter(l -> l.contains(token)).count(), String.join("\n", seen));
        }
    }
}

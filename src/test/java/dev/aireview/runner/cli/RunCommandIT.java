package dev.aireview.runner.cli;

import dev.aireview.runner.testsupport.TestJvm;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Runs the packaged jar as a process: a bad or missing configuration prints every problem and exits 2. */
class RunCommandIT {
    static final String TOKEN = "it-token-SECRET-31337";

    record Result(int exit, String out, String err) {
    }

    private static Result runJar(Map<String, String> env, String... args) throws Exception {
        String jar = System.getProperty("runner.jar");
        assertNotNull(jar, "runner.jar system property (set by failsafe)");
        assertTrue(new File(jar).isFile(), jar);
        List<String> cmd = new ArrayList<>(TestJvm.command("-jar", jar));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("RUNNER_") || k.startsWith("DOCKER_"));
        pb.environment().putAll(env);
        Path out = Files.createTempFile("runner-it", ".out");
        Path err = Files.createTempFile("runner-it", ".err");
        try {
            pb.redirectOutput(out.toFile()).redirectError(err.toFile());
            Process p = pb.start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("runner did not exit");
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    @Test
    void shouldExit2AndPrintEveryMissingVariable() throws Exception {
        Result r = runJar(Map.of(), "run");
        assertEquals(2, r.exit(), r.out() + r.err());
        for (String var : List.of("RUNNER_SERVER_URL", "RUNNER_TOKEN", "RUNNER_NAME", "DOCKER_EXECUTOR_IMAGE")) {
            assertTrue(r.err().contains(var + ": required"), var + " in\n" + r.err());
        }
    }

    @Test
    void shouldExit2AndPrintEveryBadValueButNeverTheToken() throws Exception {
        Result r = runJar(Map.of(
                "RUNNER_SERVER_URL", "localhost:3000",
                "RUNNER_TOKEN", TOKEN,
                "RUNNER_NAME", "it runner",
                "DOCKER_EXECUTOR_IMAGE", "img",
                "RUNNER_POLL_TIMEOUT_MS", "10",
                "DOCKER_CPU_LIMIT", "many",
                "DOCKER_MEMORY_LIMIT", "0"), "run", "--pull-policy", "maybe");
        assertEquals(2, r.exit(), r.out() + r.err());
        for (String expected : List.of("RUNNER_SERVER_URL='localhost:3000'", "RUNNER_NAME='it runner'", "RUNNER_POLL_TIMEOUT_MS='10'",
                "DOCKER_CPU_LIMIT='many'", "DOCKER_MEMORY_LIMIT='0'", "DOCKER_PULL_POLICY='maybe'", "(6 problem(s))")) {
            assertTrue(r.err().contains(expected), expected + " in\n" + r.err());
        }
        assertFalse(r.err().contains(TOKEN));
        assertFalse(r.out().contains(TOKEN));
    }

    @Test
    void shouldPrintHelpAndVersion() throws Exception {
        Result help = runJar(Map.of(), "run", "--help");
        assertEquals(0, help.exit());
        assertTrue(help.out().contains("--server-url") && help.out().contains("[RUNNER_SERVER_URL]"), help.out());
        Result version = runJar(Map.of(), "--version");
        assertEquals(0, version.exit());
        assertTrue(version.out().startsWith("ai-review-runner "), version.out());
    }
}

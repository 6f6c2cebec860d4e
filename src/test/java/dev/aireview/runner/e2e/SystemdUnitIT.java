package dev.aireview.runner.e2e;

import dev.aireview.runner.devserver.TaskSnapshot;
import dev.aireview.runner.docker.DockerTestSupport;
import dev.aireview.runner.testsupport.ExecutorImages;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The shipped systemd unit ({@code docker/ai-review-runner.service}) started the way systemd starts it, since the unit
 * is what operators copy: its {@code ExecStart} (with {@code $JAVA_OPTS} split as systemd splits an unbraced
 * variable), as a non-root user whose only supplementary group is the Docker socket's ({@code User=} +
 * {@code SupplementaryGroups=docker}), under its {@code UMask=}, with its {@code Environment=} lines and then its
 * {@code EnvironmentFile=} (which overrides them, as in systemd), in a {@code StateDirectory=} made the way systemd
 * makes it. It must come up and complete a review; with the mode of a created file filtered by the umask it exited 1
 * at the workspace mount check.
 *
 * <p>Needs root (to drop to another user) and {@code setpriv}; skipped otherwise. Only the paths are the test's: the
 * jar and the state directory (the Docker engine must see the workspaces at the same path), and the environment
 * file's content (the runner's settings for this dev server).
 */
class SystemdUnitIT {
    @RegisterExtension
    static final E2eFixture fixture = E2eFixture.withTestImage(Duration.ofSeconds(30));
    /** A uid no account uses: the unit's {@code User=} only has to be someone other than root. */
    static final int UID = 61_000 + (int) (ProcessHandle.current().pid() % 1000);

    private static final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterAll
    static void tearDown() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    /** The unit's {@code [Service]} settings, each key with every value in order. */
    static Map<String, List<String>> serviceSettings(Path unit) throws IOException {
        Map<String, List<String>> s = new LinkedHashMap<>();
        boolean service = false;
        for (String raw : Files.readAllLines(unit)) {
            String line = raw.strip();
            if (line.startsWith("[")) {
                service = line.equals("[Service]");
                continue;
            }
            if (!service || line.isEmpty() || line.startsWith("#") || !line.contains("=")) {
                continue;
            }
            int eq = line.indexOf('=');
            s.computeIfAbsent(line.substring(0, eq), k -> new ArrayList<>()).add(line.substring(eq + 1));
        }
        return s;
    }

    /** One {@code Environment=} value: {@code K=V} or {@code "K=V with spaces"}. */
    static void putAssignment(Map<String, String> env, String value) {
        String v = value.strip();
        if (v.startsWith("\"") && v.endsWith("\"")) {
            v = v.substring(1, v.length() - 1);
        }
        int eq = v.indexOf('=');
        env.put(v.substring(0, eq), v.substring(eq + 1));
    }

    @Test
    void shouldStartTheShippedUnitAsItsUserUnderItsUmaskAndCompleteAReview() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root to start the unit's user");
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "needs setpriv");
        Path socket = Path.of("/var/run/docker.sock");
        assumeTrue(DockerTestSupport.dockerHost().equals("unix:///var/run/docker.sock") && Files.exists(socket),
                "needs the engine on the default socket");
        int dockerGid = (Integer) Files.getAttribute(socket, "unix:gid");

        Map<String, List<String>> unit = serviceSettings(ExecutorImages.projectRoot().resolve("docker/ai-review-runner.service"));
        assertNotEquals("root", unit.get("User").get(0), "the unit runs as its own user");
        assertEquals(List.of("docker"), unit.get("SupplementaryGroups"));
        String umask = unit.get("UMask").get(0);

        // StateDirectory=ai-review ai-review/workspaces, StateDirectoryMode: created for the user with that mode
        String runner = DockerTestSupport.runnerName("systemd");
        Path state = Files.createDirectories(DockerTestSupport.WORKSPACE_BASE).resolve(runner + "-state");
        Path workspaces = state.resolve("workspaces");
        Files.createDirectories(workspaces);
        toClose.add(() -> deleteTree(state));
        String stateMode = unit.get("StateDirectoryMode").get(0);
        for (Path p : List.of(state, workspaces)) {
            Files.setAttribute(p, "unix:uid", UID, LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(p, "unix:gid", UID, LinkOption.NOFOLLOW_LINKS);
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(rwx(Integer.parseInt(stateMode, 8))));
        }
        // install -D -m 0644 target/ai-review-runner.jar /opt/ai-review-runner/ai-review-runner.jar
        Path opt = Files.createDirectories(state.resolveSibling(runner + "-opt"));
        toClose.add(() -> deleteTree(opt));
        Path jar = Files.copy(ExecutorImages.runnerJar(), opt.resolve("ai-review-runner.jar"));
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));

        // the environment: Environment= lines, then the EnvironmentFile (it overrides them)
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        unit.get("Environment").forEach(v -> putAssignment(env, v));
        assertNotNull(unit.get("EnvironmentFile"), "the unit reads its settings from an environment file");
        Map<String, String> file = new LinkedHashMap<>(E2e.env(fixture.server(), runner, DockerTestSupport.IMAGE, 1));
        file.put("DOCKER_WORKSPACE_BASE", workspaces.toString());
        env.putAll(file);

        // ExecStart, $JAVA_OPTS split on white space like systemd does for an unbraced variable
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/setpriv", "--reuid=" + UID, "--regid=" + UID,
                "--groups=" + dockerGid, "--inh-caps=-all", "--no-new-privs", "--", "/bin/sh", "-c", "umask " + umask + " && exec \"$@\"", "sh"));
        for (String token : unit.get("ExecStart").get(0).strip().split("\\s+")) {
            if (token.startsWith("$")) {
                String value = env.getOrDefault(token.substring(1), "");
                cmd.addAll(Arrays.stream(value.split("\\s+")).filter(t -> !t.isEmpty()).toList());
            } else {
                cmd.add(token.equals("/opt/ai-review-runner/ai-review-runner.jar") ? jar.toString() : token);
            }
        }
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().clear();
        pb.environment().putAll(env);
        Path out = Files.createTempFile("systemd-unit-" + runner, ".log");
        pb.redirectErrorStream(true).redirectOutput(out.toFile());
        E2e.RunnerProcess process = new E2e.RunnerProcess(runner, pb.start(), out);
        toClose.add(process);

        fixture.server().awaitRunners(rs -> rs.stream().anyMatch(r -> r.id().equals(runner) && r.online())
                || !process.process().isAlive(), Duration.ofSeconds(90));
        assertTrue(process.process().isAlive(), "the unit's runner did not start:\n" + process.output());
        assertEquals(UID, uidOf(process.process()), "runs as the unit's user");

        String id = fixture.server().enqueue(E2e.task(fixture.git(), null).build());
        TaskSnapshot done = fixture.server().awaitTerminal(id, Duration.ofSeconds(120));
        assertEquals("completed", done.resultStatus(), done.errorKind() + " " + done.errorMessage() + "\n" + process.output());

        assertEquals(0, process.terminate(), "SIGTERM drains and exits 0:\n" + process.output());
        assertTrue(process.process().waitFor(1, TimeUnit.SECONDS));
        assertEquals(List.of(), DockerTestSupport.containersOfRunner(runner));
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (var walk = Files.walk(root)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static String rwx(int mode) {
        StringBuilder s = new StringBuilder();
        for (int shift = 6; shift >= 0; shift -= 3) {
            int bits = (mode >> shift) & 7;
            s.append((bits & 4) != 0 ? 'r' : '-').append((bits & 2) != 0 ? 'w' : '-').append((bits & 1) != 0 ? 'x' : '-');
        }
        return s.toString();
    }

    /** The real uid of the runner's JVM (the setpriv'd shell exec'd into it). */
    private static int uidOf(Process p) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(p.pid()), "status"))) {
            if (line.startsWith("Uid:")) {
                return Integer.parseInt(line.split("\\s+")[1]);
            }
        }
        throw new AssertionError("no Uid line for " + p.pid());
    }
}

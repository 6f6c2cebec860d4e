package dev.aireview.runner.docker;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.awaitility.Awaitility.await;

/**
 * A local git repository ({@code feature/x}: base → middle → head, plus a commit on {@code main}) served by
 * {@code git daemon} on 127.0.0.1; containers reach it with network mode {@code host}.
 */
public final class GitFixture implements AutoCloseable {
    final Path root;
    final Path repo;
    private final Process daemon;
    private final int port;
    private final String base;
    private final String middle;
    private final String head;

    private GitFixture(Path root, Path repo, Process daemon, int port, String base, String middle, String head) {
        this.root = root;
        this.repo = repo;
        this.daemon = daemon;
        this.port = port;
        this.base = base;
        this.middle = middle;
        this.head = head;
    }

    public static GitFixture start() throws Exception {
        Path root = Files.createTempDirectory("ai-review-git");
        Path repo = root.resolve("shop.git");
        Path work = root.resolve("work");
        Files.createDirectories(work);
        git(work, "init", "-q", "-b", "main");
        Files.writeString(work.resolve("README.md"), "shop\n");
        git(work, "add", ".");
        git(work, "commit", "-q", "-m", "initial");
        git(work, "checkout", "-q", "-b", "feature/x");
        Files.writeString(work.resolve("cart.ts"), "export const cart = [];\n");
        git(work, "add", ".");
        git(work, "commit", "-q", "-m", "cart");
        String base = git(work, "rev-parse", "HEAD~1");
        String middle = git(work, "rev-parse", "HEAD");
        Files.writeString(work.resolve("cart.ts"), "export const cart = [];\nexport function add(x) { cart.push(x); }\n");
        git(work, "add", ".");
        git(work, "commit", "-q", "-m", "add to cart");
        String head = git(work, "rev-parse", "HEAD");
        git(root, "clone", "-q", "--bare", work.toString(), repo.toString());
        git(repo, "update-server-info");
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Process daemon = new ProcessBuilder("git", "daemon", "--reuseaddr", "--listen=127.0.0.1", "--port=" + port,
                "--base-path=" + root, "--export-all", root.toString())
                .redirectErrorStream(true).redirectOutput(root.resolve("daemon.log").toFile()).start();
        GitFixture fixture = new GitFixture(root, repo, daemon, port, base, middle, head);
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return true;
            }
        });
        return fixture;
    }

    static String git(Path dir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add("git");
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.put("GIT_AUTHOR_NAME", "Test");
        env.put("GIT_AUTHOR_EMAIL", "test@example.invalid");
        env.put("GIT_COMMITTER_NAME", "Test");
        env.put("GIT_COMMITTER_EMAIL", "test@example.invalid");
        env.put("GIT_CONFIG_NOSYSTEM", "1");
        env.put("HOME", dir.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (p.waitFor() != 0) {
            throw new IOException("git " + String.join(" ", args) + " failed: " + out);
        }
        return out;
    }

    /** git:// URL of the repository (reachable from containers on network host). */
    public String url() {
        return "git://127.0.0.1:" + port + "/shop.git";
    }

    /**
     * git:// URL of another repository placed under {@link #root()} (the daemon exports every repository there),
     * e.g. a working tree made by the test.
     */
    public String url(String repositoryDirName) {
        return "git://127.0.0.1:" + port + "/" + repositoryDirName;
    }

    /** The directory the daemon serves. */
    public Path root() {
        return root;
    }

    public String missingUrl() {
        return "git://127.0.0.1:" + port + "/nope.git";
    }

    public String base() {
        return base;
    }

    /** A commit on feature/x that is not the branch tip. */
    public String middle() {
        return middle;
    }

    public String head() {
        return head;
    }

    @Override
    public void close() throws Exception {
        daemon.destroy();
        if (!daemon.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
            daemon.destroyForcibly();
        }
        Workspaces.deleteTree(root);
    }
}

package dev.aireview.runner.source;

import dev.aireview.runner.docker.Workspaces;
import dev.aireview.runner.execution.CancelSignal;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The stream a pre-warmed task's checkout is made from ({@link PackStream}), read from a shallow cache entry by host git
 * and indexed by {@link CachedCheckout#SCRIPT} ({@code GIT_PACK_STDIN=1}) run by {@code sh} on this host, with its
 * standard input never closed (as an exec's is not): the script must know where the stream ends.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PackStreamTest {
    private Path dir;
    private Path entry;
    private final List<String> shas = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        dir = Files.createTempDirectory("ai-review-pack-stream");
        Path src = dir.resolve("src");
        git(dir, "init", "-q", "-b", "main", src.toString());
        for (int i = 1; i <= 6; i++) {
            Files.writeString(src.resolve("f" + i + ".txt"), "line " + i + "\n");
            git(src, "add", ".");
            git(src, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "c" + i);
            shas.add(git(src, "rev-parse", "HEAD"));
        }
        // a shallow entry of the last 4 commits, as the cache holds after a fetch at depth 4
        entry = dir.resolve("entry");
        git(dir, "clone", "-q", "--bare", "--depth", "4", "file://" + src, entry.toString());
    }

    @AfterEach
    void tearDown() throws Exception {
        Workspaces.deleteTree(dir);
    }

    private static String git(Path cwd, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("git"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0, String.join(" ", cmd) + ": " + out);
        return out;
    }

    private PackStream open(String head, String base, int depth) throws IOException {
        GitRunner host = new HostGit(dir);
        return PackStream.open(host, entry, head, null, base, depth, Instant.now().plusSeconds(30), new CancelSignal());
    }

    /** Runs the checkout script with the stream on its stdin, which stays open until the script has ended. */
    private String checkout(PackStream stream, String head, String base) throws Exception {
        Path work = dir.resolve("work");
        ProcessBuilder pb = new ProcessBuilder("sh", "-c", CachedCheckout.SCRIPT).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.put("HOME", dir.toString());
        env.put("GIT_PACK_STDIN", "1");
        env.put("GIT_WORK_DIR", work.toString());
        env.put("GIT_SAFE_URL", "https://git.example.com/o/r.git");
        env.put("GIT_HEAD_SHA", head);
        env.put("GIT_BASE_SHA", base == null ? "" : base);
        env.put("GIT_CHECKOUT", "full");
        Process p = pb.start();
        Thread feed = new Thread(() -> {
            try (stream) {
                OutputStream in = p.getOutputStream();
                stream.transferTo(in);
                in.flush();
                // not closed: an exec's standard input sees no end
            } catch (IOException ignored) {
                // the script ended
            }
        });
        feed.start();
        InputStream out = p.getInputStream();
        String text = new String(out.readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "the script ended without an end of its input: " + text);
        assertEquals(0, p.exitValue(), text);
        p.getOutputStream().close();
        return text;
    }

    /**
     * Runs the checkout script as a pre-warmed container's waiting checkout ({@link CachedCheckout#waitingEnv}: nothing of
     * the task in its environment) with {@code input} on its stdin, closed after it; its exit code and output.
     */
    private Map.Entry<Integer, String> waiting(byte[] input) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("sh", "-c", CachedCheckout.SCRIPT).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("GIT_"));
        CachedCheckout.waitingEnv().forEach(e -> pb.environment().put(e.substring(0, e.indexOf('=')), e.substring(e.indexOf('=') + 1)));
        Process p = pb.start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(input);
        } catch (IOException ignored) {
            // the script ended before reading it all
        }
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), text);
        return Map.entry(p.exitValue(), text);
    }

    @Test
    void aWaitingCheckoutReadsItsSettingsFirstThenTheStream() throws Exception {
        String head = shas.get(5);
        Path work = dir.resolve("work");
        byte[] settings = CachedCheckout.settings(List.of("GIT_WORK_DIR=" + work, "GIT_SAFE_URL=https://git.example.com/o/r.git",
                "GIT_HEAD_SHA=" + head, "GIT_BASE_SHA=", "GIT_BRANCH=", "GIT_BRANCH_SHA=", "GIT_CHECKOUT=full"));
        java.io.ByteArrayOutputStream input = new java.io.ByteArrayOutputStream();
        input.writeBytes(settings);
        try (PackStream stream = open(head, null, 3)) {
            stream.transferTo(input);
        }

        Map.Entry<Integer, String> run = waiting(input.toByteArray());

        assertEquals(0, run.getKey(), run.getValue());
        assertTrue(run.getValue().contains("checked out " + head), run.getValue());
        assertEquals("3", git(work, "rev-list", "--count", "HEAD"), "depth 3, from the settings' work directory");
        assertEquals("https://git.example.com/o/r.git", git(work, "remote", "get-url", "origin"));
    }

    @Test
    void aWaitingCheckoutThatNoTaskTookEndsQuietlyAndOneWithBrokenSettingsFails() throws Exception {
        Map.Entry<Integer, String> untaken = waiting(new byte[0]);
        assertEquals(0, untaken.getKey(), untaken.getValue());
        assertEquals("", untaken.getValue(), "input that ends before any setting: nothing done, nothing said");

        Map.Entry<Integer, String> cut = waiting("GIT_HEAD_SHA=abc\n".getBytes(StandardCharsets.UTF_8));
        assertEquals(1, cut.getKey(), cut.getValue());
        assertTrue(cut.getValue().contains("clone failed: the settings ended early"), cut.getValue());

        Map.Entry<Integer, String> foreign = waiting("PATH=/tmp/evil\n\n".getBytes(StandardCharsets.UTF_8));
        assertEquals(1, foreign.getKey(), foreign.getValue());
        assertTrue(foreign.getValue().contains("clone failed: unexpected setting"), foreign.getValue());
    }

    @Test
    void settingsThatCannotGoAsLinesAreRefused() {
        assertEquals("GIT_A=x y\nGIT_B=\n\n", new String(CachedCheckout.settings(List.of("GIT_A=x y", "GIT_B=")), StandardCharsets.UTF_8));
        assertNull(CachedCheckout.settings(List.of("GIT_BRANCH=main\nGIT_EXEC_PATH=/tmp")), "a line break would make a second setting");
        assertNull(CachedCheckout.settings(List.of("GIT_BRANCH=a\rb")));
        assertNull(CachedCheckout.settings(List.of("=x")));
    }

    @Test
    void shouldStreamTheCommitsAtTheDepthWithTheShallowBoundary() throws Exception {
        String head = shas.get(5);
        PackStream stream = open(head, null, 2);
        assertNotNull(stream, "host git streams");

        String out = checkout(stream, head, null);

        Path work = dir.resolve("work");
        assertTrue(out.contains("checked out " + head), out);
        assertEquals("2", git(work, "rev-list", "--count", "HEAD"), "depth 2");
        assertEquals(shas.get(4), Files.readString(work.resolve(".git/shallow")).strip(), "the boundary of depth 2");
        assertEquals("line 6", Files.readString(work.resolve("f6.txt")).strip());
        git(work, "fsck", "--connectivity-only");
    }

    @Test
    void shouldAddTheBaseAndStopAtTheEntrysOwnBoundary() throws Exception {
        String head = shas.get(5);
        String base = shas.get(2);
        PackStream stream = open(head, base.substring(0, 12), 50);

        checkout(stream, head, base);

        Path work = dir.resolve("work");
        // depth 50 asks for more than the entry has: its own boundary (the 4th commit from the tip) is the checkout's
        assertEquals("4", git(work, "rev-list", "--count", "HEAD"));
        assertEquals(base, Files.readString(work.resolve(".git/shallow")).strip());
        git(work, "cat-file", "-e", base + "^{commit}");
    }

    @Test
    void shouldLeaveOutABaseTheEntryDoesNotHold() throws Exception {
        String head = shas.get(5);
        PackStream stream = open(head, shas.get(0), 1);

        String out = checkout(stream, head, shas.get(0));

        assertTrue(out.contains("checked out " + head), out);
        assertEquals("1", git(dir.resolve("work"), "rev-list", "--count", "HEAD"));
    }

    @Test
    void shouldFailNamingGitsErrorWhenTheEntryLacksTheCommit() throws Exception {
        try (PackStream stream = open("0123456789012345678901234567890123456789", null, 1)) {
            IOException e = assertThrows(IOException.class, () -> stream.transferTo(OutputStream.nullOutputStream()));
            assertTrue(e.getMessage().contains("upload-pack"), e.getMessage());
            assertEquals(e.getMessage(), stream.failure());
        }
    }
}

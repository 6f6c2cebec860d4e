package dev.aireview.runner.review;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A git repository built by a test with the host's git: a base commit with clean code, then a change commit
 * that plants findings for the offline reviewer. Also used by the image test.
 */
public final class FixtureRepo {

    public final Path dir;
    public final String baseSha;
    public final String headSha;

    private FixtureRepo(Path dir, String baseSha, String headSha) {
        this.dir = dir;
        this.baseSha = baseSha;
        this.headSha = headSha;
    }

    /**
     * Planted in the change commit (new-file line numbers):
     * {@code src/cart.js} 3 console.log (warning), 4 TODO (info), 6 password literal (error);
     * {@code src/Cart.java} 4 System.out.println (warning);
     * {@code notes.txt} 2 no final newline (info); {@code config/old.yml} deleted.
     */
    public static FixtureRepo create(Path dir) throws IOException {
        Files.createDirectories(dir);
        git(dir, "init", "-q", "-b", "main");
        write(dir, "src/cart.js", "export function total(cart) {\n  let sum = 0;\n  return sum;\n}\n");
        write(dir, "src/Cart.java", "class Cart {\n  int total() {\n    return 0;\n  }\n}\n");
        write(dir, "notes.txt", "first\n");
        write(dir, "config/old.yml", "a: 1\n");
        git(dir, "add", "-A");
        git(dir, "commit", "-q", "-m", "base");
        String base = git(dir, "rev-parse", "HEAD").strip();
        write(dir, "src/cart.js", "export function total(cart) {\n  let sum = 0;\n  console.log(cart);\n"
                + "  // TODO: apply discounts\n  for (const i of cart.items) sum += i.price;\n"
                + "  const password = \"hunter2-Sup3rS3cret\";\n  return sum;\n}\n");
        write(dir, "src/Cart.java", "class Cart {\n  int total() {\n    int t = 0;\n    System.out.println(\"total \" + t);\n    return t;\n  }\n}\n");
        write(dir, "notes.txt", "first\nsecond");
        Files.delete(dir.resolve("config/old.yml"));
        git(dir, "add", "-A");
        git(dir, "commit", "-q", "-m", "change");
        String head = git(dir, "rev-parse", "HEAD").strip();
        return new FixtureRepo(dir, base, head);
    }

    /** One more commit on top, touching only {@code src/extra.py} (a leftover breakpoint on line 2). */
    public String commitExtra() throws IOException {
        write(dir, "src/extra.py", "def f():\n    breakpoint()\n    return 1\n");
        git(dir, "add", "-A");
        git(dir, "commit", "-q", "-m", "extra");
        return git(dir, "rev-parse", "HEAD").strip();
    }

    private static void write(Path dir, String path, String content) throws IOException {
        Path p = dir.resolve(path);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content, StandardCharsets.UTF_8);
    }

    public static String git(Path dir, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("git", "-c", "user.name=Fixture", "-c", "user.email=fixture@example.invalid",
                "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main", "-C", dir.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("git " + String.join(" ", args) + " failed: " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return out;
    }
}

package dev.aireview.runner.review;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewComment;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.review.ai.AiReviewer;
import dev.aireview.runner.review.ai.RetryPolicy;
import dev.aireview.runner.review.rules.OfflineReviewer;
import dev.aireview.runner.testsupport.FakeOpenAi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shapes real commits come in, each a generated repository (base commit, then the shape's commit), reviewed by
 * both paths as the executor runs them (offline rules; the AI reviewer against {@link FakeOpenAi} on loopback):
 * renames, copies, modes, binaries, symlinks, submodules, huge hunks and many files, newline and encoding oddities,
 * odd names, empty, merge and root commits. Every review completes (never an internal error), and every comment sits
 * on a line the change added ({@code git blame} at head names a commit of the change).
 */
class DiffShapesTest {

    private static FakeOpenAi provider;
    private static Path root;

    @BeforeAll
    static void start() throws IOException {
        provider = new FakeOpenAi();
        root = Files.createTempDirectory("diff-shapes");
    }

    @AfterAll
    static void stop() throws IOException {
        provider.close();
        try (Stream<Path> all = Files.walk(root)) {
            all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        assertFalse(Files.exists(root), "fixture repositories removed");
    }

    /** A change to make on top of the base commit; returns the task's {@code [baseSha, headSha]} (base may be null). */
    interface Change {
        String[] apply(Repo r) throws IOException;
    }

    /** @param aiComments whether the fake model has an added text line to comment on (then at least one is posted) */
    record Shape(String name, boolean aiComments, Change change) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Shape> shapes() {
        List<Shape> s = new ArrayList<>();
        s.add(new Shape("modify a line", true, r -> r.change(() -> r.write("src/app.py", r.pyLines(30).replace("line 10", "line ten")))));
        s.add(new Shape("add a file", true, r -> r.change(() -> r.write("src/new.py", "def f():\n    return 1\n"))));
        s.add(new Shape("delete a file", false, r -> r.change(() -> r.rm("src/Main.java"))));
        s.add(new Shape("empty a file", false, r -> r.change(() -> r.write("src/app.py", ""))));
        s.add(new Shape("empty one file, edit another", true, r -> r.change(() -> {
            r.write("src/Main.java", "");
            r.write("README.md", "# Title\n\nNew text.\n");
        })));
        s.add(new Shape("delete the last lines", false, r -> r.change(() -> r.write("src/app.py", r.pyLines(25)))));
        s.add(new Shape("delete the first lines", false, r -> r.change(() -> r.write("src/app.py",
                r.pyLines(30).substring(r.pyLines(30).indexOf("    x6 ="))))));
        s.add(new Shape("pure rename", false, r -> r.change(() -> {
            Files.createDirectories(r.dir.resolve("src/moved"));
            r.git("mv", "src/app.py", "src/moved/app.py");
        })));
        s.add(new Shape("rename with an edit", true, r -> r.change(() -> {
            r.git("mv", "src/app.py", "src/renamed.py");
            r.write("src/renamed.py", r.pyLines(30) + "print('extra')\n");
        })));
        s.add(new Shape("rename across directories with spaces", false, r -> r.change(() -> {
            Files.createDirectories(r.dir.resolve("docs dir"));
            r.git("mv", "README.md", "docs dir/read me.md");
        })));
        s.add(new Shape("copy", true, r -> r.change(() -> r.write("src/app_copy.py", r.pyLines(30) + "extra = 1\n"))));
        s.add(new Shape("case-only rename", false, r -> r.change(() -> r.git("mv", "README.md", "readme.md"))));
        s.add(new Shape("mode only", false, r -> r.change(() -> r.chmod("src/app.py", "rwxr-xr-x"))));
        s.add(new Shape("mode and content", true, r -> r.change(() -> {
            r.chmod("bin/run.sh", "rw-r--r--");
            r.write("bin/run.sh", "#!/bin/sh\necho run\necho more\n");
        })));
        s.add(new Shape("binary added", false, r -> r.change(() -> r.writeBytes("assets/new.png", r.binary(4096)))));
        s.add(new Shape("binary modified", false, r -> r.change(() -> r.writeBytes("assets/logo.png", r.binary(9000)))));
        s.add(new Shape("binary deleted", false, r -> r.change(() -> r.rm("assets/logo.png"))));
        s.add(new Shape("binary becomes text", false, r -> r.change(() -> r.write("assets/logo.png", "now text\n"))));
        s.add(new Shape("text becomes binary", false, r -> r.change(() -> r.writeBytes("src/Main.java", r.binary(300)))));
        s.add(new Shape("text file with a NUL byte", false, r -> r.change(() -> r.writeBytes("data/nul.txt",
                "abc\n\0def\n".getBytes(StandardCharsets.ISO_8859_1)))));
        s.add(new Shape("binary by .gitattributes", false, r -> r.change(() -> {
            r.write(".gitattributes", "*.dat binary\n");
            r.write("data/table.dat", "row 1\nrow 2\n");
        })));
        s.add(new Shape("symlink added", false, r -> r.change(() -> r.symlink("latest", "src/app.py"))));
        s.add(new Shape("symlink retargeted", false, r -> r.change(() -> r.symlink("link", "src/Main.java"))));
        s.add(new Shape("symlink becomes a file", true, r -> r.change(() -> {
            r.rm("link");
            r.write("link", "a regular file now\n");
        })));
        s.add(new Shape("file becomes a symlink", false, r -> r.change(() -> {
            r.rm("README.md");
            r.symlink("README.md", "docs/index.md");
        })));
        s.add(new Shape("submodule added", false, r -> r.commitIndex(() ->
                r.git("update-index", "--add", "--cacheinfo", "160000," + "1".repeat(40) + ",deps/lib"))));
        s.add(new Shape("submodule updated", false, r -> {
            String base = r.commitIndex(() -> r.git("update-index", "--add", "--cacheinfo", "160000," + "1".repeat(40) + ",deps/lib"))[1];
            String head = r.commitIndex(() -> r.git("update-index", "--cacheinfo", "160000," + "2".repeat(40) + ",deps/lib"))[1];
            return new String[]{base, head};
        }));
        s.add(new Shape("submodule removed", false, r -> {
            String base = r.commitIndex(() -> r.git("update-index", "--add", "--cacheinfo", "160000," + "1".repeat(40) + ",deps/lib"))[1];
            String head = r.commitIndex(() -> r.git("update-index", "--force-remove", "deps/lib"))[1];
            return new String[]{base, head};
        }));
        s.add(new Shape("huge hunk (20 000 added lines)", false, r -> r.change(() -> {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < 20_000; i++) {
                b.append("value_").append(i).append(" = compute(").append(i).append(")\n");
            }
            r.write("src/huge.py", b.toString());
        })));
        s.add(new Shape("many files (1 500)", true, r -> r.change(() -> {
            for (int i = 0; i < 1_500; i++) {
                r.write("gen/m" + (i / 100) + "/f" + i + ".py", "def f" + i + "():\n    return " + i + "\n");
            }
        })));
        s.add(new Shape("one very long line (1 MiB)", false, r -> r.change(() -> r.write("src/long.py", "x = '" + "a".repeat(1 << 20) + "'\n"))));
        s.add(new Shape("diff over the 32 MiB limit", false, r -> r.change(() -> {
            String line = "payload = '" + "p".repeat(100) + "'\n";
            for (int f = 0; f < 3; f++) {
                r.write("big/part" + f + ".py", "first = " + f + "\n" + line.repeat(120_000));
            }
        })));
        s.add(new Shape("no final newline added", true, r -> r.change(() -> r.write("src/Main.java", "class Main {\n}\n// end"))));
        s.add(new Shape("final newline added back", true, r -> r.change(() -> r.write("noeol.txt", "no newline\nmore\n"))));
        s.add(new Shape("edit a file that has no final newline", true, r -> r.change(() -> r.write("noeol.txt", "changed, still none"))));
        s.add(new Shape("CRLF file edited", true, r -> r.change(() -> r.write("win.txt", "one\r\ntwo\r\nthree changed\r\n"))));
        s.add(new Shape("CRLF to LF", true, r -> r.change(() -> r.write("win.txt", "one\ntwo\nthree\n"))));
        s.add(new Shape("mixed line endings and a lone CR", true, r -> r.change(() -> r.write("src/mixed.txt", "a\r\nb\nc\rd\n"))));
        s.add(new Shape("Latin-1 content", true, r -> r.change(() -> r.writeBytes("latin1.txt",
                "caf\u00e9 cr\u00e8me\nna\u00efve\n".getBytes(StandardCharsets.ISO_8859_1)))));
        s.add(new Shape("invalid UTF-8 bytes", true, r -> r.change(() -> r.writeBytes("src/bytes.txt",
                new byte[]{'o', 'k', '\n', (byte) 0xC3, (byte) 0x28, '\n', (byte) 0xFF, (byte) 0xFE, 'x', '\n'}))));
        s.add(new Shape("UTF-8 BOM", true, r -> r.change(() -> r.write("src/bom.py", "\uFEFFprint('bom')\n"))));
        s.add(new Shape("UTF-16 text", false, r -> r.change(() -> r.writeBytes("src/utf16.txt", "hello\nworld\n".getBytes(StandardCharsets.UTF_16)))));
        s.add(new Shape("non-ASCII file name", true, r -> r.change(() -> r.write("docs/na\u00efve r\u00e9sum\u00e9.md", "text\n"))));
        s.add(new Shape("Latin-1 file name bytes", false, r -> r.change(() -> {
            // a name that is not UTF-8: git quotes it as octal escapes
            r.git("update-index", "--add", "--cacheinfo", "100644," + r.blob("latin name\n") + ",caf\\351.txt");
            r.write("other.txt", "x\n");
        })));
        s.add(new Shape("quotes, tabs and a newline in names", true, r -> r.change(() -> {
            r.write("odd/\"quoted\".txt", "q\n");
            r.write("odd/tab\there.txt", "t\n");
            r.write("odd/new\nline.txt", "n\n");
        })));
        s.add(new Shape("name that contains ' b/'", true, r -> r.change(() -> r.write("a b/c d.txt", "x\n"))));
        s.add(new Shape("deep path", true, r -> r.change(() -> r.write("a/".repeat(60) + "deep.py", "x = 1\n"))));
        s.add(new Shape("content that looks like diff headers", true, r -> r.change(() -> r.write("doc/example.txt",
                "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-old\n+new\n\\ No newline at end of file\n"))));
        s.add(new Shape("a committed patch file", true, r -> r.change(() -> r.write("fix.patch",
                "--- a/y\n+++ b/y\n@@ -1 +1 @@\n-a\n+b\n"))));
        s.add(new Shape("lines of only -, + and backslash", true, r -> r.change(() -> r.write("marks.txt", "-\n+\n\\\n--\n++\n"))));
        s.add(new Shape("whitespace-only change", true, r -> r.change(() -> r.write("src/app.py", r.pyLines(30).replace("x3 = 3", "x3 =  3")))));
        s.add(new Shape("empty file added", false, r -> r.change(() -> r.write("src/empty2.py", ""))));
        s.add(new Shape("empty file deleted", false, r -> r.change(() -> r.rm("empty.txt"))));
        s.add(new Shape("lock, minified and generated files", false, r -> r.change(() -> {
            r.write("package-lock.json", "{\n  \"lockfileVersion\": 3\n}\n");
            r.write("web/app.min.js", "var a=1;" + "b();".repeat(1000) + "\n");
            r.write("src/api.pb.go", "// Code generated by protoc-gen-go. DO NOT EDIT.\npackage api\n");
        })));
        s.add(new Shape("vendored tree", false, r -> r.change(() -> {
            for (int i = 0; i < 30; i++) {
                r.write("vendor/lib/f" + i + ".go", "package lib\n\nfunc F" + i + "() {}\n");
            }
        })));
        s.add(new Shape("directory deleted", false, r -> r.change(() -> r.rm("src"))));
        s.add(new Shape("conflict markers committed", true, r -> r.change(() -> r.write("src/conflict.py",
                "<<<<<<< HEAD\na = 1\n=======\na = 2\n>>>>>>> branch\n"))));
        s.add(new Shape("empty commit", false, r -> {
            r.git("commit", "-q", "--allow-empty", "-m", "empty");
            return new String[]{r.base, r.head()};
        }));
        s.add(new Shape("root commit, no base", true, r -> new String[]{null, r.base}));
        s.add(new Shape("merge commit against its base", true, r -> r.merge(true)));
        s.add(new Shape("merge commit, no base (first parent)", true, r -> r.merge(false)));
        s.add(new Shape("commit whose base is not an ancestor", true, r -> {
            r.git("checkout", "-q", "-b", "other");
            r.write("other.py", "o = 1\n");
            String other = r.commit();
            r.git("checkout", "-q", "main");
            r.write("mainline.py", "m = 1\n");
            return new String[]{other, r.commit()};
        }));
        return s.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void bothPathsReviewEveryShapeAndCommentOnlyOnAddedLines(Shape shape) throws Exception {
        Repo r = Repo.create(root.resolve(shape.name().replaceAll("[^A-Za-z0-9]+", "-")));
        String[] shas = shape.change().apply(r);
        for (boolean ai : new boolean[]{false, true}) {
            String which = (ai ? "AI" : "offline") + " review of '" + shape.name() + "'";
            List<String> progress = new ArrayList<>();
            ReviewEngine engine = new ReviewEngine(new OfflineReviewer(),
                    new AiReviewer(AiReviewer.DEFAULT_DIFF_BUDGET, new RetryPolicy(2, Duration.ofMillis(5), Duration.ofMillis(20)), Duration.ofSeconds(20)));
            TaskResult result = engine.review(task(shas[0], shas[1], ai), r.dir, progress::add);
            assertNull(result.error(), which + ": " + result.error() + "\n" + String.join("\n", progress));
            assertEquals(ResultStatus.COMPLETED, result.status(), which);
            assertNotNull(result.summary(), which);
            assertFalse(result.summary().contains("internal error"), which);
            int checked = 0;
            for (ReviewComment c : result.comments()) {
                if (checked++ < 40) {
                    assertTrue(r.addedBetween(shas[0], shas[1], c.path(), c.line()), which + ": " + c.path() + ":" + c.line()
                            + " is not a line the change added (" + c.message() + ")");
                }
            }
            if (ai && shape.aiComments()) {
                assertFalse(result.comments().isEmpty(), which + " posts the model's comment on an added line\n" + result.summary());
            }
            if (ai) {
                assertFalse(result.comments().stream().anyMatch(c -> c.line() == 987_654), which + ": a comment outside the diff is not posted");
            }
            int notReviewed = PARTIAL.getOrDefault(shape.name(), new int[2])[ai ? 1 : 0];
            if (notReviewed > 0) {
                assertEquals(Boolean.TRUE, result.stats().partial(), which + " is partial\n" + result.summary());
                assertEquals(notReviewed, result.stats().filesNotReviewed(), which);
                assertTrue(result.summary().contains("**Partial review**"), which + " says so in the summary\n" + result.summary());
            } else {
                assertNull(result.stats().partial(), which + " covers the whole change\n" + result.summary());
            }
        }
    }

    /**
     * Shapes a review cannot cover whole, and how many files each path leaves out ({offline, AI}): the model is not sent
     * a hunk larger than a request; over the size limit the diff is cut after the first two files (both too large for
     * the model), the third not read whole.
     */
    private static final java.util.Map<String, int[]> PARTIAL = java.util.Map.of(
            "huge hunk (20 000 added lines)", new int[]{0, 1}, "one very long line (1 MiB)", new int[]{0, 1},
            "diff over the 32 MiB limit", new int[]{1, 3});

    private static ReviewTask task(String base, String head, boolean ai) throws Exception {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("id", "task_shape");
        node.putObject("repository").put("url", "https://git.example/acme/shapes.git").put("fullName", "acme/shapes");
        if (base != null) {
            node.put("baseSha", base);
        }
        node.put("headSha", head);
        if (ai) {
            node.putObject("ai").put("provider", "openai").put("baseUrl", provider.baseUrl()).put("model", "fake-model").put("apiKey", "sk-shape-test-key-1");
        }
        return ReviewTask.fromJson(node);
    }

    /** A fixture repository with a base commit of ordinary files. */
    static final class Repo {
        final Path dir;
        String base;

        private Repo(Path dir) {
            this.dir = dir;
        }

        static Repo create(Path dir) throws IOException {
            Repo r = new Repo(dir);
            Files.createDirectories(dir);
            r.git("init", "-q", "-b", "main");
            r.git("config", "core.autocrlf", "false");
            r.git("config", "core.quotepath", "true");
            r.write("src/app.py", r.pyLines(30));
            r.write("src/Main.java", "class Main {\n    public static void main(String[] a) {\n    }\n}\n");
            r.write("README.md", "# Title\n\nText.\n");
            r.write("bin/run.sh", "#!/bin/sh\necho run\n");
            r.chmod("bin/run.sh", "rwxr-xr-x");
            r.writeBytes("assets/logo.png", r.binary(2048));
            r.symlink("link", "src/app.py");
            r.write("win.txt", "one\r\ntwo\r\nthree\r\n");
            r.write("empty.txt", "");
            r.write("noeol.txt", "no newline");
            r.writeBytes("latin1.txt", "caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));
            r.base = r.commit();
            return r;
        }

        String pyLines(int n) {
            StringBuilder b = new StringBuilder("def main():\n");
            for (int i = 1; i < n; i++) {
                b.append("    x").append(i).append(" = ").append(i).append("  # line ").append(i == 10 ? "10" : i).append('\n');
            }
            return b.toString();
        }

        byte[] binary(int size) {
            byte[] b = new byte[size];
            for (int i = 0; i < size; i++) {
                b[i] = (byte) (i * 31 + size);
            }
            b[1] = 0;
            return b;
        }

        void write(String path, String text) throws IOException {
            writeBytes(path, text.getBytes(StandardCharsets.UTF_8));
        }

        void writeBytes(String path, byte[] bytes) throws IOException {
            Path p = dir.resolve(path);
            Files.createDirectories(p.getParent());
            Files.deleteIfExists(p);
            Files.write(p, bytes);
        }

        void rm(String path) throws IOException {
            git("rm", "-r", "-q", "--", path);
        }

        void chmod(String path, String perms) throws IOException {
            Files.setPosixFilePermissions(dir.resolve(path), PosixFilePermissions.fromString(perms));
        }

        void symlink(String path, String target) throws IOException {
            Path p = dir.resolve(path);
            Files.deleteIfExists(p);
            Files.createSymbolicLink(p, Path.of(target));
        }

        String blob(String content) throws IOException {
            Path tmp = Files.createTempFile(dir.getParent(), "blob", ".txt");
            Files.writeString(tmp, content);
            String sha = git("hash-object", "-w", tmp.toString()).strip();
            Files.delete(tmp);
            return sha;
        }

        String git(String... args) throws IOException {
            return FixtureRepo.git(dir, args);
        }

        String head() throws IOException {
            return git("rev-parse", "HEAD").strip();
        }

        String commit() throws IOException {
            git("add", "-A");
            git("commit", "-q", "--allow-empty", "-m", "change");
            return head();
        }

        interface Edit {
            void run() throws IOException;
        }

        /** The edit committed on top of the base: {@code [base, head]}. */
        String[] change(Edit edit) throws IOException {
            edit.run();
            return new String[]{base, commit()};
        }

        /** The index as it is, committed (for gitlinks and names the work tree cannot hold). */
        String[] commitIndex(Edit edit) throws IOException {
            String before = head();
            edit.run();
            git("commit", "-q", "-m", "index change");
            return new String[]{before, head()};
        }

        /** A side branch and the main line each change a file; head is their merge. */
        String[] merge(boolean withBase) throws IOException {
            git("checkout", "-q", "-b", "side");
            write("side.py", "side = 1\n");
            commit();
            git("checkout", "-q", "main");
            write("src/Main.java", "class Main {\n    int mainline;\n}\n");
            commit();
            git("merge", "-q", "--no-ff", "-m", "merge side", "side");
            return new String[]{withBase ? base : null, head()};
        }

        /** Whether line {@code line} of {@code path} at head was added by a commit of {@code base..head}. */
        boolean addedBetween(String base, String head, String path, int line) throws IOException {
            if (line < 1) {
                return false;
            }
            String blame;
            try {
                blame = git("blame", "-l", "-s", "-L", line + "," + line, head, "--", path);
            } catch (IOException e) {
                if (path.indexOf('\uFFFD') >= 0) {
                    return true; // a name that is not UTF-8 cannot be passed back to git; its line was checked by the parser
                }
                throw e;
            }
            String commit = blame.strip().split("\\s+")[0].replace("^", "");
            if (base == null) {
                return true;
            }
            try {
                git("merge-base", "--is-ancestor", commit, base);
                return false;
            } catch (IOException notAncestor) {
                return true;
            }
        }
    }
}

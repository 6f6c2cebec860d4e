package dev.aireview.runner.review;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * What the repository's {@code .gitattributes} say about the changed paths, asked of git (never parsed here): one
 * {@code git check-attr --cached --stdin -z} call for all paths, run like every other git call ({@link GitRepo#run}: same
 * output cap and deadline). Read <b>at the base commit</b>, like {@code .ai-review.yml}, so a change cannot mark its own
 * files generated or binary to escape review. The image's git (2.39) has no {@code check-attr --source}, so the
 * commit's tree is read into a temporary index ({@code GIT_INDEX_FILE}, in the temp directory) and that index is asked;
 * the checkout's own index and work tree are left alone. Any failure (no git, an old or broken one, output over the
 * cap, a missed deadline) gives no attributes: the path and content heuristics decide, and the review goes on.
 */
public final class GitAttributes {

    static final List<String> NAMES = List.of("linguist-generated", "linguist-vendored", "binary", "diff", "text");

    private GitAttributes() {
    }

    /**
     * The change with each file's attributes at {@code commit} (null: none, the heuristics decide); a progress line says
     * how many files the attributes marked, or why they were not read.
     */
    public static ChangeSet apply(ChangeSet change, GitRepo git, String commit, Progress progress) {
        if (git == null || commit == null || change.files().isEmpty()) {
            return change;
        }
        Map<String, PathAttributes> byPath;
        try {
            byPath = read(git, commit, change.files().stream().map(FileDiff::path).toList());
        } catch (IOException | RuntimeException e) {
            progress.line("git attributes not read (" + e.getMessage() + "): path heuristics only");
            return change;
        }
        List<FileDiff> files = new ArrayList<>(change.files().size());
        int marked = 0;
        for (FileDiff f : change.files()) {
            PathAttributes a = byPath.getOrDefault(f.path(), PathAttributes.NONE);
            marked += a.saysNothing() ? 0 : 1;
            files.add(a.saysNothing() ? f : f.withAttributes(a));
        }
        progress.line("git attributes at " + commit.substring(0, Math.min(12, commit.length())) + ": " + marked
                + " file(s) with linguist-generated/linguist-vendored/binary attributes");
        return change.withFiles(files);
    }

    /** The attributes of {@code paths} at {@code commit}; paths about which nothing is said are left out. */
    static Map<String, PathAttributes> read(GitRepo git, String commit, List<String> paths) throws IOException {
        Path tmp = Scratch.directory("git-attributes-");
        try {
            Map<String, String> env = Map.of("GIT_INDEX_FILE", tmp.resolve("index").toString());
            GitRepo.Output tree = git.run(env, null, "read-tree", commit);
            if (!tree.ok()) {
                throw new IOException("git read-tree: " + tree.reason());
            }
            List<String> args = new ArrayList<>(List.of("check-attr", "--cached", "--stdin", "-z"));
            args.addAll(NAMES);
            GitRepo.Output out = git.run(env, input(paths), args.toArray(String[]::new));
            if (!out.ok() || out.truncated()) {
                throw new IOException("git check-attr: " + (out.truncated() ? "output over the cap" : out.reason()));
            }
            return parse(out.stdout());
        } finally {
            deleteQuietly(tmp);
        }
    }

    private static byte[] input(List<String> paths) {
        ByteArrayOutputStream in = new ByteArrayOutputStream();
        for (String p : new LinkedHashSet<>(paths)) {
            in.writeBytes(p.getBytes(StandardCharsets.UTF_8));
            in.write(0);
        }
        return in.toByteArray();
    }

    /** Reads {@code path NUL attribute NUL value NUL} triples. */
    static Map<String, PathAttributes> parse(String output) throws IOException {
        String[] f = output.isEmpty() ? new String[0] : output.split("\0", -1);
        int n = f.length - (f.length > 0 && f[f.length - 1].isEmpty() ? 1 : 0);
        if (n % 3 != 0) {
            throw new IOException("git check-attr: unexpected output");
        }
        Map<String, Map<String, String>> values = new HashMap<>();
        for (int i = 0; i < n; i += 3) {
            values.computeIfAbsent(f[i], k -> new HashMap<>()).put(f[i + 1], f[i + 2]);
        }
        Map<String, PathAttributes> out = new HashMap<>();
        values.forEach((path, v) -> {
            boolean binary = "set".equals(v.get("binary")) || "unset".equals(v.get("diff")) || "unset".equals(v.get("text"));
            PathAttributes a = new PathAttributes(PathAttributes.linguist(v.getOrDefault("linguist-generated", "")),
                    PathAttributes.linguist(v.getOrDefault("linguist-vendored", "")), binary);
            if (!a.saysNothing()) {
                out.put(path, a);
            }
        });
        return out;
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // a temporary index left in the temp directory (tmpfs in the image) harms nothing
        }
    }
}

package dev.aireview.runner.review;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The offline rules on real git checkouts whose {@code .gitattributes} (at the base) mark files generated, vendored,
 * binary, or not generated although the path heuristics would say so.
 */
class GitAttributesReviewTest {

    private static final String ATTRIBUTES = """
            gen/** linguist-generated
            lib/** linguist-vendored=true
            assets/data.txt binary
            assets/raw.txt -diff
            assets/exact.txt -text
            proto/api.pb.go linguist-generated=false
            third_party/ours/** -linguist-vendored
            """;

    @TempDir
    Path dir;

    private final List<String> progress = new ArrayList<>();

    /** Files with a planted finding each (the line it is on), committed as the change on top of the attributes. */
    private static final Map<String, String> CHANGE = Map.of(
            "src/App.java", "class App {\n  void run() {\n    System.out.println(1);\n  }\n}\n",
            "gen/Api.java", "class Api {\n  void run() {\n    System.out.println(1); // TODO: drop\n  }\n}\n",
            "lib/util.js", "export function f(x) {\n  console.log(x);\n  return x;\n}\n",
            "assets/data.txt", "<<<<<<< ours\na\n=======\nb\n>>>>>>> theirs\n",
            "assets/raw.txt", "<<<<<<< ours\na\n=======\nb\n>>>>>>> theirs\n",
            "assets/exact.txt", "<<<<<<< ours\na\n=======\nb\n>>>>>>> theirs\n",
            "proto/api.pb.go", "package proto\n\nfunc f() {\n\tprintln(\"x\")\n}\n",
            "proto/other.pb.go", "package proto\n\nfunc g() {\n\tprintln(\"x\")\n}\n",
            "third_party/ours/run.js", "export function g(x) {\n  console.log(x);\n}\n",
            "third_party/theirs/run.js", "export function h(x) {\n  console.log(x);\n}\n");

    @Test
    void filesTheBaseMarksGeneratedVendoredOrBinaryGetNoFindingsAndGeneratedFalseOverridesTheNameHeuristic() throws Exception {
        String base = commitBase(ATTRIBUTES);
        String head = commitChange(CHANGE);

        TaskResult result = new ReviewEngine().review(task(base, head, false), dir, progress::add);

        assertEquals(ResultStatus.COMPLETED, result.status(), String.valueOf(result.error()));
        assertEquals(Set.of("src/App.java:3", "proto/api.pb.go:4", "third_party/ours/run.js:2"), commented(result),
                "generated (gen/, *.pb.go by name), vendored (lib/, third_party/) and binary files get none; "
                        + "linguist-generated=false and -linguist-vendored bring the heuristically skipped ones back");
        assertTrue(result.summary().contains("`gen/Api.java` (added, +5 −0; generated (.gitattributes))"), result.summary());
        assertTrue(progress.stream().anyMatch(l -> l.startsWith("git attributes at " + base.substring(0, 12) + ": 7 file(s)")),
                progress.toString());
    }

    @Test
    void aFileMarkedBinaryGetsNoLineCommentsEvenWhenTheTasksPatchShowsItAsText() throws Exception {
        String base = commitBase(ATTRIBUTES);
        String head = commitChange(CHANGE);

        TaskResult result = new ReviewEngine().review(task(base, head, true), dir, progress::add);

        assertEquals(ResultStatus.COMPLETED, result.status(), String.valueOf(result.error()));
        Set<String> commented = commented(result);
        assertTrue(commented.stream().noneMatch(c -> c.startsWith("assets/")), commented.toString());
        assertTrue(commented.contains("src/App.java:3"), commented.toString());
        assertTrue(result.summary().contains("`assets/data.txt` (added, binary)"), result.summary());
    }

    @Test
    void attributesAreReadAtTheBaseSoTheChangeCannotMarkItsOwnFilesGenerated() throws Exception {
        String base = commitBase("docs/** linguist-documentation\n");
        write(".gitattributes", "* linguist-generated\n");
        String head = commitChange(Map.of("src/App.java", CHANGE.get("src/App.java")));

        TaskResult result = new ReviewEngine().review(task(base, head, false), dir, progress::add);

        assertEquals(Set.of("src/App.java:3"), commented(result));
    }

    @Test
    void theSecretRuleStillLooksAtFilesMarkedGeneratedOrVendored() throws Exception {
        String base = commitBase(ATTRIBUTES);
        String head = commitChange(Map.of("lib/conf.js", "export const k = 'AKIA" + "IOSFODNN7EXAMPLQ';\n"));

        TaskResult result = new ReviewEngine().review(task(base, head, false), dir, progress::add);

        assertEquals(Set.of("lib/conf.js:1"), commented(result));
    }

    @Test
    void withoutAUsableGitTheChangeIsLeftToTheHeuristics() throws Exception {
        String base = commitBase(ATTRIBUTES);
        commitChange(CHANGE);
        FileDiff gen = new FileDiff("gen/Api.java", "gen/Api.java", FileDiff.ChangeType.ADDED, false, List.of(), -1);
        ChangeSet change = new ChangeSet(List.of(gen), "test");

        try (GitRepo broken = new GitRepo(dir, dir.resolve("no-such-git").toString())) {
            assertSame(change, GitAttributes.apply(change, broken, base, progress::add));
        }
        assertTrue(progress.stream().anyMatch(l -> l.startsWith("git attributes not read (")), progress.toString());
        try (GitRepo git = new GitRepo(dir)) {
            assertSame(change, GitAttributes.apply(change, git, "0".repeat(40), progress::add), "an unknown commit");
            assertEquals(PathAttributes.State.ON,
                    GitAttributes.apply(change, git, base, progress::add).files().get(0).attributes().generated());
        }
    }

    @Test
    void checkAttrValuesAreReadAsLinguistDoes() throws Exception {
        Map<String, PathAttributes> a = GitAttributes.parse(String.join("\0",
                "a", "linguist-generated", "true", "a", "binary", "unspecified",
                "b", "linguist-generated", "unset", "b", "linguist-vendored", "false",
                "c", "linguist-vendored", "set", "c", "text", "unset",
                "d", "linguist-generated", "unspecified", "d", "diff", "set") + "\0");
        assertEquals(new PathAttributes(PathAttributes.State.ON, PathAttributes.State.UNSPECIFIED, false), a.get("a"));
        assertEquals(new PathAttributes(PathAttributes.State.OFF, PathAttributes.State.OFF, false), a.get("b"));
        assertEquals(new PathAttributes(PathAttributes.State.UNSPECIFIED, PathAttributes.State.ON, true), a.get("c"));
        assertEquals(Set.of("a", "b", "c"), a.keySet(), "d says nothing");
    }

    private String commitBase(String attributes) throws Exception {
        FixtureRepo.git(dir, "init", "-q", "-b", "main");
        write(".gitattributes", attributes);
        write("README.md", "shop\n");
        return commit("base");
    }

    private String commitChange(Map<String, String> files) throws Exception {
        for (Map.Entry<String, String> e : files.entrySet()) {
            write(e.getKey(), e.getValue());
        }
        return commit("change");
    }

    private static Set<String> commented(TaskResult result) {
        return new TreeSet<>(result.comments().stream().map(c -> c.path() + ":" + c.line()).toList());
    }

    /** A task for base..head; with {@code patches}, every added file comes as a task patch (as GitHub sends them: text). */
    private ReviewTask task(String base, String head, boolean patches) throws Exception {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("id", "task_attrs_1");
        node.putObject("repository").put("url", "https://git.example/acme/shop.git");
        node.put("baseSha", base).put("headSha", head);
        if (patches) {
            ArrayNode files = node.putArray("files");
            for (Map.Entry<String, String> e : CHANGE.entrySet()) {
                List<String> lines = e.getValue().lines().toList();
                StringBuilder patch = new StringBuilder("@@ -0,0 +1," + lines.size() + " @@\n");
                lines.forEach(l -> patch.append('+').append(l).append('\n'));
                files.addObject().put("path", e.getKey()).put("status", "added").put("patch", patch.toString());
            }
        }
        return ReviewTask.fromJson(node);
    }

    private void write(String path, String content) throws Exception {
        Path p = dir.resolve(path);
        Files.createDirectories(p.getParent());
        Files.writeString(p, content, StandardCharsets.UTF_8);
    }

    private String commit(String message) throws Exception {
        FixtureRepo.git(dir, "add", "-A");
        FixtureRepo.git(dir, "commit", "-q", "-m", message);
        return FixtureRepo.git(dir, "rev-parse", "HEAD").strip();
    }
}

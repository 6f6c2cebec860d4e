package dev.aireview.runner.review;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The review's object questions (commits, sizes, blobs) against a real repository: answered by one
 * {@code git cat-file --batch-command} process, and the same answers from one git process per question when the
 * image's git has no {@code --batch-command} or a name cannot be sent on one line. A wrapper around the host's git
 * records every invocation, so the number of processes is what is asserted, not a time.
 */
class GitRepoObjectsTest {

    @TempDir
    Path tmp;

    /** A git that logs its arguments to {@code calls} and runs the real one; {@code --batch-command} refused when asked. */
    private Path wrapper(Path calls, boolean refuseBatch) throws Exception {
        Path script = tmp.resolve(refuseBatch ? "old-git" : "git-logged");
        String refuse = refuseBatch
                ? "case \"$*\" in *--batch-command*) echo \"error: unknown option \\`batch-command'\" >&2; exit 129;; esac\n" : "";
        Files.writeString(script, "#!/bin/sh\necho \"$*\" >> '" + calls + "'\n" + refuse + "exec git \"$@\"\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        return script;
    }

    private static List<String> ask(GitRepo git, FixtureRepo repo) throws Exception {
        String head = git.resolveCommit(repo.headSha);
        GitRepo.ObjectInfo cart = git.info(head + ":src/cart.js");
        String text = git.text(head + ":src/cart.js", 1 << 20);
        return List.of(
                String.valueOf(head),
                String.valueOf(git.resolveCommit(repo.headSha + "~1")),
                String.valueOf(git.resolveCommit("0000000000000000000000000000000000000001")),
                cart.type() + " " + cart.size(),
                String.valueOf(text != null && text.contains("console.log(cart);") && text.length() == cart.size()),
                String.valueOf(git.info(head + ":config/old.yml")), // deleted at head
                String.valueOf(git.text(head + ":src/cart.js", 10)), // larger than the bound
                String.valueOf(git.info(head + ":no such file")));
    }

    @Test
    void answersEveryQuestionOfAReviewFromOneGitProcess() throws Exception {
        FixtureRepo repo = FixtureRepo.create(tmp.resolve("repo"));
        Path calls = tmp.resolve("calls.txt");
        List<String> answers;
        try (GitRepo git = new GitRepo(repo.dir, wrapper(calls, false).toString())) {
            answers = ask(git, repo);
        }
        assertEquals(List.of(repo.headSha, repo.baseSha, "null", "blob " + Files.size(repo.dir.resolve("src/cart.js")), "true",
                "null", "null", "null"), answers);
        List<String> invoked = Files.readAllLines(calls);
        assertEquals(1, invoked.size(), "one git process for eight questions: " + invoked);
        assertTrue(invoked.get(0).endsWith("cat-file --batch-command"), invoked.toString());
    }

    @Test
    void givesTheSameAnswersWithAGitWithoutBatchCommandAndForNamesOnSeveralLines() throws Exception {
        FixtureRepo repo = FixtureRepo.create(tmp.resolve("repo"));
        List<String> batched;
        try (GitRepo git = new GitRepo(repo.dir)) {
            batched = ask(git, repo);
        }
        Path calls = tmp.resolve("calls.txt");
        try (GitRepo old = new GitRepo(repo.dir, wrapper(calls, true).toString())) {
            assertEquals(batched, ask(old, repo), "answers without --batch-command");
            assertNull(old.info(repo.headSha + ":src/cart.js\nsrc/Cart.java"), "a name on two lines is asked on its own");
        }
        List<String> invoked = Files.readAllLines(calls);
        assertEquals(1, invoked.stream().filter(l -> l.contains("--batch-command")).count(),
                "the batch process is tried once, then one process per question: " + invoked);
        assertTrue(invoked.size() > 8, invoked.toString());
        assertNotNull(batched.get(0));
    }
}

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
        return wrapper(calls, refuseBatch ? "old-git" : "git-logged", refuseBatch
                ? "echo \"error: unknown option \\`batch-command'\" >&2; exit 129" : "exec git \"$@\"");
    }

    /** A git that logs its arguments to {@code calls}, runs {@code batch} for --batch-command and the real git otherwise. */
    private Path wrapper(Path calls, String name, String batch) throws Exception {
        Path script = tmp.resolve(name);
        Files.writeString(script, "#!/bin/sh\necho \"$*\" >> '" + calls + "'\ncase \"$*\" in *--batch-command*) " + batch
                + ";; esac\nexec git \"$@\"\n");
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

    @Test
    void endsABatchProcessThatDoesNotAnswerWithinItsDeadlineAndAnswersWithoutIt() throws Exception {
        FixtureRepo repo = FixtureRepo.create(tmp.resolve("repo"));
        Path calls = tmp.resolve("calls.txt");
        Path pid = tmp.resolve("batch.pid");
        // a batch process that reads nothing and never answers
        Path hung = wrapper(calls, "hung-git", "echo $$ > '" + pid + "'; exec sleep 600");
        try (GitRepo git = new GitRepo(repo.dir, hung.toString(), 300)) {
            assertEquals(repo.headSha, git.resolveCommit(repo.headSha), "answered by a git process of its own");
            assertEquals(repo.baseSha, git.resolveCommit(repo.headSha + "~1"));
        }
        long batchPid = Long.parseLong(Files.readString(pid).strip());
        assertTrue(ProcessHandle.of(batchPid).map(p -> !p.isAlive()).orElse(true), "the hung batch process was ended");
        List<String> invoked = Files.readAllLines(calls);
        assertEquals(1, invoked.stream().filter(l -> l.contains("--batch-command")).count(), invoked.toString());
        assertEquals(3, invoked.size(), "the batch, then one process per question: " + invoked);
    }
}

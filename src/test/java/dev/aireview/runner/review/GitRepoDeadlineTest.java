package dev.aireview.runner.review;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link GitRepo#run}'s deadline covers the whole call from the start of the process: a git that prints a line and
 * then hangs with its output still open (held by a child it started) is ended, with the child, at the deadline,
 * and the call fails naming the deadline. The fake git is a script given as the git executable.
 */
class GitRepoDeadlineTest {

    private static final Duration DEADLINE = Duration.ofMillis(1500);
    /** Room for a loaded 2-core machine: starting the script, killing the tree, the reader noticing. */
    private static final Duration SLACK = Duration.ofSeconds(10);

    @TempDir
    Path tmp;

    private Path script(String name, String body) throws IOException {
        Path s = tmp.resolve(name);
        Files.writeString(s, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(s, PosixFilePermissions.fromString("rwx------"));
        return s;
    }

    @Test
    void aGitThatHangsWithItsOutputOpenIsEndedAtTheDeadlineWithEveryProcessItStarted() throws Exception {
        Path pids = tmp.resolve("pids");
        // prints a line, then waits on a child that holds stdout open: the output never ends on its own
        Path hung = script("hung-git", "echo \"first line\"\nsleep 600 &\necho \"$$ $!\" > '" + pids + "'\nwait");
        long start = System.nanoTime();
        IOException e;
        try (GitRepo git = new GitRepo(tmp, hung.toString(), 300, DEADLINE)) {
            e = assertThrows(IOException.class, () -> git.run("diff", "a..b"));
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertTrue(e.getMessage().contains("git diff did not finish within its deadline of 1500 ms")
                && e.getMessage().contains("output still open after 11 bytes"), e.getMessage());
        assertTrue(took.compareTo(DEADLINE) >= 0 && took.compareTo(DEADLINE.plus(SLACK)) < 0, "took " + took);
        String[] started = Files.readString(pids).strip().split(" ");
        for (String pid : started) {
            ProcessHandle.of(Long.parseLong(pid)).ifPresent(p -> {
                try {
                    p.onExit().get(SLACK.toSeconds(), TimeUnit.SECONDS); // a condition, not a sleep
                } catch (Exception x) {
                    throw new AssertionError("process " + pid + " still alive after the deadline", x);
                }
            });
        }
    }

    @Test
    void aGitThatClosesItsOutputButDoesNotExitIsEndedAtTheDeadlineToo() throws Exception {
        Path quiet = script("quiet-git", "echo \"done\"\nexec 1>&-\nexec sleep 600");
        try (GitRepo git = new GitRepo(tmp, quiet.toString(), 300, DEADLINE)) {
            IOException e = assertThrows(IOException.class, () -> git.run("log"));
            assertTrue(e.getMessage().contains("git log did not finish within its deadline of 1500 ms (its output closed after 5 bytes)"),
                    e.getMessage());
        }
    }

    @Test
    void aGitThatFinishesInTimeGivesItsOutputExitCodeAndStderr() throws Exception {
        Path ok = script("ok-git", "echo \"out: $*\"\necho \"fatal: bad revision\" >&2\nexit 3");
        try (GitRepo git = new GitRepo(tmp, ok.toString(), 300, DEADLINE)) {
            GitRepo.Output o = git.run(Map.of(), "input".getBytes(), "rev-parse", "x");
            assertEquals(3, o.exitCode());
            assertTrue(o.stdout().startsWith("out: -c safe.directory=*") && o.stdout().strip().endsWith("rev-parse x"), o.stdout());
            assertEquals("fatal: bad revision", o.reason());
        }
    }
}

package dev.aireview.runner.docker;

import java.nio.file.Path;

/** Test access to {@link GitFixture}'s repository from other packages. */
public final class GitFixtureAccess {
    private GitFixtureAccess() {
    }

    /** A bare copy of the fixture's repository at {@code target} (served by its daemon when under its root). */
    public static void cloneBare(GitFixture git, Path target) throws Exception {
        GitFixture.git(git.root(), "clone", "-q", "--bare", git.repo.toString(), target.toString());
    }

    /** Commits one more file on {@code branch} of the fixture's work tree and pushes it to the served repository; its SHA. */
    public static String advance(GitFixture git, String branch, String file) throws Exception {
        Path work = git.root().resolve("work");
        GitFixture.git(work, "checkout", "-q", branch);
        java.nio.file.Files.writeString(work.resolve(file), file + "\n");
        GitFixture.git(work, "add", file);
        GitFixture.git(work, "commit", "-q", "-m", "add " + file);
        GitFixture.git(work, "push", "-q", git.repo.toString(), branch);
        return GitFixture.git(work, "rev-parse", "HEAD");
    }
}

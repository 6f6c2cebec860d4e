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
}

package dev.aireview.runner.review;

import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Exercises the whole review path once per round, silently, so that a pre-warmed container has it loaded and
 * compiled before its task arrives: the file contract with the task's patches ({@link SelfTest}: Jackson in and out,
 * the diff parser, the rules), then a review of a small git repository built in the temp directory (the git
 * subprocess, {@link DiffSource#fromGit}, the git diff parser).
 *
 * <p>Used twice: by {@code execute} while it waits for the task file (stopping at the next step once the file is
 * there, so a task that arrives mid-way waits at most one short step), and by {@code execute --warm-up-only} when
 * the executor image records its class-data-sharing archive, so the archive holds every class a review loads.
 * Writes only below {@code java.io.tmpdir} (the container's tmpfs), never in the workspace.
 */
public final class WarmUp {

    private static final PrintStream SILENT = new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);

    private WarmUp() {
    }

    /**
     * Runs up to {@code rounds} rounds, checking {@code stop} before every step.
     *
     * @return true when every step that ran gave the expected review (false also when a step failed)
     */
    public static boolean run(int rounds, BooleanSupplier stop) {
        boolean ok = true;
        for (int i = 0; i < rounds && !stop.getAsBoolean(); i++) {
            ok &= SelfTest.run(SILENT, SILENT) == 0;
            if (stop.getAsBoolean()) {
                break;
            }
            ok &= reviewGitSample(stop);
        }
        return ok;
    }

    /** Builds a two-commit repository in a temp dir with the same {@link GitRepo} calls a review makes, and reviews it. */
    static boolean reviewGitSample(BooleanSupplier stop) {
        Path dir = null;
        try {
            dir = Scratch.directory("ai-review-warm-up-");
            GitRepo git = new GitRepo(dir);
            String[] identity = {"-c", "user.name=warm-up", "-c", "user.email=warm-up@example.invalid", "-c", "commit.gpgsign=false"};
            if (!git.run("init", "-q").ok()) {
                return false;
            }
            Files.writeString(dir.resolve("total.js"), "export function total(items) {\n  return items.length;\n}\n");
            if (!commit(git, identity, "first")) {
                return false;
            }
            Files.writeString(dir.resolve("total.js"), "export function total(items) {\n  console.log(items);\n"
                    + "  // TODO: handle discounts\n  return items.length;\n}\n");
            if (stop.getAsBoolean() || !commit(git, identity, "second")) {
                return stop.getAsBoolean();
            }
            ReviewTask task = new ReviewTask("warm-up", null, null, null, null, null, List.of(), null, List.of(), null, null);
            TaskResult result = new ReviewEngine().review(task, dir, line -> { });
            return result.status() == ResultStatus.COMPLETED && !result.comments().isEmpty();
        } catch (IOException | RuntimeException e) {
            return false;
        } finally {
            deleteQuietly(dir);
        }
    }

    private static boolean commit(GitRepo git, String[] identity, String message) throws IOException {
        if (!git.run("add", "-A").ok()) {
            return false;
        }
        String[] args = new String[identity.length + 4];
        System.arraycopy(identity, 0, args, 0, identity.length);
        System.arraycopy(new String[]{"commit", "-q", "-m", message}, 0, args, identity.length, 4);
        return git.run(args).ok();
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | RuntimeException ignored) {
            // a temp dir on the container's tmpfs; gone with the container
        }
    }
}

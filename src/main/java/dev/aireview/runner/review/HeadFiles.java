package dev.aireview.runner.review;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.function.Function;

/**
 * The content of a changed file at head, read from the checkout with {@code git cat-file} (the work tree may be
 * anything), for the context the model is shown around each hunk. Null when there is no checkout, the file is
 * larger than {@value #MAX_BYTES} bytes, or git cannot read it: then the diff's own context is all there is.
 */
public final class HeadFiles implements Function<String, List<String>> {

    static final long MAX_BYTES = 1024 * 1024;

    private final GitRepo git;
    private final String head;

    private HeadFiles(GitRepo git, String head) {
        this.git = git;
        this.head = head;
    }

    /** A lookup for the task's head in {@code git} (the review's; null: no checkout), answering null when there is none. */
    public static Function<String, List<String>> of(GitRepo git, String headSha) {
        if (git == null || !Files.exists(git.dir().resolve(".git"))) {
            return p -> null;
        }
        try {
            String head = git.resolveCommit(headSha == null ? "HEAD" : headSha);
            return head == null ? p -> null : new HeadFiles(git, head);
        } catch (IOException e) {
            return p -> null;
        }
    }

    @Override
    public List<String> apply(String path) {
        try {
            String text = git.text(head + ":" + path, MAX_BYTES);
            return text != null && text.indexOf('\0') < 0 ? text.lines().toList() : null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}

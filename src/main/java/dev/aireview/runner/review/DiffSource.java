package dev.aireview.runner.review;

import dev.aireview.runner.model.FileChange;
import dev.aireview.runner.model.ReviewTask;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Where the diff of a task comes from. When any {@code files[].patch} is present, the task's patches are
 * used (files without a patch, typically binaries, are listed without hunks). Otherwise the diff is computed
 * from the checked-out repository: from the merge base of {@code baseSha} and {@code headSha} (a pull
 * request's view; {@code baseSha} itself when there is no merge base in a shallow clone) to {@code headSha};
 * without {@code baseSha} from {@code headSha~1} (or the empty tree for a root commit). A shallow clone that
 * holds neither the base nor the parent of head is a failed review, not a review of the whole tree.
 *
 * <p>Incremental: a task with {@code previousHeadSha} that is in the clone and an ancestor of head is reviewed as
 * {@code git diff previousHeadSha..head} only (also when it carries patches, which are the whole change); when that
 * is not possible the whole change is reviewed and {@link ChangeSet#notes()} says why.
 */
public final class DiffSource {

    private final Progress progress;
    private final GitRepo git;

    /** Asking {@code git}: the review's, on the checkout at {@code repoDir} of {@link #load}; null when there is none. */
    public DiffSource(Progress progress, GitRepo git) {
        this.progress = progress;
        this.git = git;
    }

    public ChangeSet load(ReviewTask task, Path repoDir) throws ReviewFailedException {
        List<String> notes = new ArrayList<>();
        if (task.previousHeadSha() != null) {
            ChangeSet incremental = incremental(task, repoDir, notes);
            if (incremental != null) {
                return incremental;
            }
            progress.line(notes.get(0));
        }
        boolean anyPatch = task.files().stream().anyMatch(f -> f.patch() != null && !f.patch().isEmpty());
        if (anyPatch) {
            progress.line("diff source: patches of " + task.files().size() + " file(s) from the task");
            return fromPatches(task.files(), repoDir, git, task.headSha()).withNotes(notes);
        }
        if (git == null || repoDir == null || !Files.isDirectory(repoDir)) {
            throw new ReviewFailedException("the task has no patches and there is no repository at " + repoDir);
        }
        try {
            return fromGit(task, git).withNotes(notes);
        } catch (IOException e) {
            throw new ReviewFailedException("could not compute the diff from the repository: " + e.getMessage(), e);
        }
    }

    /**
     * The diff {@code previousHeadSha..headSha} when the last reviewed head is in the clone and an ancestor of head
     * (not after a force-push or rebase); otherwise null, with the reason added to {@code notes} (full review).
     */
    private ChangeSet incremental(ReviewTask task, Path repoDir, List<String> notes) throws ReviewFailedException {
        String prev = task.previousHeadSha();
        String why;
        try {
            if (git == null || repoDir == null || !Files.isDirectory(repoDir)) {
                why = "there is no checkout to diff against the last reviewed head " + shortSha(prev);
            } else {
                String head = git.resolveCommit(task.headSha() != null ? task.headSha() : "HEAD");
                String p = git.resolveCommit(prev);
                if (head == null) {
                    why = "head is not in the checkout";
                } else if (p == null) {
                    why = "the last reviewed head " + shortSha(prev) + " is not in the checkout";
                } else if (p.equals(head)) {
                    why = "the head has not changed since the last review (" + shortSha(prev) + ")";
                } else if (!git.run("merge-base", "--is-ancestor", p, head).ok()) {
                    why = "the last reviewed head " + shortSha(prev) + " is not an ancestor of head " + shortSha(head)
                            + " (history rewritten)";
                } else {
                    String how = "the last reviewed head " + shortSha(p);
                    ChangeSet change = diff(git, p, head, how);
                    return new ChangeSet(change.files(), "git, incremental since " + how + " → head " + shortSha(head), true,
                            List.of("**Incremental review**: only the changes since the last reviewed head `" + shortSha(p)
                                    + "` are reviewed (`" + shortSha(p) + ".." + shortSha(head) + "`); earlier changes were reviewed before."));
                }
            }
        } catch (IOException e) {
            why = "git failed: " + e.getMessage();
        }
        notes.add("Full review: an incremental review was asked for, but " + why + ".");
        return null;
    }

    static ChangeSet fromPatches(List<FileChange> changes, Path repoDir) {
        return fromPatches(changes, repoDir, null, null);
    }

    /**
     * The task's patches; the size of a file without one comes from the checkout, else (a changed-files checkout that
     * left it out, docs/executor-contract.md) from head's object in {@code git} (null: none).
     */
    static ChangeSet fromPatches(List<FileChange> changes, Path repoDir, GitRepo git, String headSha) {
        List<FileDiff> files = new ArrayList<>();
        for (FileChange c : changes) {
            FileDiff.ChangeType type = changeType(c.status());
            String previous = c.previousPath() != null ? c.previousPath() : c.path();
            if (c.patch() == null || c.patch().isEmpty()) {
                // No patch: a binary, or a file too large for the server to send. Size from the checkout if present.
                long size = sizeInCheckout(repoDir, c.path());
                if (size < 0 && git != null && type != FileDiff.ChangeType.DELETED) {
                    size = sizeInObjects(git, headSha, c.path());
                }
                boolean binary = type != FileDiff.ChangeType.DELETED && type != FileDiff.ChangeType.RENAMED;
                files.add(new FileDiff(c.path(), previous, type, binary, List.of(), size));
            } else {
                files.add(UnifiedDiffParser.parsePatch(c.path(), previous, type, c.patch()));
            }
        }
        return new ChangeSet(files, "the task's patches");
    }

    ChangeSet fromGit(ReviewTask task, GitRepo git) throws IOException, ReviewFailedException {
        String headRev = task.headSha() != null ? task.headSha() : "HEAD";
        String head = git.resolveCommit(headRev);
        if (head == null) {
            throw new ReviewFailedException("commit " + headRev + " is not in the repository checkout");
        }
        String base = null;
        String how;
        if (task.baseSha() != null) {
            String b = git.resolveCommit(task.baseSha());
            if (b != null) {
                GitRepo.Output mb = git.run("merge-base", b, head);
                if (mb.ok() && !mb.stdout().isBlank()) {
                    base = mb.stdout().strip();
                    how = base.equals(b) ? "base " + shortSha(b) : "merge base " + shortSha(base) + " of base " + shortSha(b);
                } else {
                    base = b;
                    how = "base " + shortSha(b) + " (no merge base in the checkout)";
                }
            } else {
                progress.line("base commit " + shortSha(task.baseSha()) + " is not in the checkout; diffing against the parent of head");
                how = null;
            }
        } else {
            how = null;
        }
        if (base == null) {
            base = git.resolveCommit(head + "~1");
            how = base == null ? "the empty tree (root commit)" : "parent " + shortSha(base);
            if (base == null && hasParentRecorded(git, head)) {
                throw new ReviewFailedException("the checkout is too shallow to compute the diff: the parent of "
                        + shortSha(head) + " was not fetched" + (task.baseSha() == null ? "" : " and base " + shortSha(task.baseSha())
                        + " is not in the checkout") + " (send files[].patch, or clone deeper)");
            }
            if (base == null) {
                GitRepo.Output empty = git.run("hash-object", "-t", "tree", "/dev/null");
                if (!empty.ok()) {
                    throw new ReviewFailedException("git hash-object failed: " + empty.reason());
                }
                base = empty.stdout().strip();
            }
        }
        return diff(git, base, head, how);
    }

    private ChangeSet diff(GitRepo git, String base, String head, String how) throws IOException, ReviewFailedException {
        progress.line("diff source: git diff " + how + " .. head " + shortSha(head));
        GitRepo.Output diff = git.run("diff", "--no-color", "--no-ext-diff", "--no-textconv", "--find-renames", "--unified=3",
                "--src-prefix=a/", "--dst-prefix=b/", base, head, "--");
        if (!diff.ok()) {
            throw new ReviewFailedException("git diff failed: " + diff.reason());
        }
        List<FileDiff> files = new ArrayList<>();
        for (FileDiff f : UnifiedDiffParser.parse(diff.stdout())) {
            if (f.binary() && f.change() != FileDiff.ChangeType.DELETED) {
                GitRepo.ObjectInfo info = git.info(head + ":" + f.path());
                if (info != null) {
                    f = f.withSize(info.size());
                }
            }
            files.add(f);
        }
        ChangeSet change = new ChangeSet(files, "git, " + how + " → head " + shortSha(head));
        if (diff.truncated()) {
            int total = changedFiles(git, base, head);
            int cut = Math.max(1, total - files.size() + 1);
            String note = "**Partial review**: the diff is larger than " + GitRepo.MAX_OUTPUT_BYTES / (1024 * 1024) + " MiB, so only its first "
                    + "part was read: " + (total > 0 ? cut + " of " + total + " changed file(s)" : "the files after `" + (files.isEmpty() ? "?" : files.get(files.size() - 1).path()) + "`")
                    + " were not reviewed (the last file read may be incomplete).";
            progress.line("diff larger than " + GitRepo.MAX_OUTPUT_BYTES / (1024 * 1024) + " MiB: reviewing the first part only; "
                    + cut + " file(s) not reviewed");
            if (!files.isEmpty()) {
                files.remove(files.size() - 1);
            }
            return new ChangeSet(files, change.source()).withCut(cut, note);
        }
        return change;
    }

    /** How many files the diff changes ({@code git diff --name-only}), 0 when git cannot say. */
    private static int changedFiles(GitRepo git, String base, String head) throws IOException {
        GitRepo.Output names = git.run("diff", "--no-color", "--find-renames", "--name-only", "-z", base, head, "--");
        if (!names.ok() || names.truncated()) {
            return 0;
        }
        int n = 0;
        for (String s : names.stdout().split("\0")) {
            n += s.isEmpty() ? 0 : 1;
        }
        return n;
    }

    /** Whether the commit object names a parent (true for the tip of a shallow clone, false for a root commit). */
    private static boolean hasParentRecorded(GitRepo git, String commit) throws IOException {
        String raw = git.text(commit, GitRepo.MAX_OUTPUT_BYTES);
        return raw != null && raw.lines().takeWhile(l -> !l.isEmpty()).anyMatch(l -> l.startsWith("parent "));
    }

    static FileDiff.ChangeType changeType(String status) {
        if (status == null) {
            return FileDiff.ChangeType.MODIFIED;
        }
        return switch (status.trim().toLowerCase(Locale.ROOT)) {
            case "added", "add", "new", "a" -> FileDiff.ChangeType.ADDED;
            case "removed", "deleted", "delete", "d" -> FileDiff.ChangeType.DELETED;
            case "renamed", "rename", "r" -> FileDiff.ChangeType.RENAMED;
            case "copied", "copy", "c" -> FileDiff.ChangeType.COPIED;
            default -> FileDiff.ChangeType.MODIFIED;
        };
    }

    private static long sizeInObjects(GitRepo git, String headSha, String path) {
        try {
            GitRepo.ObjectInfo info = git.info((headSha == null ? "HEAD" : headSha) + ":" + path);
            return info != null && "blob".equals(info.type()) ? info.size() : -1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    private static long sizeInCheckout(Path repoDir, String path) {
        if (repoDir == null) {
            return -1;
        }
        try {
            Path p = repoDir.resolve(path).normalize();
            if (!p.startsWith(repoDir.normalize()) || !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                return -1;
            }
            return Files.size(p);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    static String shortSha(String sha) {
        return sha == null ? "?" : sha.length() > 12 ? sha.substring(0, 12) : sha;
    }
}

package dev.aireview.runner.review;

import java.util.ArrayList;
import java.util.List;

/**
 * The diff of one file. {@code path} is the new path ({@code oldPath} for a deleted file), {@code oldPath} the
 * path before a rename or copy (equal to {@code path} otherwise). {@code sizeBytes} is the size of the new
 * version when known (binary files looked up in the repository), else -1. {@code mode} is git's mode of the new version
 * ({@code 100644}, {@code 100755}, {@code 120000} a symbolic link, {@code 160000} a submodule; the old one for a
 * deleted file), or null when the diff does not say (a bare patch). {@code attributes}: what the repository's
 * {@code .gitattributes} say about the path ({@link GitAttributes}; {@link PathAttributes#NONE} until they are read).
 */
public record FileDiff(String path, String oldPath, ChangeType change, boolean binary, List<Hunk> hunks, long sizeBytes, String mode,
                       PathAttributes attributes) {

    public static final String SYMLINK_MODE = "120000";
    public static final String SUBMODULE_MODE = "160000";

    public enum ChangeType { ADDED, MODIFIED, DELETED, RENAMED, COPIED }

    public FileDiff {
        hunks = List.copyOf(hunks);
        attributes = attributes == null ? PathAttributes.NONE : attributes;
    }

    /** A file whose attributes are not read (yet). */
    public FileDiff(String path, String oldPath, ChangeType change, boolean binary, List<Hunk> hunks, long sizeBytes, String mode) {
        this(path, oldPath, change, binary, hunks, sizeBytes, mode, PathAttributes.NONE);
    }

    /** A file whose mode the diff does not tell. */
    public FileDiff(String path, String oldPath, ChangeType change, boolean binary, List<Hunk> hunks, long sizeBytes) {
        this(path, oldPath, change, binary, hunks, sizeBytes, null, PathAttributes.NONE);
    }

    public FileDiff withSize(long size) {
        return new FileDiff(path, oldPath, change, binary, hunks, size, mode, attributes);
    }

    public FileDiff withPaths(String newPath, String previousPath, ChangeType type) {
        return new FileDiff(newPath, previousPath, type, binary, hunks, sizeBytes, mode, attributes);
    }

    /** The same file with other hunks (wider context, or none). */
    public FileDiff withHunks(List<Hunk> other) {
        return new FileDiff(path, oldPath, change, binary, other, sizeBytes, mode, attributes);
    }

    /**
     * The same file with the repository's attributes for its path; one they mark binary that the diff showed as text
     * loses its lines (binary files have none to comment on).
     */
    public FileDiff withAttributes(PathAttributes a) {
        boolean bin = binary || a.binary();
        return new FileDiff(path, oldPath, change, bin, bin ? List.of() : hunks, sizeBytes, mode, a);
    }

    public boolean symlink() {
        return SYMLINK_MODE.equals(mode);
    }

    public boolean submodule() {
        return SUBMODULE_MODE.equals(mode);
    }

    /** All added lines, in order. */
    public List<DiffLine> addedLines() {
        int shown = 0;
        for (Hunk h : hunks) {
            shown += h.lines().size();
        }
        List<DiffLine> out = new ArrayList<>(shown);
        for (Hunk h : hunks) {
            for (DiffLine l : h.lines()) {
                if (l.isAdded()) {
                    out.add(l);
                }
            }
        }
        return out;
    }

    public int additions() {
        int n = 0;
        for (Hunk h : hunks) {
            for (DiffLine l : h.lines()) {
                n += l.kind() == DiffLine.Kind.ADDED ? 1 : 0;
            }
        }
        return n;
    }

    public int deletions() {
        int n = 0;
        for (Hunk h : hunks) {
            for (DiffLine l : h.lines()) {
                n += l.kind() == DiffLine.Kind.REMOVED ? 1 : 0;
            }
        }
        return n;
    }

    /** File name extension in lower case without the dot ("" when none). */
    public String extension() {
        String name = fileName();
        int dot = name.lastIndexOf('.');
        return dot <= 0 ? "" : name.substring(dot + 1).toLowerCase(java.util.Locale.ROOT);
    }

    public String fileName() {
        int slash = path.lastIndexOf('/');
        return slash < 0 ? path : path.substring(slash + 1);
    }
}

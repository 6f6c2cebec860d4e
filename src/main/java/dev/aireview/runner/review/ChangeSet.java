package dev.aireview.runner.review;

import java.util.ArrayList;
import java.util.List;

/**
 * The files of a change, where their diff came from (for the summary and the logs), and notes for the summary
 * about how it was chosen ({@code incremental} when only the changes since the last reviewed head are shown).
 */
public record ChangeSet(List<FileDiff> files, String source, boolean incremental, List<String> notes, int filesCut) {

    public ChangeSet {
        files = List.copyOf(files);
        notes = List.copyOf(notes);
    }

    public ChangeSet(List<FileDiff> files, String source, boolean incremental, List<String> notes) {
        this(files, source, incremental, notes, 0);
    }

    public ChangeSet(List<FileDiff> files, String source) {
        this(files, source, false, List.of());
    }

    public ChangeSet withNotes(List<String> more) {
        List<String> all = new ArrayList<>(notes);
        all.addAll(more);
        return new ChangeSet(files, source, incremental, all, filesCut);
    }

    public ChangeSet withFiles(List<FileDiff> kept) {
        return new ChangeSet(kept, source, incremental, notes, filesCut);
    }

    /**
     * The same change marked as cut at the diff's size limit: {@code cut} files (the last one read, which may be
     * incomplete, and those after it) are not reviewed; a note for the summary says so.
     */
    public ChangeSet withCut(int cut, String note) {
        List<String> all = new ArrayList<>(notes);
        all.add(note);
        return new ChangeSet(files, source, incremental, all, Math.max(1, cut));
    }

    /** The diff was cut at its size limit: part of the change is not reviewed. */
    public boolean truncated() {
        return filesCut > 0;
    }

    public int additions() {
        return files.stream().mapToInt(FileDiff::additions).sum();
    }

    public int deletions() {
        return files.stream().mapToInt(FileDiff::deletions).sum();
    }
}

package dev.aireview.runner.review;

import java.util.ArrayList;
import java.util.List;

/**
 * The files of a change, where their diff came from (for the summary and the logs), and notes for the summary
 * about how it was chosen ({@code incremental} when only the changes since the last reviewed head are shown).
 */
public record ChangeSet(List<FileDiff> files, String source, boolean incremental, List<String> notes) {

    public ChangeSet {
        files = List.copyOf(files);
        notes = List.copyOf(notes);
    }

    public ChangeSet(List<FileDiff> files, String source) {
        this(files, source, false, List.of());
    }

    public ChangeSet withNotes(List<String> more) {
        List<String> all = new ArrayList<>(notes);
        all.addAll(more);
        return new ChangeSet(files, source, incremental, all);
    }

    public ChangeSet withFiles(List<FileDiff> kept) {
        return new ChangeSet(kept, source, incremental, notes);
    }

    public int additions() {
        return files.stream().mapToInt(FileDiff::additions).sum();
    }

    public int deletions() {
        return files.stream().mapToInt(FileDiff::deletions).sum();
    }
}

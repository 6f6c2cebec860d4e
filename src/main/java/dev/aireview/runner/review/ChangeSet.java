package dev.aireview.runner.review;

import java.util.List;

/** The files of a change and where their diff came from (for the summary and the logs). */
public record ChangeSet(List<FileDiff> files, String source) {

    public ChangeSet {
        files = List.copyOf(files);
    }

    public int additions() {
        return files.stream().mapToInt(FileDiff::additions).sum();
    }

    public int deletions() {
        return files.stream().mapToInt(FileDiff::deletions).sum();
    }
}

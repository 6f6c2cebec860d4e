package dev.aireview.runner.review;

import java.util.List;

/** A hunk of a unified diff: {@code @@ -oldStart,oldCount +newStart,newCount @@ section}. */
public record Hunk(int oldStart, int oldCount, int newStart, int newCount, String section, List<DiffLine> lines) {

    public Hunk {
        lines = List.copyOf(lines);
    }

    /** Last new-side line number covered by this hunk (newStart - 1 for a hunk that only removes lines). */
    public int newEnd() {
        return newStart + newCount - 1;
    }
}

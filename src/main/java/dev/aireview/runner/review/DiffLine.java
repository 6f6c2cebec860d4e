package dev.aireview.runner.review;

/**
 * One line of a hunk. {@code oldLine}/{@code newLine} are 1-based line numbers on each side; 0 where the line
 * does not exist on that side (an added line has no old number, a removed line no new number).
 * {@code noNewlineAtEnd} is set when the diff marks this line with {@code \ No newline at end of file}.
 */
public record DiffLine(Kind kind, int oldLine, int newLine, String text, boolean noNewlineAtEnd) {

    public enum Kind { ADDED, REMOVED, CONTEXT }

    public boolean isAdded() {
        return kind == Kind.ADDED;
    }

    DiffLine withNoNewlineAtEnd() {
        return new DiffLine(kind, oldLine, newLine, text, true);
    }
}

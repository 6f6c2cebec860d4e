package dev.aireview.runner.review.ai;

import dev.aireview.runner.review.ReviewFailedException;

/** The model (or provider) answered something that is not a valid review; {@link #answer} is what it said. */
public class MalformedAnswerException extends ReviewFailedException {
    private final String answer;

    public MalformedAnswerException(String problem, String answer) {
        super(problem);
        this.answer = answer == null ? "" : answer;
    }

    public String answer() {
        return answer;
    }

    /** The start of the answer, on one line, for an error message. */
    public String quote(int max) {
        String oneLine = answer.replaceAll("\\s+", " ").strip();
        return oneLine.length() > max ? oneLine.substring(0, max) + "…" : oneLine;
    }
}

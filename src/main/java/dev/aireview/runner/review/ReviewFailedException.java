package dev.aireview.runner.review;

/**
 * A review that failed in a known way (the model answered garbage, the provider refused, no diff could be
 * computed). The engine turns it into a {@code failed/executor_failed} result; the message is safe to show
 * (it never contains the AI key).
 */
public class ReviewFailedException extends Exception {
    public ReviewFailedException(String message) {
        super(message);
    }

    public ReviewFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}

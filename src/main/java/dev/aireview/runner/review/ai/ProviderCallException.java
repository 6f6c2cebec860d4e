package dev.aireview.runner.review.ai;

import dev.aireview.runner.review.ReviewFailedException;

/**
 * The provider could not be used for a request (unreachable, refused, past a bound of {@link BoundedCall}, its retries
 * or the review's time budget used up): the message names the provider, the call and what ended it. Unlike a
 * malformed answer for one part, this would happen again for the next part, so the review asks no further part.
 */
public class ProviderCallException extends ReviewFailedException {
    public ProviderCallException(String message) {
        super(message);
    }
}

package dev.aireview.runner.server;

import java.time.Duration;
import java.util.Optional;

/** A failed server call, already classified. Messages never contain the token. */
public class ServerException extends Exception {
    private final ServerCall call;
    private final ErrorClass errorClass;
    private final int httpStatus;
    private final Duration retryAfter;

    public ServerException(ServerCall call, ErrorClass errorClass, int httpStatus, Duration retryAfter, String message, Throwable cause) {
        super(message, cause);
        this.call = call;
        this.errorClass = errorClass;
        this.httpStatus = httpStatus;
        this.retryAfter = retryAfter;
    }

    public ServerCall call() {
        return call;
    }

    public ErrorClass errorClass() {
        return errorClass;
    }

    /** The HTTP status, or 0 when no answer came (connect error, timeout). */
    public int httpStatus() {
        return httpStatus;
    }

    /** The server's Retry-After (429/503), if it sent one. */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}

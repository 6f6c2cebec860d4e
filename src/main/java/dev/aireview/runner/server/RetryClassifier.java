package dev.aireview.runner.server;

import java.io.IOException;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/** The one place that decides what a server answer means for the runner (PROTOCOL.md "Codes"). */
public final class RetryClassifier {
    /** Longest Retry-After honoured; a larger value is capped so a typo on the server cannot park the runner for days. */
    public static final Duration MAX_RETRY_AFTER = Duration.ofMinutes(10);

    private RetryClassifier() {
    }

    /** Classifies an HTTP status that is not a success (2xx). */
    public static ErrorClass classify(ServerCall call, int status) {
        return classify(call, status, null);
    }

    /**
     * Classifies an HTTP status that is not a success, with the error text of the answer (title and detail):
     * a 404 on a task call means "unknown task" (drop it) unless the error names the runner and not the task
     * ("unknown runner r1; register first"): then the server forgot the runner, which registers again and
     * retries, instead of dropping a result the server would take once it knows the runner again.
     */
    public static ErrorClass classify(ServerCall call, int status, String errorText) {
        if (status == 404 && call.taskCall() && unknownRunner(errorText)) {
            return ErrorClass.REREGISTER;
        }
        if (status == 401 || status == 403) {
            return ErrorClass.UNAUTHORIZED;
        }
        if (status == 404) {
            return call.taskCall() ? ErrorClass.TASK_GONE : ErrorClass.REREGISTER;
        }
        if (status == 409 || status == 410) {
            return call.taskCall() ? ErrorClass.TASK_GONE : ErrorClass.RETRYABLE;
        }
        if (status == 408 || status == 425 || status == 429 || status >= 500) {
            return ErrorClass.RETRYABLE;
        }
        if (status < 200 || (status >= 300 && status < 400)) {
            // a redirect (a proxy's maintenance page, http->https on some paths) or an unexpected 1xx: not the
            // server's answer to this request; never a rejection, so a result or report is retried, not lost
            return ErrorClass.RETRYABLE;
        }
        return ErrorClass.BAD_REQUEST;
    }

    /**
     * What an answer's status adds to its error message: for a redirect, the target it names (the runner never
     * follows it: the operator fixes RUNNER_SERVER_URL or the proxy), so the log says where the call was sent.
     */
    public static String redirectNote(int status, String location) {
        if (status < 300 || status >= 400) {
            return "";
        }
        String target = location == null || location.isBlank() ? "no Location" : "Location " + shorten(location.strip());
        return " (redirect to " + target + "; not followed: check RUNNER_SERVER_URL and any proxy in front of the server)";
    }

    private static String shorten(String s) {
        String oneLine = s.replaceAll("[\\p{Cntrl}]", "?");
        return oneLine.length() > 200 ? oneLine.substring(0, 200) + "..." : oneLine;
    }

    /** True when a 404's error text is about the runner, not the task. */
    static boolean unknownRunner(String errorText) {
        if (errorText == null) {
            return false;
        }
        String t = errorText.toLowerCase(java.util.Locale.ROOT);
        return t.contains("runner") && !t.contains("task");
    }

    /** Classifies a transport failure: connect errors, resets and timeouts are all retryable. */
    public static ErrorClass classify(IOException e) {
        return ErrorClass.RETRYABLE;
    }

    public static boolean isTimeout(IOException e) {
        return e instanceof HttpTimeoutException;
    }

    /** Parses Retry-After: delta-seconds or an HTTP date (relative to {@code now}); null when absent or malformed. */
    public static Duration parseRetryAfter(String header, Instant now) {
        if (header == null || header.isBlank()) {
            return null;
        }
        String v = header.trim();
        Duration d;
        try {
            d = Duration.ofSeconds(Long.parseLong(v));
        } catch (NumberFormatException e) {
            try {
                Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                d = Duration.between(now, at);
            } catch (DateTimeParseException e2) {
                return null;
            }
        }
        if (d.isNegative()) {
            return Duration.ZERO;
        }
        return d.compareTo(MAX_RETRY_AFTER) > 0 ? MAX_RETRY_AFTER : d;
    }
}

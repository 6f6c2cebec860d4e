package dev.aireview.runner.server;

/** What the runner does about a failed call; decided in one place, {@link RetryClassifier}. */
public enum ErrorClass {
    /** Connect error, timeout, 408, 429, 5xx: retry with backoff (429: after Retry-After). */
    RETRYABLE,
    /** 404 on a runner call: the server does not know this runner; register again. */
    REREGISTER,
    /** 404/409/410 on a task call: the task is no longer this runner's; stop it, drop its reports. */
    TASK_GONE,
    /** 401/403: the token was refused. Fatal at start-up; later back off and re-register. */
    UNAUTHORIZED,
    /** Any other 4xx or an unreadable answer: a bug on one side. Log it, don't retry the same request. */
    BAD_REQUEST
}

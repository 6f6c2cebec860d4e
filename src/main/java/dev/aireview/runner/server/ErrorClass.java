package dev.aireview.runner.server;

/** What the runner does about a failed call; decided in one place, {@link RetryClassifier}. */
public enum ErrorClass {
    /**
     * Connect error, timeout (the whole-call deadline included), 408, 429, 5xx, a 3xx redirect (never followed) or
     * unexpected 1xx, and a 2xx answer that is not
     * readable JSON (a proxy's page): retry with backoff (after Retry-After when sent).
     */
    RETRYABLE,
    /** 404 on a runner call, or on a task call whose error names the runner: the server does not know this runner; register again. */
    REREGISTER,
    /** 404/409/410 on a task call: the task is no longer this runner's; stop it, drop its reports. */
    TASK_GONE,
    /** 401/403: the token was refused. Fatal at start-up; later back off and re-register. */
    UNAUTHORIZED,
    /** Any other 4xx: a bug on one side. Log it, don't retry the same request (the poll backs off and polls again). */
    BAD_REQUEST
}

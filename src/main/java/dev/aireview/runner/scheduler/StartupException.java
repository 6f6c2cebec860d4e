package dev.aireview.runner.scheduler;

/** The runner cannot start (executor failed its checks, the server refused the token, ...). Exit status 1. */
public class StartupException extends Exception {
    public StartupException(String message, Throwable cause) {
        super(message, cause);
    }
}

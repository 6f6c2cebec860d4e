package dev.aireview.runner.docker;

/** A start-up or infrastructure failure of the Docker executor, with a message that names the setting to fix. */
public class DockerExecutorException extends RuntimeException {
    public DockerExecutorException(String message) {
        super(message);
    }

    public DockerExecutorException(String message, Throwable cause) {
        super(message, cause);
    }
}

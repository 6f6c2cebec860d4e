package dev.aireview.runner.model;

/** A claimed task whose JSON cannot be run; the message names every missing or malformed field. */
public class BadTaskException extends Exception {
    public BadTaskException(String message) {
        super(message);
    }
}

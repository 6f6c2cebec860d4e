package dev.aireview.runner.review;

/** Receives one progress line per event (inside the container these go to stdout and become the task's logs). */
@FunctionalInterface
public interface Progress {

    void line(String message);

    static Progress none() {
        return m -> { };
    }
}

package dev.aireview.runner.devserver;

import java.time.Instant;

/**
 * One entry of a task's history: a phase reported by the runner ({@code preparing}, {@code cloning}, …) or set
 * by the server ({@code pending}, {@code claimed}, {@code requeued}, {@code cancel_requested}, the final status).
 * {@code at} is the runner's timestamp when it sent one, {@code receivedAt} the server's.
 */
public record PhaseChange(String phase, String runnerId, String message, String at, Instant receivedAt) {
}

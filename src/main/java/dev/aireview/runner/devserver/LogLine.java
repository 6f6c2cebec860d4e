package dev.aireview.runner.devserver;

import java.time.Instant;

/**
 * One stored log line of a task. {@code index} is its position in the task's log (the protocol's offset);
 * {@code ts} is the runner's timestamp as sent, {@code receivedAt} the server's.
 */
public record LogLine(long index, String ts, String stream, String text, Instant receivedAt) {
}

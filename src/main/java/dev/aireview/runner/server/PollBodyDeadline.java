package dev.aireview.runner.server;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The deadline of a poll exchange: a <b>liveness</b> bound on its body, not a size bound. The headers must arrive
 * within the poll's own timeout (the server holds a long poll for less than that). A 2xx body, once it has begun,
 * is read for as long as it keeps arriving: it is ended when no byte has arrived for {@code idle} (the request
 * timeout), and at the latest {@link #MAX_BODY_IDLES} idle periods after the headers' deadline — the whole-call
 * bound. Ended so, the answer keeps what arrived: the tasks read whole are claimed, the one in progress ends
 * {@code failed/bad_task} by its id when its id was read ({@link TaskListScanner.Subscriber#cutOff}).
 *
 * <p>Before, the whole poll had {@code pollTimeout} from its start, so a task handed out late in a long poll had
 * only what was left of it to arrive: a 20 MB answer on a busy machine was dropped whole, tasks the server had
 * handed out included.
 */
final class PollBodyDeadline {
    /** The whole call ends at the latest this many idle periods after the headers' deadline. */
    static final int MAX_BODY_IDLES = 4;

    private final Duration idle;
    private final Supplier<TaskListScanner.Subscriber> body;

    /**
     * @param idle the longest wait for the body's next bytes
     * @param body the 2xx body's reader once the headers arrived; null before (or for an error answer)
     */
    PollBodyDeadline(Duration idle, Supplier<TaskListScanner.Subscriber> body) {
        this.idle = idle;
        this.body = body;
    }

    /** Waits for the exchange: headers within {@code headers}, then the body while it keeps arriving. */
    <T> HttpResponse<T> await(CompletableFuture<HttpResponse<T>> future, Duration headers)
            throws InterruptedException, ExecutionException, TimeoutException {
        long start = System.nanoTime();
        long headersDue = start + headers.toNanos();
        long lastDue = headersDue + idle.toNanos() * MAX_BODY_IDLES;
        while (true) {
            TaskListScanner.Subscriber reader = body.get();
            long now = System.nanoTime();
            long due = reader == null ? headersDue : Math.min(lastDue, reader.lastProgressNanos() + idle.toNanos());
            if (now - due >= 0) {
                if (reader == null) {
                    throw new TimeoutException("no answer within " + headers.toMillis() + " ms");
                }
                reader.cutOff(now - lastDue >= 0
                        ? "timed out: the answer was still arriving " + (headers.toMillis() + idle.toMillis() * MAX_BODY_IDLES)
                        + " ms after the poll began"
                        : "timed out: the answer stopped arriving (no byte for " + idle.toMillis() + " ms)");
                return future.get(idle.toMillis(), TimeUnit.MILLISECONDS); // the reader completed: the answer follows
            }
            try {
                return future.get(due - now, TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                // a due time passed: look again, the body may have moved it on
            }
        }
    }
}

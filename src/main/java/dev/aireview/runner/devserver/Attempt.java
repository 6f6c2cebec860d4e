package dev.aireview.runner.devserver;

import java.time.Instant;

/**
 * One attempt of a task (one claim by one runner), as the dev server recorded it; the proof of "nothing ran twice"
 * is read from these.
 *
 * @param number              1 for the first hand-out, +1 for each re-queue
 * @param end                 null while open; {@code result} (the attempt's runner delivered the accepted result),
 *                            {@code requeued} (runner offline, task never acknowledged, or {@code runner_shutdown}
 *                            reported; {@code endMessage} says which), {@code undelivered} (the poll answer could
 *                            not be written), {@code cancelled} (runner offline after a cancel request)
 * @param executions          how many times the attempt's runner reported {@code reviewing} for it, retries of one
 *                            report (same {@code at}) counted once, reports the server refused (409) included. More
 *                            than 1 means the runner executed the task twice within one claim
 * @param statusCalls         status calls of the attempt's runner while this was its latest attempt of the task
 * @param rejectedStatusCalls of those, answered 409 (the claim was gone, the task finished or was cancelled)
 * @param resultCalls         result calls of the attempt's runner, accepted or not
 * @param rejectedResultCalls of those, answered 409
 * @param resultStatus        status of the result this attempt ended with (also {@code runner_shutdown} reports
 *                            that re-queued it), else null
 * @param errorKind           {@code error.kind} of that result, else null
 * @param errorMessage        {@code error.message} of that result (task secrets masked), else null
 */
public record Attempt(int number, String runnerId, Instant claimedAt, Instant endedAt, String end, String endMessage,
                      int executions, int statusCalls, int rejectedStatusCalls, int resultCalls,
                      int rejectedResultCalls, String resultStatus, String errorKind, String errorMessage) {
}

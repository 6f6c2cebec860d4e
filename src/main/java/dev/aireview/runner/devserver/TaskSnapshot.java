package dev.aireview.runner.devserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aireview.runner.model.Json;

import java.time.Instant;
import java.util.List;

/**
 * A consistent, immutable copy of one task as the dev server sees it. Secrets of the task (clone token, AI key)
 * are masked in {@link #task()}, {@link #result()} and {@link #logs()}.
 *
 * @param phase         {@code pending}, {@code claimed}, the last phase the runner reported
 *                      ({@code preparing}/{@code cloning}/{@code reviewing}/{@code submitting}), or, once
 *                      {@link #terminal()}, the final status ({@code completed}/{@code failed}/{@code cancelled}/
 *                      {@code timed_out})
 * @param runnerId      the runner holding the claim (or that delivered the result); null while pending
 * @param resultStatus  the status of the stored result; null when no result came (also for a task cancelled while
 *                      still pending)
 * @param claimCount    how many times the task was handed to a runner (more than 1 only after a re-queue)
 * @param resultCalls   how many result calls came for the task, accepted or not
 * @param formerRunners runners that held the claim before it was re-queued
 * @param secretLeaks   how many log lines, status messages and results arrived with one of the task's secrets or
 *                      a server token in clear (the server masks them in every view; a correct runner sends 0)
 * @param attempts      every hand-out of the task, in order (see {@link Attempt})
 * @param strayCalls    status/result calls from runners that never held the task
 * @param duplicatesSent extra copies of the task sent in one poll answer (injected fault)
 * @param shutdownRequeues times the task was re-queued after a {@code runner_shutdown} result
 */
public record TaskSnapshot(
        String id,
        String reviewId,
        String phase,
        String runnerId,
        boolean terminal,
        boolean cancelRequested,
        String resultStatus,
        JsonNode result,
        JsonNode task,
        Instant enqueuedAt,
        Instant claimedAt,
        Instant startedAt,
        Instant finishedAt,
        int claimCount,
        int resultCalls,
        int statusCalls,
        int logBatches,
        int requeues,
        List<String> formerRunners,
        List<PhaseChange> phases,
        List<LogLine> logs,
        long duplicateLogLines,
        long droppedLogLines,
        int secretLeaks,
        List<Attempt> attempts,
        int strayCalls,
        int duplicatesSent,
        int shutdownRequeues) {

    public TaskSnapshot {
        attempts = List.copyOf(attempts);
        formerRunners = List.copyOf(formerRunners);
        phases = List.copyOf(phases);
        logs = List.copyOf(logs);
    }

    /** The review summary of the result, or null. */
    public String summary() {
        return result == null ? null : Json.text(result, "summary");
    }

    /** Number of comments in the result (0 without one). */
    public int commentCount() {
        JsonNode c = result == null ? null : Json.field(result, "comments");
        return c != null && c.isArray() ? c.size() : 0;
    }

    /** {@code error.kind} of the result, or null. */
    public String errorKind() {
        JsonNode e = result == null ? null : Json.field(result, "error");
        return e == null ? null : Json.text(e, "kind");
    }

    /** {@code error.message} of the result, or null. */
    public String errorMessage() {
        JsonNode e = result == null ? null : Json.field(result, "error");
        return e == null ? null : Json.text(e, "message");
    }

    /** The phases in the order they happened (e.g. pending, claimed, preparing, cloning, reviewing, …). */
    public List<String> phaseNames() {
        return phases.stream().map(PhaseChange::phase).toList();
    }

    /** The admin API view; logs only when {@code withLogs}. */
    public ObjectNode toJson(boolean withLogs) {
        ObjectNode n = Json.mapper().createObjectNode();
        n.put("id", id);
        n.put("reviewId", reviewId);
        n.put("phase", phase);
        n.put("runnerId", runnerId);
        n.put("terminal", terminal);
        n.put("cancelRequested", cancelRequested);
        n.put("resultStatus", resultStatus);
        n.put("commentCount", commentCount());
        n.put("enqueuedAt", str(enqueuedAt));
        n.put("claimedAt", str(claimedAt));
        n.put("startedAt", str(startedAt));
        n.put("finishedAt", str(finishedAt));
        ObjectNode counters = n.putObject("counters");
        counters.put("claims", claimCount);
        counters.put("resultCalls", resultCalls);
        counters.put("statusCalls", statusCalls);
        counters.put("logBatches", logBatches);
        counters.put("requeues", requeues);
        counters.put("logLines", logs.size());
        counters.put("duplicateLogLines", duplicateLogLines);
        counters.put("droppedLogLines", droppedLogLines);
        counters.put("secretLeaks", secretLeaks);
        counters.put("strayCalls", strayCalls);
        counters.put("duplicatesSent", duplicatesSent);
        counters.put("shutdownRequeues", shutdownRequeues);
        ArrayNode former = n.putArray("formerRunners");
        formerRunners.forEach(former::add);
        ArrayNode ph = n.putArray("phases");
        for (PhaseChange p : phases) {
            ObjectNode o = ph.addObject();
            o.put("phase", p.phase());
            o.put("runnerId", p.runnerId());
            o.put("message", p.message());
            o.put("at", p.at());
            o.put("receivedAt", str(p.receivedAt()));
        }
        ArrayNode att = n.putArray("attempts");
        for (Attempt a : attempts) {
            ObjectNode o = att.addObject();
            o.put("number", a.number());
            o.put("runnerId", a.runnerId());
            o.put("claimedAt", str(a.claimedAt()));
            o.put("endedAt", str(a.endedAt()));
            o.put("end", a.end());
            o.put("endMessage", a.endMessage());
            o.put("executions", a.executions());
            o.put("statusCalls", a.statusCalls());
            o.put("rejectedStatusCalls", a.rejectedStatusCalls());
            o.put("resultCalls", a.resultCalls());
            o.put("rejectedResultCalls", a.rejectedResultCalls());
            o.put("resultStatus", a.resultStatus());
            o.put("errorKind", a.errorKind());
            o.put("errorMessage", a.errorMessage());
        }
        n.set("task", task);
        n.set("result", result);
        if (withLogs) {
            ArrayNode lines = n.putArray("logs");
            for (LogLine l : logs) {
                ObjectNode o = lines.addObject();
                o.put("index", l.index());
                o.put("ts", l.ts());
                o.put("stream", l.stream());
                o.put("text", l.text());
            }
        }
        return n;
    }

    private static String str(Instant i) {
        return i == null ? null : i.toString();
    }
}

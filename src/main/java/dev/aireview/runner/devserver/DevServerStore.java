package dev.aireview.runner.devserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * The in-memory state of the dev server and every protocol rule, behind one lock. Long polls wait on
 * {@link #taskQueued}, watchers ({@link #awaitTask}) on {@link #changed}; nothing sleeps.
 */
final class DevServerStore {
    private static final Logger log = LoggerFactory.getLogger(DevServerStore.class);

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition taskQueued = lock.newCondition();
    private final Condition changed = lock.newCondition();
    private final Map<String, TaskRecord> tasks = new LinkedHashMap<>();
    private final Deque<String> queue = new ArrayDeque<>();
    private final Map<String, RunnerRecord> runners = new LinkedHashMap<>();
    private final Clock clock;
    private final Duration heartbeatTimeout;
    private final int maxLogLines;
    private final List<String> serverSecrets;
    private final Faults faults;
    private final int maxShutdownRetries;
    private long taskSeq;
    private long reviewSeq;
    private boolean closed;
    private boolean paused;

    DevServerStore(DevServerOptions options) {
        this(options, new Faults());
    }

    DevServerStore(DevServerOptions options, Faults faults) {
        this.faults = faults;
        this.maxShutdownRetries = options.maxShutdownRetries();
        this.clock = options.clock();
        this.heartbeatTimeout = options.heartbeatTimeout();
        this.maxLogLines = options.maxLogLinesPerTask();
        List<String> s = new ArrayList<>();
        s.add(options.token());
        if (options.adminToken() != null) {
            s.add(options.adminToken());
        }
        this.serverSecrets = List.copyOf(s);
    }

    record Registration(RunnerSnapshot runner, boolean created) {
    }

    record LogOutcome(int accepted, int duplicates, long nextOffset) {
    }

    /** {@code requeued}: a {@code runner_shutdown} report that put the task back in the queue as a new attempt. */
    record ResultOutcome(TaskSnapshot task, boolean duplicate, boolean requeued) {
    }

    // ---------------------------------------------------------------- runner calls

    Registration register(String id, String name, String version, Integer maxConcurrency, List<String> tags,
                          String hostname) {
        lock.lock();
        try {
            Instant now = now();
            RunnerRecord r = runners.get(id);
            boolean created = r == null;
            if (created) {
                r = new RunnerRecord(id, now);
                runners.put(id, r);
            }
            r.name = name != null ? name : (r.name != null ? r.name : id);
            if (version != null) {
                r.version = version;
            }
            if (maxConcurrency != null) {
                r.maxConcurrency = maxConcurrency;
            }
            if (tags != null) {
                r.tags = List.copyOf(tags);
            }
            if (hostname != null) {
                r.hostname = hostname;
            }
            r.registrations++;
            r.status = "online";
            r.lastSeen = now;
            changed.signalAll();
            log.info("runner {} {} (max {} jobs, version {})", id, created ? "registered" : "re-registered",
                    r.maxConcurrency, r.version);
            return new Registration(r.snapshot(), created);
        } finally {
            lock.unlock();
        }
    }

    /** Records a heartbeat and answers the ids the runner must cancel. */
    List<String> heartbeat(String runnerId, String status, Integer activeJobs, Integer maxConcurrency,
                           List<String> runningTaskIds) {
        lock.lock();
        try {
            RunnerRecord r = knownRunner(runnerId);
            Instant now = now();
            r.heartbeats++;
            r.lastHeartbeat = now;
            r.lastSeen = now;
            if (activeJobs != null) {
                r.activeJobs = activeJobs;
                r.maxActiveJobs = Math.max(r.maxActiveJobs, activeJobs);
            }
            if (maxConcurrency != null) {
                r.maxConcurrency = maxConcurrency;
            }
            if (runningTaskIds != null) {
                r.runningTaskIds = List.copyOf(runningTaskIds);
            }
            String s = status == null ? "online" : status.trim().toLowerCase(Locale.ROOT);
            if (s.equals("offline")) {
                markOffline(r, "runner reported offline", now);
            } else {
                if (r.offline()) {
                    log.info("runner {} is back online", runnerId);
                }
                r.status = switch (s) {
                    case "busy", "draining" -> s;
                    default -> "online";
                };
            }
            if (runningTaskIds != null && !r.offline()) {
                requeueUnacknowledged(r, now);
            }
            List<String> cancel = new ArrayList<>();
            for (String id : r.claimed) {
                TaskRecord t = tasks.get(id);
                if (t != null && t.cancelRequested && !t.terminal()) {
                    cancel.add(id);
                }
            }
            for (String id : r.runningTaskIds) {
                TaskRecord t = tasks.get(id);
                if (t != null && !cancel.contains(id) && !runnerId.equals(t.runnerId)) {
                    cancel.add(id); // re-queued or given to another runner: this runner must stop it
                }
            }
            changed.signalAll();
            return cancel;
        } finally {
            lock.unlock();
        }
    }

    /**
     * A task handed out in a poll answer the runner never received (its client gave up on the long poll just
     * before the answer) would stay claimed for good while the runner keeps heartbeating. Such a task is put back:
     * still {@code claimed} after a full heartbeat timeout, not one status/log/result call for it, and absent from
     * the {@code runningTaskIds} of this heartbeat.
     */
    private void requeueUnacknowledged(RunnerRecord r, Instant now) {
        List<String> lost = new ArrayList<>();
        for (String id : r.claimed) {
            TaskRecord t = tasks.get(id);
            if (t != null && "claimed".equals(t.phase) && !t.cancelRequested && t.statusCalls == 0
                    && t.logBatches == 0 && t.resultCalls == 0 && !r.runningTaskIds.contains(id)
                    && t.claimedAt != null && t.claimedAt.plus(heartbeatTimeout).isBefore(now)) {
                lost.add(id);
            }
        }
        for (int i = lost.size() - 1; i >= 0; i--) {
            TaskRecord t = tasks.get(lost.get(i));
            r.claimed.remove(t.id);
            t.formerRunners.add(r.id);
            t.runnerId = null;
            t.phase = "pending";
            t.requeues++;
            t.endAttempt("requeued", "runner never acknowledged the task", now);
            t.record("requeued", r.id, "runner never acknowledged the task", null, now);
            queue.addFirst(t.id);
            log.warn("task {} re-queued: runner {} never acknowledged it", t.id, r.id);
        }
        if (!lost.isEmpty()) {
            taskQueued.signalAll();
        }
    }

    /** Claims up to {@code maxTasks} pending tasks for the runner, waiting up to {@code wait} when none is pending. */
    List<ObjectNode> poll(String runnerId, int maxTasks, Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        lock.lock();
        try {
            RunnerRecord r = knownRunner(runnerId);
            r.polls++;
            r.lastSeen = now();
            if (r.offline()) {
                r.status = "online";
                log.info("runner {} is back online (poll)", runnerId);
            }
            while (true) {
                if (closed || paused || r.offline() || runners.get(runnerId) != r) {
                    return List.of();
                }
                List<ObjectNode> claimed = claim(r, maxTasks);
                if (!claimed.isEmpty() || maxTasks <= 0) {
                    return claimed;
                }
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    return List.of();
                }
                taskQueued.awaitNanos(remaining);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Oldest pending tasks first. Tasks of an injected {@code bundle} fault are held back until one poll can take
     * the whole bundle (all of its tasks pending, room for all of them); an injected {@code duplicate} fault lists
     * the first task of the answer twice (claimed once).
     */
    private List<ObjectNode> claim(RunnerRecord r, int maxTasks) {
        List<ObjectNode> out = new ArrayList<>();
        Instant now = now();
        for (List<String> bundle : faults.bundles()) {
            if (bundle.size() <= maxTasks - out.size() && bundle.stream().allMatch(id -> tasks.containsKey(id) && tasks.get(id).pending())) {
                for (String id : bundle) {
                    queue.remove(id);
                    claimOne(r, tasks.get(id), out, now);
                }
                faults.bundleClaimed(bundle);
                log.info("tasks {} handed out together to runner {} (injected bundle)", bundle, r.id);
            }
        }
        java.util.Set<String> held = faults.heldForBundles();
        java.util.Iterator<String> it = queue.iterator();
        while (out.size() < maxTasks && it.hasNext()) {
            String id = it.next();
            TaskRecord t = tasks.get(id);
            if (t == null || !t.pending()) {
                it.remove();
                continue;
            }
            if (held.contains(id)) {
                continue;
            }
            it.remove();
            claimOne(r, t, out, now);
        }
        if (!out.isEmpty() && faults.duplicateNext()) {
            ObjectNode first = out.get(0);
            out.add(first.deepCopy());
            TaskRecord t = tasks.get(ReviewTask.idOf(first));
            if (t != null) {
                t.duplicatesSent++;
                log.info("task {} listed twice in the poll answer to runner {} (injected duplicate)", t.id, r.id);
            }
        }
        if (!out.isEmpty()) {
            changed.signalAll();
        }
        return out;
    }

    private void claimOne(RunnerRecord r, TaskRecord t, List<ObjectNode> out, Instant now) {
        t.runnerId = r.id;
        t.phase = "claimed";
        t.claimedAt = now;
        t.claimCount++;
        t.attempts.add(new AttemptRecord(t.attempts.size() + 1, r.id, now));
        t.record("claimed", r.id, null, null, now);
        r.claimed.add(t.id);
        r.tasksClaimed++;
        r.maxClaimed = Math.max(r.maxClaimed, r.claimed.size());
        out.add(t.body.deepCopy());
        log.info("task {} claimed by runner {}", t.id, r.id);
    }

    /** Puts back tasks whose poll response could not be delivered: they were never handed out. */
    void unclaim(String runnerId, List<String> taskIds) {
        lock.lock();
        try {
            RunnerRecord r = runners.get(runnerId);
            Instant now = now();
            for (int i = taskIds.size() - 1; i >= 0; i--) {
                TaskRecord t = tasks.get(taskIds.get(i));
                if (t == null || !runnerId.equals(t.runnerId) || !"claimed".equals(t.phase)) {
                    continue;
                }
                t.claimCount--;
                t.endAttempt("undelivered", "poll response to " + runnerId + " not delivered", now);
                t.runnerId = null;
                t.phase = "pending";
                t.record("pending", null, "poll response to " + runnerId + " not delivered", null, now);
                if (r != null) {
                    r.claimed.remove(t.id);
                    r.tasksClaimed--;
                }
                queue.addFirst(t.id);
                log.warn("task {} returned to the queue: poll response to runner {} not delivered", t.id, runnerId);
            }
            taskQueued.signalAll();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void status(String taskId, String runnerId, String status, String message, String at) {
        lock.lock();
        try {
            TaskRecord t = knownTask(taskId);
            t.statusCalls++;
            touch(runnerId);
            AttemptRecord attempt = t.attemptOf(runnerId);
            String phase = status == null ? null : status.trim().toLowerCase(Locale.ROOT);
            if (attempt == null) {
                t.strayCalls++;
            } else {
                attempt.statusCalls++;
                if ("reviewing".equals(phase)) {
                    attempt.reviewing(at);
                }
            }
            try {
                requireRunning(t, runnerId);
            } catch (ApiException e) {
                if (attempt != null) {
                    attempt.rejectedStatusCalls++;
                }
                changed.signalAll();
                throw e;
            }
            if (phase == null || phase.isBlank()) {
                throw ApiException.badRequest("missing field 'status'");
            }
            Instant now = now();
            t.phase = phase;
            if (t.startedAt == null) {
                t.startedAt = now;
            }
            if (Secrets.leaks(message, allSecrets(t))) {
                t.secretLeaks++;
            }
            t.record(t.phase, runnerId, message, at, now);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    record IncomingLine(String ts, String stream, String text) {
    }

    LogOutcome logs(String taskId, String runnerId, Long offset, List<IncomingLine> lines) {
        lock.lock();
        try {
            TaskRecord t = knownTask(taskId);
            t.logBatches++;
            touch(runnerId);
            requireRunning(t, runnerId);
            Instant now = now();
            long first = offset == null ? t.nextLogIndex : offset;
            int accepted = 0;
            int duplicates = 0;
            List<String> secrets = allSecrets(t);
            for (int i = 0; i < lines.size(); i++) {
                long index = first + i;
                if (index < t.nextLogIndex) {
                    duplicates++;
                    continue;
                }
                IncomingLine in = lines.get(i);
                if (Secrets.leaks(in.text(), secrets)) {
                    t.secretLeaks++;
                }
                if (t.logs.size() < maxLogLines) {
                    t.logs.add(new LogLine(index, in.ts(), in.stream(), in.text(), now));
                } else {
                    t.droppedLogLines++;
                }
                t.nextLogIndex = index + 1;
                accepted++;
            }
            t.duplicateLogLines += duplicates;
            changed.signalAll();
            return new LogOutcome(accepted, duplicates, t.nextLogIndex);
        } finally {
            lock.unlock();
        }
    }

    ResultOutcome result(String taskId, String runnerId, JsonNode body) {
        lock.lock();
        try {
            TaskRecord t = knownTask(taskId);
            t.resultCalls++;
            touch(runnerId);
            String status = resultStatus(body);
            String kind = Json.text(Json.field(body, "error"), "kind");
            AttemptRecord attempt = t.attemptOf(runnerId);
            if (attempt == null) {
                t.strayCalls++;
            } else {
                attempt.resultCalls++;
            }
            if (t.result != null) {
                if (runnerId.equals(t.runnerId) && status.equals(t.resultStatus)) {
                    changed.signalAll();
                    return new ResultOutcome(t.snapshot(false), true, false);
                }
                rejected(attempt);
                throw ApiException.conflict("task " + taskId + " already has a result (" + t.resultStatus
                        + ") from runner " + t.runnerId);
            }
            if (!runnerId.equals(t.runnerId)) {
                rejected(attempt);
                throw ApiException.conflict(notYours(t, runnerId));
            }
            Instant now = now();
            if (Secrets.leaks(body, allSecrets(t))) {
                t.secretLeaks++;
            }
            if (attempt != null) {
                attempt.errorMessage = Json.text(Json.field(body, "error"), "message");
            }
            if ("runner_shutdown".equals(kind) && !t.cancelRequested && t.shutdownRequeues < maxShutdownRetries) {
                return requeueAfterShutdown(t, attempt, status, runnerId, now);
            }
            if (attempt != null) {
                attempt.resultStatus = status;
                attempt.errorKind = kind;
                attempt.end("result", null, now);
            }
            t.result = body.deepCopy();
            t.resultStatus = status;
            t.phase = status;
            t.finishedAt = now;
            t.record(status, runnerId, kind, null, now);
            RunnerRecord r = runners.get(runnerId);
            if (r != null) {
                r.claimed.remove(taskId);
                r.results++;
            }
            changed.signalAll();
            log.info("task {} finished: {} (runner {})", taskId, status, runnerId);
            return new ResultOutcome(t.snapshot(false), false, false);
        } finally {
            lock.unlock();
        }
    }

    private static void rejected(AttemptRecord attempt) {
        if (attempt != null) {
            attempt.rejectedResultCalls++;
        }
    }

    /**
     * A {@code runner_shutdown} result (the runner stopped, or restarted and found the task left over from its
     * previous process) does not end the task: it goes back to the front of the queue as a new attempt, so another
     * runner reviews it, at most {@code maxShutdownRetries} times; after that the report is stored as the result.
     * A task whose cancel was requested is not retried (the report ends it).
     */
    private ResultOutcome requeueAfterShutdown(TaskRecord t, AttemptRecord attempt, String status, String runnerId,
                                               Instant now) {
        if (attempt != null) {
            attempt.resultStatus = status;
            attempt.errorKind = "runner_shutdown";
        }
        String why = "runner " + runnerId + " reported runner_shutdown; retried as a new attempt";
        t.endAttempt("requeued", why, now);
        t.shutdownRequeues++;
        t.requeues++;
        t.formerRunners.add(runnerId);
        t.runnerId = null;
        t.phase = "pending";
        t.record("requeued", runnerId, why, null, now);
        RunnerRecord r = runners.get(runnerId);
        if (r != null) {
            r.claimed.remove(t.id);
        }
        queue.addFirst(t.id);
        taskQueued.signalAll();
        changed.signalAll();
        log.info("task {} re-queued: runner {} reported runner_shutdown ({} of {} retries)", t.id, runnerId,
                t.shutdownRequeues, maxShutdownRetries);
        return new ResultOutcome(t.snapshot(false), false, true);
    }

    private static String resultStatus(JsonNode body) {
        String s = Json.text(body, "status");
        if (s == null) {
            return Json.field(body, "error") == null ? ResultStatus.COMPLETED.wire() : ResultStatus.FAILED.wire();
        }
        return ResultStatus.fromWire(s).wire();
    }

    private void requireRunning(TaskRecord t, String runnerId) {
        if (!runnerId.equals(t.runnerId)) {
            throw ApiException.conflict(notYours(t, runnerId));
        }
        if (t.terminal()) {
            throw ApiException.conflict("task " + t.id + " is already finished (" + t.phase + ")");
        }
        if (t.cancelRequested) {
            throw ApiException.conflict("task " + t.id + " was cancelled");
        }
    }

    private static String notYours(TaskRecord t, String runnerId) {
        if (t.runnerId == null) {
            return "task " + t.id + " is not claimed by runner " + runnerId + " (it is " + t.phase + ")";
        }
        return "task " + t.id + " is claimed by another runner, not " + runnerId;
    }

    private List<String> allSecrets(TaskRecord t) {
        List<String> all = new ArrayList<>(t.secrets);
        all.addAll(serverSecrets);
        return all;
    }

    private void touch(String runnerId) {
        RunnerRecord r = runners.get(runnerId);
        if (r != null && !r.offline()) {
            r.lastSeen = now();
        }
    }

    // ---------------------------------------------------------------- admin

    /**
     * Adds a task to the queue. The body is handed to runners as stored. With {@code assignId} a body without an
     * id gets {@code task_<n>}; a body without {@code reviewId} gets {@code rev_<n>} unless {@code raw}.
     */
    String enqueue(ObjectNode body, boolean raw, boolean assignId) {
        lock.lock();
        try {
            String id = ReviewTask.idOf(body);
            ObjectNode stored = body;
            if (id != null) {
                if (tasks.containsKey(id)) {
                    throw ApiException.conflict("a task with id " + id + " already exists");
                }
            } else {
                do {
                    id = "task_" + (++taskSeq);
                } while (tasks.containsKey(id));
                if (assignId) {
                    stored = Json.mapper().createObjectNode();
                    stored.put("id", id);
                    stored.setAll(body);
                }
            }
            if (!raw && Json.field(stored, "reviewId", "review_id") == null) {
                stored.put("reviewId", "rev_" + (++reviewSeq));
            }
            Instant now = now();
            TaskRecord t = new TaskRecord(id, stored, Secrets.of(stored), now);
            t.record("pending", null, raw ? "enqueued verbatim" : null, null, now);
            tasks.put(id, t);
            queue.addLast(id);
            taskQueued.signalAll();
            changed.signalAll();
            log.info("task {} enqueued{}", id, raw ? " (raw body)" : "");
            return id;
        } finally {
            lock.unlock();
        }
    }

    TaskSnapshot cancel(String taskId) {
        lock.lock();
        try {
            TaskRecord t = knownTask(taskId);
            if (t.terminal()) {
                throw ApiException.conflict("task " + taskId + " is already finished (" + t.phase + ")");
            }
            Instant now = now();
            if (t.pending()) {
                queue.remove(taskId);
                t.phase = "cancelled";
                t.finishedAt = now;
                t.record("cancelled", null, "cancelled while pending", null, now);
                log.info("task {} cancelled while pending", taskId);
            } else if (!t.cancelRequested) {
                t.cancelRequested = true;
                t.record("cancel_requested", t.runnerId, null, null, now);
                log.info("task {} cancel requested (runner {})", taskId, t.runnerId);
            }
            changed.signalAll();
            return t.snapshot(false);
        } finally {
            lock.unlock();
        }
    }

    TaskSnapshot task(String taskId, boolean withLogs) {
        lock.lock();
        try {
            return knownTask(taskId).snapshot(withLogs);
        } finally {
            lock.unlock();
        }
    }

    List<TaskSnapshot> tasks() {
        lock.lock();
        try {
            List<TaskSnapshot> out = new ArrayList<>(tasks.size());
            tasks.values().forEach(t -> out.add(t.snapshot(false)));
            return out;
        } finally {
            lock.unlock();
        }
    }

    List<RunnerSnapshot> runners() {
        lock.lock();
        try {
            List<RunnerSnapshot> out = new ArrayList<>(runners.size());
            runners.values().forEach(r -> out.add(r.snapshot()));
            return out;
        } finally {
            lock.unlock();
        }
    }

    /** Waits until the task satisfies {@code condition}; returns the snapshot (with logs) that did. */
    TaskSnapshot awaitTask(String taskId, Predicate<TaskSnapshot> condition, Duration timeout)
            throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (true) {
                TaskSnapshot s = knownTask(taskId).snapshot(true);
                if (condition.test(s)) {
                    return s;
                }
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    throw new TimeoutException("task " + taskId + " did not reach the condition within " + timeout
                            + " (phase " + s.phase() + ", runner " + s.runnerId() + ")");
                }
                changed.awaitNanos(remaining);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Waits until the runners satisfy {@code condition}. */
    List<RunnerSnapshot> awaitRunners(Predicate<List<RunnerSnapshot>> condition, Duration timeout)
            throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (true) {
                List<RunnerSnapshot> s = runners();
                if (condition.test(s)) {
                    return s;
                }
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    throw new TimeoutException("runners did not reach the condition within " + timeout + ": " + s);
                }
                changed.awaitNanos(remaining);
            }
        } finally {
            lock.unlock();
        }
    }

    // ---------------------------------------------------------------- liveness

    /** Marks runners silent for longer than the heartbeat timeout offline and re-queues their tasks. */
    void expireSilentRunners() {
        lock.lock();
        try {
            if (paused || closed) {
                return;
            }
            Instant now = now();
            for (RunnerRecord r : runners.values()) {
                if (!r.offline() && r.lastSeen != null && r.lastSeen.plus(heartbeatTimeout).isBefore(now)) {
                    r.timeouts++;
                    markOffline(r, "no heartbeat for " + heartbeatTimeout.toMillis() + " ms", now);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private void markOffline(RunnerRecord r, String reason, Instant now) {
        r.status = "offline";
        List<String> held = new ArrayList<>(r.claimed);
        r.claimed.clear();
        log.info("runner {} is offline ({}); {} unfinished task(s) go back to the queue", r.id, reason, held.size());
        for (int i = held.size() - 1; i >= 0; i--) {
            TaskRecord t = tasks.get(held.get(i));
            if (t == null || t.terminal() || !r.id.equals(t.runnerId)) {
                continue;
            }
            if (t.cancelRequested) {
                t.endAttempt("cancelled", "runner offline before it confirmed the cancel", now);
                t.phase = "cancelled";
                t.finishedAt = now;
                t.record("cancelled", r.id, "runner offline before it confirmed the cancel", null, now);
                continue;
            }
            t.formerRunners.add(r.id);
            t.runnerId = null;
            t.phase = "pending";
            t.requeues++;
            t.endAttempt("requeued", reason, now);
            t.record("requeued", r.id, reason, null, now);
            queue.addFirst(t.id);
        }
        taskQueued.signalAll();
        changed.signalAll();
    }

    /** While paused (server "down"), no runner times out; on resume every runner gets a fresh timeout. */
    void setPaused(boolean pause) {
        lock.lock();
        try {
            paused = pause;
            if (!pause) {
                Instant now = now();
                runners.values().forEach(r -> r.lastSeen = now);
            }
            taskQueued.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void close() {
        lock.lock();
        try {
            closed = true;
            taskQueued.signalAll();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The current time, to the millisecond (enough for a dev server, and readable on the dashboard). */
    private Instant now() {
        return clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    }

    private RunnerRecord knownRunner(String runnerId) {
        RunnerRecord r = runnerId == null ? null : runners.get(runnerId);
        if (r == null) {
            throw ApiException.notFound("unknown runner " + runnerId + "; register first");
        }
        return r;
    }

    private TaskRecord knownTask(String taskId) {
        TaskRecord t = taskId == null ? null : tasks.get(taskId);
        if (t == null) {
            throw ApiException.notFound("unknown task " + taskId);
        }
        return t;
    }
}

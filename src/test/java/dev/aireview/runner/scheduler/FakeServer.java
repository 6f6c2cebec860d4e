package dev.aireview.runner.scheduler;

import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.server.ClaimedTask;
import dev.aireview.runner.server.Heartbeat;
import dev.aireview.runner.server.HeartbeatAnswer;
import dev.aireview.runner.server.LogLine;
import dev.aireview.runner.server.Registration;
import dev.aireview.runner.server.ServerClient;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An in-memory protocol server for scheduler tests: hands out queued tasks on poll (holding the poll up to
 * waitMs), records every call, and checks the claim invariant: a poll never asks for more tasks than the
 * runner has free slots (claimed tasks without a result count as busy).
 */
class FakeServer implements ServerClient {
    final int slots;
    final LinkedBlockingQueue<ClaimedTask> queue = new LinkedBlockingQueue<>();
    final Map<String, List<TaskResult>> results = new ConcurrentHashMap<>();
    final Map<String, List<LogLine>> logs = new ConcurrentHashMap<>();
    final Map<String, List<TaskPhase>> phases = new ConcurrentHashMap<>();
    final List<String> events = new CopyOnWriteArrayList<>();
    final List<Heartbeat> heartbeats = new CopyOnWriteArrayList<>();
    final List<Integer> pollSizes = new CopyOnWriteArrayList<>();
    final List<String> violations = new CopyOnWriteArrayList<>();
    final LinkedBlockingQueue<String> cancelOnNextHeartbeat = new LinkedBlockingQueue<>();
    final Map<String, Boolean> outstanding = new ConcurrentHashMap<>();
    volatile int registrations;
    /** A misbehaving server: hands out every queued task whatever maxTasks says. */
    volatile boolean overdeliver;

    FakeServer(int slots) {
        this.slots = slots;
    }

    void enqueue(ReviewTask task) {
        queue.add(ClaimedTask.parsed(task, Instant.now()));
    }

    static ReviewTask task(String id) {
        return task(id, null, null);
    }

    static ReviewTask task(String id, Integer timeoutSeconds, String cloneToken) {
        return new ReviewTask(id, "rev", new dev.aireview.runner.model.Repository("https://git.example/a/b.git", "a/b", cloneToken),
                "main", null, "0123456789abcdef0123456789abcdef01234567", List.of(), null, List.of(), null, timeoutSeconds);
    }

    int resultCount() {
        return results.values().stream().mapToInt(List::size).sum();
    }

    @Override
    public void health() throws dev.aireview.runner.server.ServerException {
        events.add("health");
    }

    @Override
    public String register(Registration registration) {
        registrations++;
        events.add("register");
        return registration.runnerId();
    }

    @Override
    public HeartbeatAnswer heartbeat(String runnerId, Heartbeat heartbeat) {
        heartbeats.add(heartbeat);
        List<String> cancel = new ArrayList<>();
        cancelOnNextHeartbeat.drainTo(cancel);
        return new HeartbeatAnswer(cancel);
    }

    @Override
    public List<ClaimedTask> poll(String runnerId, int maxTasks, Duration wait) throws InterruptedException {
        pollSizes.add(maxTasks);
        events.add("poll");
        int busy = outstanding.size();
        if (maxTasks < 1 || busy + maxTasks > slots) {
            violations.add("poll asked for " + maxTasks + " with " + busy + " of " + slots + " slots busy");
        }
        List<ClaimedTask> out = new ArrayList<>();
        ClaimedTask first = queue.poll(Math.min(wait.toMillis(), 200), TimeUnit.MILLISECONDS);
        if (first != null) {
            out.add(first);
            queue.drainTo(out, overdeliver ? Integer.MAX_VALUE : maxTasks - 1);
        }
        Instant now = Instant.now();
        List<ClaimedTask> claimed = new ArrayList<>();
        for (ClaimedTask t : out) {
            outstanding.put(t.id(), true);
            claimed.add(t.isBad() ? ClaimedTask.bad(t.id(), t.parseError(), now) : ClaimedTask.parsed(t.task(), now));
        }
        return claimed;
    }

    @Override
    public void status(String runnerId, String taskId, TaskPhase phase, String message) {
        phases.computeIfAbsent(taskId, k -> Collections.synchronizedList(new ArrayList<>())).add(phase);
        events.add("status:" + taskId);
    }

    @Override
    public void logs(String runnerId, String taskId, long offset, List<LogLine> lines) {
        List<LogLine> l = logs.computeIfAbsent(taskId, k -> Collections.synchronizedList(new ArrayList<>()));
        if (offset != l.size()) {
            violations.add("log offset " + offset + " for " + taskId + " but server has " + l.size());
        }
        l.addAll(lines);
        events.add("logs:" + taskId);
    }

    @Override
    public void result(String runnerId, String taskId, TaskResult result) throws dev.aireview.runner.server.ServerException {
        results.computeIfAbsent(taskId, k -> new CopyOnWriteArrayList<>()).add(result);
        events.add("result:" + taskId);
        outstanding.remove(taskId);
    }
}

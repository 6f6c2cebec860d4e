package dev.aireview.runner.scheduler;

import dev.aireview.runner.execution.CancelReason;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The tasks this runner is running, by id: what the heartbeat reports and what cancels reach. */
public final class ActiveTasks {
    private static final Logger log = LoggerFactory.getLogger(ActiveTasks.class);
    private final Map<String, TaskRun> runs = new ConcurrentHashMap<>();

    void add(TaskRun run) {
        runs.put(run.taskId(), run);
    }

    void remove(TaskRun run) {
        runs.remove(run.taskId(), run);
    }

    /** Fires the task's cancel signal; false when the task is not running here (or already cancelled). */
    public boolean cancel(String taskId, CancelReason reason) {
        TaskRun run = runs.get(taskId);
        if (run == null) {
            log.debug("cancel for task {} ignored: not running here", taskId);
            return false;
        }
        boolean first = run.cancel().cancel(reason);
        if (first) {
            log.info("task {} cancelled: {}", taskId, reason);
        }
        return first;
    }

    public void cancelAll(CancelReason reason) {
        for (String id : ids()) {
            cancel(id, reason);
        }
    }

    public List<String> ids() {
        List<String> ids = new ArrayList<>(runs.keySet());
        Collections.sort(ids);
        return ids;
    }

    public int size() {
        return runs.size();
    }
}

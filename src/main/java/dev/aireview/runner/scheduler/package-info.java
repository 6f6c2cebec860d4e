/**
 * The scheduler: claims tasks, runs each on the {@link dev.aireview.runner.execution.TaskExecutor}, reports, and
 * stops. Its life cycle is one {@link dev.aireview.runner.scheduler.RunnerState} (starting → running → draining →
 * cancelling → stopped) held by {@code Lifecycle}; the stop is the {@code ShutdownCoordinator}'s named steps.
 *
 * <h2>Thread model</h2>
 * Every thread is named and (but for the shutdown thread) a daemon thread; every thread factory here is a
 * {@link dev.aireview.runner.scheduler.NamedThreadFactory}, whose uncaught-exception handler logs the error and counts
 * it in {@code ai_review_runner_thread_deaths_total{thread=<prefix>}}. No thread is ever interrupted to abandon work
 * that still runs.
 * <table>
 *   <caption>threads</caption>
 *   <tr><th>thread</th><th>owns</th><th>ends</th><th>if it fails unexpectedly</th></tr>
 *   <tr><td>caller of {@code RunnerDaemon.start()} (cli: main)</td><td>executor start, health check, register</td>
 *       <td>returns once running (or stopped); a stop while starting makes it run the shutdown steps itself</td>
 *       <td>start-up fails: {@code StartupException}, state stopped</td></tr>
 *   <tr><td>{@code heartbeat-1} (single scheduled executor)</td><td>the periodic heartbeat and its
 *       {@code cancelTaskIds}; re-register on 404</td><td>{@code go offline} step: {@code shutdownNow}, then one
 *       {@code offline} beat from the step's thread</td><td>a beat never lets a throwable escape (a periodic task
 *       that throws is silently descheduled): logged, counted ({@code thread="heartbeat"}), next tick beats again;
 *       a heartbeat that stops succeeding turns {@code /health} red after 3 intervals</td></tr>
 *   <tr><td>{@code poll-loop}</td><td>the slot permits it took, the one poll in flight, taking the answer's tasks
 *       over ({@code ActiveTasks.admit}), waiting for slots for tasks beyond the requested number</td>
 *       <td>{@code stop claiming} step: stops after the poll in flight (never interrupted) and the hand-over of its
 *       tasks</td><td>an error in a pass is logged, counted ({@code thread="poll-loop"}), unused permits are
 *       released and the loop resumes after a backoff; a task whose dispatch failed runs on the loop's own thread;
 *       should the thread still be gone while running, {@code /health} is red</td></tr>
 *   <tr><td>{@code leftover-reports-1}</td><td>the {@code runner_shutdown} reports of tasks an earlier process
 *       left (the executor's leftovers and the claim journal's entries, once each), before the first poll</td><td>after the reports, it starts the poll loop</td>
 *       <td>counted ({@code thread="leftover-reports"})</td></tr>
 *   <tr><td>{@code task-worker-N} (fixed pool, {@code RUNNER_MAX_CONCURRENT_JOBS})</td><td>one task's
 *       {@code TaskSupervisor.run}: deadline, cancel, kill escalation, log flush, the result delivery; its slot
 *       permit until the result is sent and the executor has returned</td><td>shut down after the
 *       {@code close executor} step</td><td>caught around the supervisor: logged, counted
 *       ({@code thread="task-worker"}), the task leaves the active set and its permit is released</td></tr>
 *   <tr><td>{@code task-unslotted-N}, {@code task-late-N}</td><td>reporting a task cancelled before it got a slot,
 *       or one a stopped worker pool refused</td><td>after its result</td><td>as a worker</td></tr>
 *   <tr><td>{@code task-exec-<taskId>}</td><td>the executor's {@code execute} for one task (its containers)</td>
 *       <td>when {@code execute} returns, never earlier: a stuck one keeps its task's slot</td><td>the supervisor
 *       turns the throwable into {@code failed/executor_failed}</td></tr>
 *   <tr><td>{@code task-kill-<taskId>}</td><td>the {@code CancelSignal.kill} escalation (e.g. {@code docker kill}),
 *       away from the possibly stuck executor thread</td><td>after the kill listeners</td><td>logged, counted</td></tr>
 *   <tr><td>{@code task-report-<taskId>-1}</td><td>one task's status and log batches ({@code TaskReporter})</td>
 *       <td>the final flush before the result (bounded by the log flush timeout)</td><td>logged, counted</td></tr>
 *   <tr><td>{@code no-follow-reader} ({@code NoFollowFiles.within}, daemon)</td><td>reading the claim journal
 *       at start-up (and a workspace's result.json or task.json), so a FIFO or a slow disk cannot block the caller</td><td>after the read; the caller stops waiting
 *       after 10 s and uses what was read</td><td>the caller logs it and uses what was read</td></tr>
 *   <tr><td>{@code runner-shutdown} (not a daemon: keeps the JVM up while stopping)</td><td>the
 *       {@code ShutdownCoordinator} sequence</td><td>state stopped</td><td>each step is caught and reported
 *       {@code failed}; the next step runs</td></tr>
 *   <tr><td>{@code shutdown-<step>}</td><td>one shutdown step</td><td>when done, or abandoned (interrupted, left
 *       as a daemon) at its deadline</td><td>logged; the step is reported {@code failed}</td></tr>
 * </table>
 *
 * <h2>Slots and identity</h2>
 * A slot is a {@code SlotPermit}, released exactly once (idempotent), when its task has its result and its
 * executor has returned. A task id is taken over once per process: {@code ActiveTasks.admit} refuses an id that is
 * active or among the last 10 000 finished (logged; the first claim gives the one result). Tasks a server sends
 * beyond the requested number are taken over too (heartbeat {@code runningTaskIds}, cancellable) and wait for a slot
 * in order; cancelled while waiting, they are reported without running.
 *
 * <h2>Claim journal</h2>
 * Every admitted id is recorded in the executor's {@code ClaimJournal} (durably, for the Docker executor) before the
 * task is handed on, and removed by {@code ResultSender} once its result call has ended for good (delivered, or
 * refused by the server: 404/409/410/400-class); an abandoned delivery keeps it. At start-up, before the first
 * poll, every id still listed is reported {@code failed/runner_shutdown} with the executor's leftovers, once each:
 * a process killed anywhere between the claim and the delivered result leaves no task stuck on the server.
 */
package dev.aireview.runner.scheduler;

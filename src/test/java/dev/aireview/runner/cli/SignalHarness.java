package dev.aireview.runner.cli;

import dev.aireview.runner.execution.TaskContext;
import dev.aireview.runner.execution.TaskExecutor;
import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.LogStream;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.model.TaskStats;
import picocli.CommandLine;

import java.time.Duration;
import java.util.List;

/**
 * {@code ai-review-runner run} with a stand-in executor instead of Docker, for {@link SignalIT}: tasks
 * {@code slow-*} finish on their own after 3 s unless cancelled, {@code hang-*} end only when cancelled.
 */
public final class SignalHarness {
    public static void main(String[] args) {
        RunCommand cmd = new RunCommand();
        cmd.executorFactory = c -> new TaskExecutor() {
            @Override
            public TaskResult execute(ReviewTask task, TaskContext ctx) throws Exception {
                ctx.phase(dev.aireview.runner.model.TaskPhase.PREPARING, "started");
                ctx.log(LogStream.STDOUT, "started " + task.id());
                Duration wait = task.id().startsWith("slow-") ? Duration.ofMillis(3000) : Duration.ofHours(1);
                if (ctx.cancel().await(wait)) {
                    return TaskResult.failure(ErrorKind.CANCELLED, "stopped: " + ctx.cancel().reason());
                }
                return TaskResult.completed("done " + task.id(), List.of(), TaskStats.EMPTY);
            }

            @Override
            public void close() {
                System.out.println("EXECUTOR CLOSED");
            }
        };
        int code = new CommandLine(cmd).execute(args); // the run command itself: no subcommand name
        System.out.println("EXIT " + code);
        System.exit(code);
    }
}

package dev.aireview.runner.cli;

import dev.aireview.runner.config.RunnerConfig;
import dev.aireview.runner.docker.DockerTaskExecutor;
import dev.aireview.runner.execution.TaskExecutor;

/** Builds the task executor the {@code run} command uses. */
public final class Executors {
    private Executors() {
    }

    public static TaskExecutor create(RunnerConfig config) {
        return new DockerTaskExecutor(config.docker()).withSlots(config.maxConcurrentJobs());
    }
}

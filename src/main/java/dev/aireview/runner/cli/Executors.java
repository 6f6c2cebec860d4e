package dev.aireview.runner.cli;

import dev.aireview.runner.config.ExecutorKind;
import dev.aireview.runner.config.RunnerConfig;
import dev.aireview.runner.docker.DockerTaskExecutor;
import dev.aireview.runner.execution.TaskExecutor;
import dev.aireview.runner.kubernetes.KubernetesTaskExecutor;

/** Builds the task executor the {@code run} command uses. */
public final class Executors {
    private Executors() {
    }

    public static TaskExecutor create(RunnerConfig config) {
        if (config.executor() == ExecutorKind.KUBERNETES) {
            return new KubernetesTaskExecutor(config.docker(), config.kubernetes());
        }
        return new DockerTaskExecutor(config.docker()).withSlots(config.maxConcurrentJobs());
    }
}

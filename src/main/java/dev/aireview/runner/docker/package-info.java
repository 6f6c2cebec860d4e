/**
 * The Docker executor: {@link dev.aireview.runner.docker.DockerTaskExecutor} implements
 * {@link dev.aireview.runner.execution.TaskExecutor} with docker-java (httpclient5 transport). One path per task:
 * prepare the source (trusted: SourcePreparer, the runner's git with the task's token) → review (untrusted: ReviewRun,
 * executor-image containers that never see a secret) → judge → report → clean.
 *
 * <ul>
 *   <li>{@link dev.aireview.runner.docker.DockerConnection}: client from DOCKER_HOST, API version negotiated.</li>
 *   <li>{@link dev.aireview.runner.docker.ContainerSpecs} and {@link dev.aireview.runner.docker.Labels}: limits,
 *       hardening and labels of every container.</li>
 *   <li>{@link dev.aireview.runner.docker.Workspaces}: per-task directories (0700, owned by the container user),
 *       task.json in, result.json out; every path below a workspace is treated as hostile.</li>
 *   <li>DiskWatch (DOCKER_WORKSPACE_LIMIT → disk_limit), {@link dev.aireview.runner.docker.DiskPressureGuard}
 *       (DOCKER_MIN_FREE_DISK: the executor's claim gate), RuntimeCheck (DOCKER_RUNTIME at start-up).</li>
 *   <li>{@link dev.aireview.runner.docker.GitClone}: input validation, the credential helper, and the fixed clone
 *       script (the Kubernetes executor's init container; the Docker executor's fetch is the repository cache's).</li>
 *   <li>ContainerGit: the trusted fetch's helper containers of RUNNER_GIT_IMAGE (never the executor image).</li>
 *   <li>{@link dev.aireview.runner.docker.LogPump}: bounded, line-splitting follower of container output.</li>
 *   <li>ContainerRunner (wait, deadline, cancel), ContainerPool (pre-warmed containers), OrphanReaper (start-up
 *       clean-up), ImageCheck (pull policy): package-private helpers.</li>
 * </ul>
 * See docs/docker-executor.md and docs/executor-contract.md. This package never calls the server client.
 */
package dev.aireview.runner.docker;

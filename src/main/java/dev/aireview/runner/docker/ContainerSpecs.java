package dev.aireview.runner.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.LogConfig;
import com.github.dockerjava.api.model.Volume;
import dev.aireview.runner.config.DockerConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Builds every container this executor creates: the same limits, hardening and labels for checkout, review,
 * pooled and cleanup containers (docs/executor-contract.md "Limits and hardening").
 */
public final class ContainerSpecs {
    public static final String WORKSPACE = "/workspace";
    /** Size cap of the tmpfs at /tmp (it counts against the memory limit as it fills). */
    static final String TMPFS_OPTIONS = "rw,nosuid,nodev,size=256m";
    /**
     * Extra host entry of every container on a Docker network (bridge or a user-defined one): the name
     * {@code host.docker.internal} resolves to the Docker host, as it does for a compose runner
     * ({@code extra_hosts}) and on Docker Desktop. A server or git host on the runner's machine is then reachable
     * under the same URL from the runner and from its clone/review containers. It adds no reach: a bridge
     * container can already connect to the host's gateway address. Needs Docker 20.10+ (API 1.41).
     */
    public static final String HOST_GATEWAY_ENTRY = "host.docker.internal:host-gateway";

    private final DockerConfig config;
    /**
     * Per network, the address {@code host.docker.internal} gets instead of {@code host-gateway} (engines that write
     * {@code host-gateway} literally into /etc/hosts: Podman 4.3); empty for an engine that resolves it (Docker).
     */
    private volatile Map<String, String> gatewayAddresses = Map.of();

    public ContainerSpecs(DockerConfig config) {
        this.config = config;
    }

    /**
     * For engines that do not resolve {@code host-gateway} (Podman before 5.3 writes it literally into /etc/hosts):
     * {@code host.docker.internal} then gets each network's own gateway address, as {@code gatewayOf} (a network
     * inspect) tells. A network without one gets no entry (its containers still have Podman's
     * {@code host.containers.internal}). The networks' names and addresses, for the log.
     */
    public Map<String, String> useGatewayAddresses(java.util.function.Function<String, String> gatewayOf) {
        Map<String, String> found = new java.util.TreeMap<>();
        for (String network : new String[]{config.networkMode(), config.cloneNetworkMode()}) {
            String name = network == null || network.isBlank() ? "bridge" : network.trim();
            if (hasOwnNetwork(name) && !found.containsKey(name)) {
                String gateway = gatewayOf.apply(name);
                found.put(name, gateway == null || gateway.isBlank() ? "" : gateway.trim());
            }
        }
        gatewayAddresses = Map.copyOf(found);
        return gatewayAddresses;
    }

    /** The extra host entry for a container on {@code networkMode} (which has its own network), or null for none. */
    String hostGatewayEntry(String networkMode) {
        if (gatewayAddresses.isEmpty()) {
            return HOST_GATEWAY_ENTRY;
        }
        String gateway = gatewayAddresses.get(networkMode == null || networkMode.isBlank() ? "bridge" : networkMode.trim());
        return gateway == null || gateway.isEmpty() ? null : "host.docker.internal:" + gateway;
    }

    /** Limits and hardening of a review container, with {@code workspace} bind-mounted read-write at /workspace. */
    public HostConfig hostConfig(Path workspace) {
        return hostConfig(workspace, config.networkMode());
    }

    /** Limits and hardening, with {@code workspace} bind-mounted read-write at /workspace, on {@code networkMode}. */
    public HostConfig hostConfig(Path workspace, String networkMode) {
        HostConfig host = HostConfig.newHostConfig()
                .withBinds(new Bind(workspace.toAbsolutePath().toString(), new Volume(WORKSPACE), AccessMode.rw))
                .withCapDrop(Capability.ALL)
                .withSecurityOpts(List.of("no-new-privileges"))
                .withReadonlyRootfs(true)
                .withTmpFs(Map.of("/tmp", TMPFS_OPTIONS))
                .withInit(true)
                .withLogConfig(new LogConfig(LogConfig.LoggingType.JSON_FILE, Map.of("max-size", "1m", "max-file", "2"))); // the engine's log of a container stays small: the runner follows the output itself
        if (config.memoryBytes() > 0) {
            host.withMemory(config.memoryBytes()).withMemorySwap(config.memoryBytes());
        }
        if (config.cpus() > 0) {
            host.withNanoCPUs(Math.round(config.cpus() * 1_000_000_000L));
        }
        if (networkMode != null && !networkMode.isBlank()) {
            host.withNetworkMode(networkMode);
        }
        String gatewayEntry = hasOwnNetwork(networkMode) ? hostGatewayEntry(networkMode) : null;
        if (gatewayEntry != null) {
            host.withExtraHosts(gatewayEntry);
        }
        if (config.pidsLimit() > 0) {
            host.withPidsLimit(config.pidsLimit());
        }
        return host;
    }

    /**
     * True for bridge (also the default when unset) and user-defined networks: the container gets its own
     * network namespace and /etc/hosts. False for {@code host}, {@code none} and {@code container:<id>}.
     */
    static boolean hasOwnNetwork(String networkMode) {
        if (networkMode == null || networkMode.isBlank()) {
            return true;
        }
        String m = networkMode.trim();
        return !m.equals("host") && !m.equals("none") && !m.startsWith("container:");
    }

    /** Environment of the review container (contract "Environment of the review container"). */
    public static List<String> reviewEnv() {
        return List.of("AI_REVIEW_WORKSPACE=" + WORKSPACE,
                "AI_REVIEW_TASK_FILE=" + WORKSPACE + "/task.json",
                "AI_REVIEW_REPO_DIR=" + WORKSPACE + "/repo",
                "AI_REVIEW_RESULT_FILE=" + WORKSPACE + "/result.json",
                "HOME=/tmp");
    }

    /**
     * A review container running the image's own entrypoint; {@code taskId} is {@link Labels#POOL_TASK} for a pooled
     * one. It alone runs under DOCKER_RUNTIME (e.g. gVisor), on DOCKER_NETWORK_MODE.
     */
    public CreateContainerCmd review(DockerClient docker, Path workspace, String taskId) {
        CreateContainerCmd cmd = base(docker, workspace, taskId, "review", config.networkMode()).withEnv(reviewEnv());
        if (config.runtime() != null) {
            cmd.getHostConfig().withRuntime(config.runtime());
        }
        return cmd;
    }

    /**
     * True when a review container sees what is written into its workspace from outside after it started (the
     * checkout container's files): the host's runc and crun share the bind mount's page cache. A sandboxing runtime (gVisor's
     * runsc, Kata, ...) may serve the mount through its own cache and show the repository in part, so its review
     * container is started only after the checkout has finished, and is never pre-warmed.
     */
    public boolean reviewSeesOutsideWrites() {
        String runtime = config.runtime();
        return runtime == null || runtime.isBlank() || java.util.Set.of("runc", "crun", "io.containerd.runc.v2").contains(runtime);
    }

    /**
     * The checkout container: {@link dev.aireview.runner.source.CachedCheckout#SCRIPT} in the executor image, under the
     * engine's default runtime, on network {@code none}, with the task's cache entry {@code entry} read-only at
     * {@link dev.aireview.runner.source.CachedCheckout#MOUNT}. It gets no secret: the runner's trusted fetch is done.
     */
    public CreateContainerCmd checkout(DockerClient docker, Path workspace, String taskId, List<String> env, Bind entry) {
        CreateContainerCmd cmd = script(docker, workspace, taskId, "checkout", dev.aireview.runner.source.CachedCheckout.SCRIPT,
                env, "none");
        List<Bind> binds = new ArrayList<>(List.of(cmd.getHostConfig().getBinds()));
        binds.add(entry);
        cmd.getHostConfig().withBinds(binds);
        return cmd;
    }

    /** A short container running {@code sh -c script} with the given environment (values never go into argv). */
    public CreateContainerCmd script(DockerClient docker, Path workspace, String taskId, String role, String script, List<String> env) {
        return script(docker, workspace, taskId, role, script, env, config.networkMode());
    }

    private CreateContainerCmd script(DockerClient docker, Path workspace, String taskId, String role, String script,
                                      List<String> env, String networkMode) {
        List<String> fullEnv = new ArrayList<>(env);
        fullEnv.add("HOME=/tmp");
        return base(docker, workspace, taskId, role, networkMode)
                .withEntrypoint("sh", "-c", script)
                .withCmd(List.of())
                .withWorkingDir(WORKSPACE)
                .withEnv(fullEnv);
    }

    private CreateContainerCmd base(DockerClient docker, Path workspace, String taskId, String role, String networkMode) {
        return docker.createContainerCmd(config.executorImage())
                .withUser(config.user())
                .withLabels(Labels.of(config.runnerName(), taskId, role))
                .withAttachStdin(false)
                .withAttachStdout(false)
                .withAttachStderr(false)
                .withTty(false)
                .withHostConfig(hostConfig(workspace, networkMode));
    }
}

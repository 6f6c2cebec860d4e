package dev.aireview.runner.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.LogConfig;
import com.github.dockerjava.api.model.Volume;
import dev.aireview.runner.config.DockerConfig;
import dev.aireview.runner.execution.CancelSignal;
import dev.aireview.runner.source.GitRunner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The repository cache's git run in a short-lived helper container of a trusted git image (RUNNER_GIT_IMAGE, never the
 * executor image) instead of on the runner's host: for a runner without git of its own (the runner image) and so that
 * the fetch runs on the clone network (DOCKER_CLONE_NETWORK_MODE, else DOCKER_NETWORK_MODE), as the clone containers'
 * does, not in the runner container's own network namespace.
 *
 * <p>Each run is one container: the same hardened git command line as on the host ({@link GitRunner#hardening}), only
 * the cache entry directory bind-mounted read-write at the same path (the working directory), run as the owner of that
 * directory (the runner's user: the entry's files stay the runner's), read-only root file system with a small
 * {@code /tmp} as HOME, no capabilities, no-new-privileges, the memory, CPU and process limits of the other containers,
 * network {@code none} for a local command. The extra environment (the credential helper's token, the remote URL) is
 * written to the container's stdin and exported by the entrypoint for git alone: it is in no argv, in no container
 * configuration ({@code docker inspect}) and in no file. The container is labelled like the runner's others (role
 * {@value #ROLE}), so the OrphanReaper removes one a killed runner left; it is killed at the deadline, stopped at a
 * cancel, and always removed (after the result is returned: {@link #removeLater}).
 */
public final class ContainerGit implements GitRunner {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerGit.class);
    /** The role label of the helper containers. */
    public static final String ROLE = "git";
    /** The task label of the helper containers (they serve the cache, not one task). */
    public static final String TASK_LABEL = "repo-cache";
    private static final Pattern KEY = Pattern.compile("[A-Z_][A-Z0-9_]*");
    /**
     * Reads {@code KEY=value} lines from stdin up to an empty line and exports them, then reads git's input lines up to
     * a second empty line, then runs git with the arguments and that input (its standard input ends there: an attached
     * stdin is not closed when the runner's side of it ends). With {@code GIT_THEN_MARK} set ({@link #runThenBatchCheck}),
     * git runs the arguments without input and, when that succeeded, prints the mark and runs {@code GIT_THEN} (the
     * hardened {@code cat-file --batch-check}: plain words, no globbing) with the input. One stream (stderr joins
     * stdout), so the mark splits the two outputs in order.
     */
    static final String SCRIPT = "exec 2>&1; set -f; while IFS= read -r l && [ -n \"$l\" ]; do export \"$l\"; done; "
            + "i=; while IFS= read -r l && [ -n \"$l\" ]; do i=\"$i$l\n\"; done; "
            + "if [ -z \"${GIT_THEN_MARK:-}\" ]; then printf '%s' \"$i\" | git \"$@\"; exit; fi; "
            + "git \"$@\" </dev/null || exit; echo \"$GIT_THEN_MARK\"; printf '%s' \"$i\" | git $GIT_THEN";
    private static final String TMPFS = "rw,nosuid,nodev,noexec,size=64m";

    private final DockerClient docker;
    private final ContainerRunner runner;
    private final ContainerSpecs specs;
    private final DockerConfig config;

    ContainerGit(DockerClient docker, ContainerRunner runner, ContainerSpecs specs, DockerConfig config) {
        this.docker = docker;
        this.runner = runner;
        this.specs = specs;
        this.config = config;
    }

    /**
     * The helper-container git of {@code config}'s RUNNER_GIT_IMAGE, or null (one line logged: the cache is off) when the
     * image is not on the engine. It is never pulled.
     */
    static ContainerGit open(DockerClient docker, ContainerRunner runner, ContainerSpecs specs, DockerConfig config) {
        String image = config.gitImage();
        try {
            docker.inspectImageCmd(image).exec();
        } catch (NotFoundException e) {
            LOG.warn("the trusted git image {} (RUNNER_GIT_IMAGE) is not on the engine and is never pulled (build it: "
                    + "docker build -t {} docker/git)", image, image);
            return null;
        } catch (RuntimeException e) {
            LOG.warn("the trusted git image {} (RUNNER_GIT_IMAGE) cannot be inspected: {}", image, e.getMessage());
            return null;
        }
        return new ContainerGit(docker, runner, specs, config);
    }

    @Override
    public String describe() {
        return "helper containers of " + config.gitImage() + " on network " + network("https");
    }

    /** The network of a run: none for a local command, else the clone network. */
    String network(String protocol) {
        if (protocol == null) {
            return "none";
        }
        String mode = config.cloneNetworkMode();
        return mode == null || mode.isBlank() ? "bridge" : mode.trim();
    }

    /** The fetch and the lookup in one helper container (see {@link #SCRIPT}): a container run less per task. */
    @Override
    public Both runThenBatchCheck(Path dir, String protocol, List<String> args, Map<String, String> env, byte[] input,
                                  Instant deadline, CancelSignal cancel) {
        String mark = "ai-review-then-" + java.util.UUID.randomUUID();
        Map<String, String> withThen = new java.util.LinkedHashMap<>(env);
        withThen.put("GIT_THEN", String.join(" ", afterGit(null, GitRunner.BATCH_CHECK)));
        withThen.put("GIT_THEN_MARK", mark);
        Result r = run(dir, protocol, args, withThen, input, deadline, cancel);
        List<String> lines = r.output().lines().toList();
        int at = lines.indexOf(mark);
        if (at < 0) {
            return new Both(r, null); // the first command did not succeed: the mark was never printed
        }
        String before = String.join("\n", lines.subList(0, at)).strip();
        String after = String.join("\n", lines.subList(at + 1, lines.size())).strip();
        return new Both(new Result(0, before, false, false), new Result(r.exit(), after, r.timedOut(), r.cancelled()));
    }

    /** The hardened git command line of {@code args} without its leading {@code git}: the entrypoint runs git. */
    private static List<String> afterGit(String protocol, List<String> args) {
        List<String> cmd = new ArrayList<>(GitRunner.hardening(protocol));
        cmd.remove(0);
        cmd.addAll(args);
        return cmd;
    }

    @Override
    public Result run(Path dir, String protocol, List<String> args, Map<String, String> env, byte[] stdin, Instant deadline,
                      CancelSignal cancel) {
        if (cancel.isCancelled()) {
            return new Result(-1, "", false, true);
        }
        StringBuilder input = new StringBuilder();
        for (Map.Entry<String, String> e : env.entrySet()) {
            String v = e.getValue() == null ? "" : e.getValue();
            if (!KEY.matcher(e.getKey()).matches() || v.indexOf('\n') >= 0 || v.indexOf('\r') >= 0 || v.indexOf('\0') >= 0) {
                return new Result(-1, "cannot pass " + e.getKey() + " to the git container (a line break in it)", false, false);
            }
            input.append(e.getKey()).append('=').append(v).append('\n');
        }
        input.append('\n');
        if (stdin != null) {
            // git's own input: lines up to an empty line (so none of them may be empty)
            String lines = new String(stdin, StandardCharsets.UTF_8);
            if (lines.contains("\n\n") || lines.startsWith("\n") || lines.indexOf('\r') >= 0 || lines.indexOf('\0') >= 0) {
                return new Result(-1, "cannot pass an empty line, a carriage return or a NUL to git in the git container", false, false);
            }
            input.append(lines).append(lines.endsWith("\n") ? "" : "\n");
        }
        input.append('\n');
        String owner;
        try {
            owner = Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS) + ":"
                    + Files.getAttribute(dir, "unix:gid", LinkOption.NOFOLLOW_LINKS);
        } catch (IOException | UnsupportedOperationException e) {
            return new Result(-1, "cannot read the owner of " + dir + ": " + e, false, false);
        }
        List<String> cmd = afterGit(protocol, args);
        String path = dir.toAbsolutePath().toString();
        List<String> fixedEnv = new ArrayList<>(List.of("PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp", "XDG_CONFIG_HOME=/tmp"));
        GitRunner.baseEnv(protocol).forEach((k, v) -> fixedEnv.add(k + "=" + v));
        String network = network(protocol);
        HostConfig host = HostConfig.newHostConfig()
                .withBinds(new Bind(path, new Volume(path), AccessMode.rw))
                .withCapDrop(Capability.ALL)
                .withSecurityOpts(List.of("no-new-privileges"))
                .withReadonlyRootfs(true)
                .withTmpFs(Map.of("/tmp", TMPFS))
                .withInit(true)
                .withNetworkMode(network)
                .withLogConfig(new LogConfig(LogConfig.LoggingType.JSON_FILE, Map.of("max-size", "1m", "max-file", "2")));
        if (config.memoryBytes() > 0) {
            host.withMemory(config.memoryBytes()).withMemorySwap(config.memoryBytes());
        }
        if (config.cpus() > 0) {
            host.withNanoCPUs(Math.round(config.cpus() * 1_000_000_000L));
        }
        host.withPidsLimit(config.pidsLimit() > 0 ? Math.min(config.pidsLimit(), 256) : 256);
        if (ContainerSpecs.hasOwnNetwork(network)) {
            String gateway = specs.hostGatewayEntry(network);
            if (gateway != null) {
                host.withExtraHosts(gateway);
            }
        }
        CreateContainerCmd create = docker.createContainerCmd(config.gitImage())
                .withUser(owner)
                .withLabels(Labels.of(config.runnerName(), TASK_LABEL, ROLE))
                .withEntrypoint("sh", "-c", SCRIPT, "git")
                .withCmd(cmd)
                .withWorkingDir(path)
                .withEnv(fixedEnv)
                .withAttachStdin(true).withStdinOpen(true).withStdInOnce(true)
                .withAttachStdout(true).withAttachStderr(true)
                .withTty(false)
                .withHostConfig(host);
        String id;
        try {
            id = create.exec().getId();
        } catch (NotFoundException e) {
            return new Result(-1, "the repository cache's git image " + config.gitImage() + " is missing (RUNNER_GIT_IMAGE)", false, false);
        } catch (RuntimeException e) {
            return new Result(-1, "cannot create the git container: " + e.getMessage(), false, false);
        }
        StringBuilder out = new StringBuilder();
        LogPump pump = new LogPump((stream, line) -> {
            synchronized (out) {
                out.append(line).append('\n');
                if (out.length() > 2 * OUTPUT_LIMIT) {
                    out.delete(0, out.length() - OUTPUT_LIMIT);
                }
            }
        });
        try {
            ContainerRunner.Outcome o = runner.run(id, false, pump, deadline, cancel, input.toString().getBytes(StandardCharsets.UTF_8));
            String text;
            synchronized (out) {
                text = out.length() > OUTPUT_LIMIT ? out.substring(out.length() - OUTPUT_LIMIT) : out.toString();
            }
            text = text.strip();
            return switch (o.end()) {
                case TIMED_OUT -> new Result(-1, text, true, false);
                case CANCELLED -> new Result(-1, text, false, true);
                case LOST -> new Result(-1, text + "\n" + o.lost(), false, false);
                default -> new Result(o.exitCode() == null ? -1 : o.exitCode(),
                        o.oomKilled() ? text + "\ngit was killed at the memory limit (DOCKER_MEMORY_LIMIT)" : text, false, false);
            };
        } catch (RuntimeException e) {
            runner.kill(id);
            return new Result(-1, "the git container failed: " + e.getMessage(), false, false);
        } finally {
            removeLater(id);
        }
    }

    /**
     * Removes the exited (or killed) helper container after {@link #run} has returned, off the task's path: a failing
     * fetch frees its slot without waiting for the engine's removal (issue 18 item 6, BENCHMARKS.md "Pickup"). One
     * thread at most, started when there is a container to remove and ended 5 s after the last; with the queue full,
     * the caller removes it itself. A container still there at a runner's exit is removed by the OrphanReaper at the
     * next start (the role label).
     */
    private void removeLater(String id) {
        Runnable remove = () -> {
            try {
                if (!runner.remove(id)) {
                    LOG.warn("could not remove the repository cache's git container {}; the reaper removes it at the next start",
                            ContainerRunner.shortId(id));
                }
            } finally {
                synchronized (PENDING) {
                    PENDING[0]--;
                    PENDING.notifyAll();
                }
            }
        };
        synchronized (PENDING) {
            PENDING[0]++;
        }
        try {
            REMOVER.execute(remove);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            remove.run();
        }
    }

    /**
     * Waits, at most {@code max}, for the removals {@link #removeLater} has queued: a runner that stops (the Docker
     * executor's close) leaves no helper container behind for the next start to reap.
     */
    public static void awaitRemovals(java.time.Duration max) {
        long end = System.nanoTime() + max.toNanos();
        synchronized (PENDING) {
            while (PENDING[0] > 0) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    LOG.warn("{} git container removal(s) still running at the runner's stop; the reaper removes what is left at the next start",
                            PENDING[0]);
                    return;
                }
                try {
                    java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(PENDING, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** Removals queued or running (guarded by itself). */
    private static final int[] PENDING = {0};

    private static final java.util.concurrent.ThreadPoolExecutor REMOVER = new java.util.concurrent.ThreadPoolExecutor(
            0, 1, 5, java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.ArrayBlockingQueue<>(64), r -> {
                Thread t = new Thread(r, "git-container-remover");
                t.setDaemon(true);
                return t;
            });
}

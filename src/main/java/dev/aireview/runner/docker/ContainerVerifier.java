package dev.aireview.runner.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.command.CreateContainerResponse;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.LogConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * Creates containers and reads each one back: an engine may accept a setting and not apply it (Podman's Docker API
 * ignores {@code HostConfig.Runtime}; rootless Podman on cgroup v1 drops every limit with no warning). After every
 * create the container is inspected and what matters for isolation is compared with what was asked: runtime, memory
 * and swap, CPUs, pids, read-only root, capabilities, user, no-new-privileges, log driver, init. A mismatch removes
 * the container and throws {@link EngineMismatchException} naming the engine, the setting and the fix; at start-up
 * {@link #probe} does this once with an unstarted review container, so a runner on such an engine refuses to start.
 * The engine's create warnings are logged.
 */
final class ContainerVerifier {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerVerifier.class);
    /**
     * Docker's default capability set (also Podman's): an engine that reports these dropped one by one instead of
     * {@code ALL} (Podman) leaves the container none.
     */
    static final Set<String> DEFAULT_CAPABILITIES = Set.of("AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID",
            "KILL", "MKNOD", "NET_BIND_SERVICE", "NET_RAW", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT");
    private static final String LIMITS_FIX = "the engine cannot enforce cgroup limits here (rootless Podman needs cgroup v2 "
            + "with the memory, cpu and pids controllers delegated to the user): run the engine rootful or on cgroup v2";
    private static final String HARDENING_FIX = "use an engine that applies it (Docker 20.10+, Podman 4.3+; docs/operations.md \"Engines\")";

    /** One setting the engine did not apply as asked. */
    record Mismatch(String setting, String asked, String applied, String fix) {
        @Override
        public String toString() {
            return setting + ": asked " + asked + ", the container got " + applied + " (fix: " + fix + ")";
        }
    }

    /** A created container whose settings are not what the runner asked for. */
    static final class EngineMismatchException extends DockerExecutorException {
        EngineMismatchException(String message) {
            super(message);
        }
    }

    private final DockerClient docker;
    private final String engine;
    private final ContainerRunner runner;

    /** @param engine the engine as named in messages, e.g. "Podman 4.3.1" */
    ContainerVerifier(DockerClient docker, String engine, ContainerRunner runner) {
        this.docker = docker;
        this.engine = engine;
        this.runner = runner;
    }

    /**
     * Creates the container, logs the engine's warnings, reads the container back and compares; the container's id.
     * On a mismatch (or a failed inspect) the container is removed and the exception thrown.
     */
    String create(CreateContainerCmd cmd) {
        CreateContainerResponse created;
        try {
            created = cmd.exec();
        } catch (RuntimeException e) {
            throw EngineHints.explain(e, engine);
        }
        String id = created.getId();
        if (created.getWarnings() != null) {
            for (String warning : created.getWarnings()) {
                if (warning != null && !warning.isBlank()) {
                    LOG.warn("{} warned when creating container {}: {}", engine, ContainerRunner.shortId(id), warning.strip());
                }
            }
        }
        try {
            InspectContainerResponse actual = docker.inspectContainerCmd(id).exec();
            List<Mismatch> mismatches = compare(cmd.getHostConfig(), cmd.getUser(), actual);
            if (!mismatches.isEmpty()) {
                throw new EngineMismatchException(describe(engine, mismatches));
            }
            return id;
        } catch (RuntimeException e) {
            runner.remove(id);
            throw e;
        }
    }

    /**
     * The start-up probe: an unstarted review container exactly as a task gets it (runtime included) is created,
     * read back and removed. Throws {@link EngineMismatchException} when the engine did not apply a setting.
     */
    void probe(ContainerSpecs specs, Workspaces workspaces) {
        Path dir;
        try {
            dir = workspaces.create("engine-probe-" + UUID.randomUUID().toString().substring(0, 8));
        } catch (IOException e) {
            throw new DockerExecutorException("cannot create a directory under " + workspaces.runnerDir()
                    + " (DOCKER_WORKSPACE_BASE): " + e.getMessage(), e);
        }
        String id = null;
        try {
            id = create(specs.review(docker, dir, Labels.POOL_TASK));
            LOG.debug("{} applied every isolation setting of the probe container", engine);
        } finally {
            if (id != null) {
                runner.remove(id);
            }
            if (!workspaces.delete(dir)) {
                LOG.warn("could not delete {}; the reaper removes it at the next start", dir);
            }
        }
    }

    static String describe(String engine, List<Mismatch> mismatches) {
        return "the " + engine + " engine at DOCKER_HOST did not apply what the runner asked for, so the container would not be "
                + "isolated as configured: " + mismatches.stream().map(Mismatch::toString).collect(Collectors.joining("; "));
    }

    /** What {@code actual} (an inspect) lacks of {@code asked} and {@code user}; empty when everything was applied. */
    static List<Mismatch> compare(HostConfig asked, String user, InspectContainerResponse actual) {
        List<Mismatch> out = new ArrayList<>();
        HostConfig got = actual.getHostConfig() == null ? HostConfig.newHostConfig() : actual.getHostConfig();
        if (asked.getRuntime() != null && !asked.getRuntime().equals(got.getRuntime())) {
            out.add(new Mismatch("runtime (DOCKER_RUNTIME)", asked.getRuntime(), String.valueOf(got.getRuntime()),
                    "register the runtime with the engine (Docker: \"runtimes\" in daemon.json); Podman's Docker API ignores "
                            + "the runtime of a create, so run a sandboxed runtime on Docker, or unset DOCKER_RUNTIME"));
        }
        if (positive(asked.getMemory()) && !asked.getMemory().equals(got.getMemory())) {
            out.add(new Mismatch("memory (DOCKER_MEMORY_LIMIT)", asked.getMemory() + " bytes", got.getMemory() + " bytes", LIMITS_FIX));
        }
        if (asked.getMemorySwap() != null && asked.getMemorySwap() > 0 && !asked.getMemorySwap().equals(got.getMemorySwap())) {
            out.add(new Mismatch("memory+swap (no extra swap)", asked.getMemorySwap() + " bytes", got.getMemorySwap() + " bytes", LIMITS_FIX));
        }
        if (positive(asked.getNanoCPUs())) {
            long applied = nanoCpus(got);
            if (Math.abs(applied - asked.getNanoCPUs()) > 10_000_000L) {
                out.add(new Mismatch("CPUs (DOCKER_CPU_LIMIT)", cpus(asked.getNanoCPUs()), applied == 0 ? "no limit" : cpus(applied), LIMITS_FIX));
            }
        }
        if (positive(asked.getPidsLimit()) && !asked.getPidsLimit().equals(got.getPidsLimit())) {
            out.add(new Mismatch("pids (DOCKER_PIDS_LIMIT)", String.valueOf(asked.getPidsLimit()), String.valueOf(got.getPidsLimit()), LIMITS_FIX));
        }
        if (Boolean.TRUE.equals(asked.getReadonlyRootfs()) && !Boolean.TRUE.equals(got.getReadonlyRootfs())) {
            out.add(new Mismatch("read-only root filesystem", "true", String.valueOf(got.getReadonlyRootfs()), HARDENING_FIX));
        }
        if (names(asked.getCapDrop()).contains("ALL") && !dropsAll(got)) {
            out.add(new Mismatch("capabilities", "all dropped", "dropped " + names(got.getCapDrop()) + ", added " + names(got.getCapAdd()),
                    HARDENING_FIX));
        }
        String gotUser = actual.getConfig() == null ? null : actual.getConfig().getUser();
        if (user != null && !user.isBlank() && !user.equals(gotUser)) {
            out.add(new Mismatch("user (DOCKER_USER)", user, String.valueOf(gotUser), HARDENING_FIX));
        }
        if (noNewPrivileges(asked.getSecurityOpts()) && !noNewPrivileges(got.getSecurityOpts())) {
            out.add(new Mismatch("no-new-privileges", "set", "security options " + got.getSecurityOpts(), HARDENING_FIX));
        }
        LogConfig askedLog = asked.getLogConfig();
        if (askedLog != null && askedLog.getType() != null) {
            LogConfig gotLog = got.getLogConfig();
            // by name: docker-java has two constants for "json-file" (DEFAULT and JSON_FILE)
            if (gotLog == null || gotLog.getType() == null || !askedLog.getType().getType().equals(gotLog.getType().getType())) {
                out.add(new Mismatch("log driver", askedLog.getType().getType(),
                        gotLog == null || gotLog.getType() == null ? "none reported" : gotLog.getType().getType(), HARDENING_FIX));
            } else if (askedLog.getConfig() != null && gotLog.getConfig() != null) {
                // an engine that reports the options must report the asked ones (Podman reports none: it keeps the size elsewhere)
                for (Map.Entry<String, String> option : askedLog.getConfig().entrySet()) {
                    String value = gotLog.getConfig().get(option.getKey());
                    if (value != null && !value.equals(option.getValue())) {
                        out.add(new Mismatch("log option " + option.getKey(), option.getValue(), value, HARDENING_FIX));
                    }
                }
            }
        }
        if (Boolean.TRUE.equals(asked.getInit()) && !Boolean.TRUE.equals(got.getInit())) {
            out.add(new Mismatch("init", "true", String.valueOf(got.getInit()), HARDENING_FIX));
        }
        return out;
    }

    private static boolean positive(Long value) {
        return value != null && value > 0;
    }

    /** The CPU limit as NanoCpus, or from quota/period when the engine reports it that way (0 = none). */
    private static long nanoCpus(HostConfig got) {
        if (positive(got.getNanoCPUs())) {
            return got.getNanoCPUs();
        }
        if (positive(got.getCpuQuota()) && positive(got.getCpuPeriod())) {
            return Math.round(got.getCpuQuota() * 1_000_000_000.0 / got.getCpuPeriod());
        }
        return 0;
    }

    private static String cpus(long nano) {
        return (nano / 1_000_000_000.0) + " CPUs";
    }

    private static List<String> names(Capability[] caps) {
        return caps == null ? List.of() : Arrays.stream(caps).filter(Objects::nonNull).map(Capability::name).toList();
    }

    /** No capability added, and either {@code ALL} dropped or every default one (Podman lists them one by one). */
    private static boolean dropsAll(HostConfig got) {
        List<String> dropped = names(got.getCapDrop());
        return names(got.getCapAdd()).isEmpty() && (dropped.contains("ALL") || dropped.containsAll(DEFAULT_CAPABILITIES));
    }

    private static boolean noNewPrivileges(List<String> opts) {
        if (opts == null) {
            return false;
        }
        return opts.stream().filter(Objects::nonNull).map(String::trim).anyMatch(o -> o.equals("no-new-privileges")
                || o.equals("no-new-privileges:true") || o.equals("no-new-privileges=true"));
    }
}

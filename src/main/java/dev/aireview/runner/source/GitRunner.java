package dev.aireview.runner.source;

import dev.aireview.runner.execution.CancelSignal;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Where the repository cache's trusted git commands run: on the runner's host ({@link HostGit}) or in a short-lived
 * helper container of a trusted git image (dev.aireview.runner.docker.ContainerGit). Both run the same hardened
 * command line ({@link #hardening}) in the entry directory, with the same extra environment (the credential helper's
 * variables, the remote URL), a deadline and a cancel.
 */
public interface GitRunner {
    /** Characters of output kept (the tail). */
    int OUTPUT_LIMIT = 16 * 1024;

    /** How one git run ended: its exit code, or interrupted (deadline or cancel; the process was killed). */
    record Result(int exit, String output, boolean timedOut, boolean cancelled) {
        public boolean ok() {
            return exit == 0 && !timedOut && !cancelled;
        }
    }

    /**
     * Runs {@code git <hardening> <args>} in {@code dir} (an entry directory of the cache).
     *
     * @param protocol the only transport allowed (http, https, git), or null for a local-only command
     * @param env      extra environment (credentials for the credential helper, the remote URL); secret
     */
    default Result run(Path dir, String protocol, List<String> args, Map<String, String> env, Instant deadline, CancelSignal cancel) {
        return run(dir, protocol, args, env, null, deadline, cancel);
    }

    /**
     * The same, with {@code input} (may be null: none) written to git's standard input, which is then closed. Small
     * inputs only (a few lines: they are written before the output is read to its end).
     */
    Result run(Path dir, String protocol, List<String> args, Map<String, String> env, byte[] input, Instant deadline, CancelSignal cancel);

    /** Two runs, one after the other: the second ({@code then}) is null when the first did not succeed. */
    record Both(Result first, Result then) {
    }

    /**
     * {@link #run} {@code args} (with {@code env}, no input), then, when it succeeded, the local command
     * {@code git cat-file --batch-check} with {@code input}: a fetch and the lookup of what it brought. The helper
     * container's git runs both in one container.
     */
    default Both runThenBatchCheck(Path dir, String protocol, List<String> args, Map<String, String> env, byte[] input,
                                   Instant deadline, CancelSignal cancel) {
        Result first = run(dir, protocol, args, env, null, deadline, cancel);
        if (!first.ok()) {
            return new Both(first, null);
        }
        return new Both(first, run(dir, null, BATCH_CHECK, Map.of(), input, deadline, cancel));
    }

    /** The lookup {@link #runThenBatchCheck} runs second. */
    List<String> BATCH_CHECK = List.of("cat-file", "--batch-check");

    /**
     * Starts {@code git <hardening> <args>} in {@code dir} (a local command: no transport allowed) with its standard
     * streams open to the caller, who must end it ({@link Process#destroyForcibly}); null when this git cannot hand
     * out a stream (the helper container: its output is a log, not bytes).
     */
    default Process start(Path dir, List<String> args, Map<String, String> env) throws java.io.IOException {
        return null;
    }

    /** Whether {@link #start} hands out a stream (git on the host), so a checkout can be streamed from the cache. */
    default boolean streams() {
        return false;
    }

    /** For the log: where git runs. */
    String describe();

    /**
     * The git command line without its arguments: no hooks, no fsmonitor, no protocol but {@code protocol} (null: none),
     * no redirect, no submodule, no automatic gc or maintenance, no prompt, no credential helper but the caller's.
     */
    static List<String> hardening(String protocol) {
        List<String> cmd = new java.util.ArrayList<>(List.of("git",
                "-c", "core.hooksPath=/dev/null",
                "-c", "core.fsmonitor=false",
                "-c", "protocol.allow=never",
                "-c", "http.followRedirects=false",
                "-c", "fetch.recurseSubmodules=false",
                "-c", "submodule.recurse=false",
                "-c", "gc.auto=0",
                "-c", "maintenance.auto=false",
                "-c", "fetch.writeCommitGraph=false",
                "-c", "credential.interactive=never",
                "-c", "credential.helper="));
        if (protocol != null) {
            cmd.add("-c");
            cmd.add("protocol." + protocol + ".allow=always");
        }
        return cmd;
    }

    /**
     * ssh as the trusted fetch runs it: no configuration file, no key, no agent of the runner's (none of the host's
     * credentials reach a server a task names), never a prompt. Host keys are not checked (nothing secret travels: the
     * clone token is an HTTP credential), as for git://.
     */
    String SSH_COMMAND = "ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o IdentityFile=none -o IdentityAgent=none"
            + " -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR";

    /** The fixed environment of every run (besides PATH and HOME): no system or global configuration, no prompt. */
    static Map<String, String> baseEnv(String protocol) {
        Map<String, String> e = new java.util.LinkedHashMap<>();
        e.put("LC_ALL", "C");
        e.put("GIT_CONFIG_NOSYSTEM", "1");
        e.put("GIT_CONFIG_GLOBAL", "/dev/null");
        e.put("GIT_TERMINAL_PROMPT", "0");
        e.put("GIT_ASKPASS", "/bin/false");
        e.put("SSH_ASKPASS", "/bin/false");
        e.put("GIT_NO_REPLACE_OBJECTS", "1");
        e.put("GIT_PROTOCOL_FROM_USER", "0");
        e.put("GIT_ALLOW_PROTOCOL", protocol == null ? "" : protocol);
        if ("ssh".equals(protocol)) {
            e.put("GIT_SSH_VARIANT", "ssh");
            e.put("GIT_SSH_COMMAND", SSH_COMMAND);
        }
        return e;
    }
}

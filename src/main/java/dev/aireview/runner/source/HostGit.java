package dev.aireview.runner.source;

import dev.aireview.runner.execution.CancelSignal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * git run by the runner on its own host, hardened: no system or global configuration (an empty HOME of its own), no
 * hooks, only the one transport protocol the task's URL names ({@code GIT_ALLOW_PROTOCOL}), no redirect followed, no
 * submodule, no automatic gc or maintenance, no prompt. The environment is built from nothing (only PATH is kept), so
 * nothing of the runner's own (its token) reaches git. Every run has a deadline and ends at a cancel; its output is
 * kept up to {@link GitRunner#OUTPUT_LIMIT} characters (the tail).
 */
final class HostGit implements GitRunner {

    private final Path home;

    /** @param home an empty directory of the runner's, git's HOME and XDG_CONFIG_HOME */
    HostGit(Path home) {
        this.home = home;
    }

    /** True when {@code git --version} runs on this host within 10 s. */
    static boolean available() {
        try {
            Process p = new ProcessBuilder("git", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Runs {@code git <hardening> <args>} in {@code dir}.
     *
     * @param protocol the only transport allowed (http, https, git), or null for a local-only command
     * @param env      extra environment (credentials for the credential helper, the remote URL)
     */
    @Override
    public Result run(Path dir, String protocol, List<String> args, Map<String, String> env, byte[] input, Instant deadline,
                      CancelSignal cancel) {
        List<String> cmd = new ArrayList<>(GitRunner.hardening(protocol));
        cmd.addAll(args);
        if (cancel.isCancelled()) {
            return new Result(-1, "", false, true);
        }
        ProcessBuilder pb = builder(dir, protocol, cmd, env).redirectErrorStream(true);
        Process p;
        try {
            p = pb.start();
        } catch (IOException ex) {
            return new Result(-1, "cannot run git: " + ex.getMessage(), false, false);
        }
        StringBuilder out = new StringBuilder();
        Thread reader = new Thread(() -> readTail(p.getInputStream(), out), "host-git-output");
        reader.setDaemon(true);
        reader.start();
        try (var stdin = p.getOutputStream()) {
            if (input != null) {
                stdin.write(input);
            }
        } catch (IOException ignored) {
            // git ended without reading it all: its exit code and output say why
        }
        cancel.onCancel(() -> kill(p));
        boolean timedOut = false;
        try {
            long ms = Math.max(0, Duration.between(Instant.now(), deadline).toMillis());
            if (!p.waitFor(ms, TimeUnit.MILLISECONDS)) {
                timedOut = !cancel.isCancelled();
                kill(p);
                p.waitFor(10, TimeUnit.SECONDS);
            }
            reader.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException ex) {
            kill(p);
            Thread.currentThread().interrupt();
            return new Result(-1, tail(out), false, true);
        }
        boolean cancelled = cancel.isCancelled();
        if (timedOut || cancelled) {
            kill(p);
        }
        return new Result(p.isAlive() ? -1 : p.exitValue(), tail(out), timedOut, cancelled && !timedOut);
    }

    @Override
    public boolean streams() {
        return true;
    }

    @Override
    public Process start(Path dir, List<String> args, Map<String, String> env) throws IOException {
        List<String> cmd = new ArrayList<>(GitRunner.hardening(null));
        cmd.addAll(args);
        return builder(dir, null, cmd, env).start();
    }

    /** git's process in {@code dir} with an environment built from nothing: PATH, the empty HOME, {@link GitRunner#baseEnv}, {@code env}. */
    private ProcessBuilder builder(Path dir, String protocol, List<String> cmd, Map<String, String> env) {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        Map<String, String> e = pb.environment();
        String path = e.getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
        e.clear();
        e.put("PATH", path);
        e.put("HOME", home.toString());
        e.put("XDG_CONFIG_HOME", home.toString());
        e.putAll(GitRunner.baseEnv(protocol));
        e.putAll(env);
        return pb;
    }

    @Override
    public String describe() {
        return "git on the runner's host";
    }

    private static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
    }

    private static void readTail(InputStream in, StringBuilder out) {
        byte[] buf = new byte[8192];
        try (in) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                synchronized (out) {
                    out.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                    if (out.length() > 2 * OUTPUT_LIMIT) {
                        out.delete(0, out.length() - OUTPUT_LIMIT);
                    }
                }
            }
        } catch (IOException ignored) {
            // the process ended or was killed
        }
    }

    private static String tail(StringBuilder out) {
        synchronized (out) {
            String s = out.length() > OUTPUT_LIMIT ? out.substring(out.length() - OUTPUT_LIMIT) : out.toString();
            return s.strip();
        }
    }
}

package dev.aireview.runner.testsupport;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of a JVM a test starts (the packaged runner, the dev server command, a test harness): this JDK's
 * {@code java} with {@link #FLAGS} first. One place for every such start, so that the suite's many short-lived child
 * JVMs cost the same everywhere.
 */
public final class TestJvm {
    /**
     * The client compiler only ({@code -XX:TieredStopAtLevel=1}), as the shipped runner runs (Dockerfile.runner's
     * entrypoint and the systemd unit, docs/operations.md "JVM settings") and the executor image's entrypoint: a child
     * JVM of a test lives seconds to minutes and spends most of its CPU on start-up, where the optimizing compiler's
     * background work only competes with the test for the machine's cores. Measured on the loaded 2-core test
     * machine, a {@code run} from start to registered with the dev server: 5.2-5.8 s of CPU (12-18 s wall) without
     * it, 3.0-3.4 s (5-8 s wall) with it. It changes no behaviour a test asserts (exit codes, output, signals, heap
     * limits).
     */
    public static final List<String> FLAGS = List.of("-XX:TieredStopAtLevel=1");

    private TestJvm() {
    }

    /** {@code <java.home>/bin/java}, {@link #FLAGS}, then {@code args}. */
    public static List<String> command(String... args) {
        return command(List.of(args));
    }

    /** {@code <java.home>/bin/java}, {@link #FLAGS}, then {@code args}. */
    public static List<String> command(List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(FLAGS);
        cmd.addAll(args);
        return cmd;
    }
}

package dev.aireview.runner.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The executor image's entrypoint ({@code execute} alone) read without picocli ({@link ExecuteCommand#fromEnvironment})
 * gives the command picocli gives: same files, poll interval, wait timeout and warm-up, for the defaults and for every
 * variable set; a value only picocli judges is left to picocli.
 */
class ExecuteCommandTest {

    /** What the command would run with, for comparison. */
    private static List<Object> settings(ExecuteCommand c) {
        return List.of(c.task, c.repo, c.out, c.pollMs, c.waitTimeoutSeconds, c.selfTest, c.warmUp, c.warmUpOnly);
    }

    private static ExecuteCommand picocli(String... args) {
        ExecuteCommand c = new ExecuteCommand();
        new CommandLine(c).parseArgs(args);
        return c;
    }

    @Test
    void defaultsAreThoseOfPicocliWithNoArgument() {
        assumeTrue(List.of(ExecuteCommand.TASK_ENV, ExecuteCommand.REPO_ENV, ExecuteCommand.OUT_ENV, ExecuteCommand.WARM_UP_ENV)
                .stream().noneMatch(v -> System.getenv(v) != null), "the test's own environment sets an AI_REVIEW_ variable");
        ExecuteCommand fast = ExecuteCommand.fromEnvironment(Map.of());
        assertNotNull(fast);
        assertEquals(settings(picocli()), settings(fast));
        assertEquals(List.of(Path.of("/workspace/task.json"), Path.of("/workspace/repo"), Path.of("/workspace/result.json"),
                20, 0L, false, true, false), settings(fast));
    }

    @Test
    void everyVariableIsReadAsPicocliReadsTheOptionItStandsFor() {
        ExecuteCommand fast = ExecuteCommand.fromEnvironment(Map.of(ExecuteCommand.TASK_ENV, "/w/t.json",
                ExecuteCommand.REPO_ENV, "/w/r", ExecuteCommand.OUT_ENV, "/w/o.json", ExecuteCommand.WARM_UP_ENV, "FALSE",
                "OTHER", "x"));
        assertNotNull(fast);
        assertEquals(settings(picocli("--task", "/w/t.json", "--repo", "/w/r", "--out", "/w/o.json", "--no-warm-up")),
                settings(fast));
        ExecuteCommand warm = ExecuteCommand.fromEnvironment(Map.of(ExecuteCommand.WARM_UP_ENV, "True"));
        assertNotNull(warm);
        assertEquals(true, warm.warmUp);
    }

    @Test
    void aValueOnlyPicocliJudgesIsLeftToIt() {
        assertNull(ExecuteCommand.fromEnvironment(Map.of(ExecuteCommand.WARM_UP_ENV, "yes")));
        assertNull(ExecuteCommand.fromEnvironment(Map.of(ExecuteCommand.WARM_UP_ENV, "")));
        assertNull(ExecuteCommand.fromEnvironment(Map.of(ExecuteCommand.TASK_ENV, "")));
        assertNull(ExecuteCommand.fromEnvironment(Map.of(ExecuteCommand.OUT_ENV, "")));
        assertNull(ExecuteCommand.fromEnvironment(Map.of(ExecuteCommand.REPO_ENV, "")));
    }

    @Test
    void onlyTheBareEntrypointSkipsPicocli() {
        // any argument goes through picocli: a bad one is reported with exit code 2, as before
        assertEquals(2, Main.execute("execute", "--poll-ms", "0"));
        assertEquals(2, Main.execute("execute", "--no-such-option"));
    }
}

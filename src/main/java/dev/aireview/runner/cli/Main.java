package dev.aireview.runner.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of {@code ai-review-runner}. Each subcommand lives in its own class. */
@Command(name = "ai-review-runner",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Runner of the AI Review platform: claims review tasks from the server and runs them in Docker.",
        subcommands = {
                RunCommand.class,
                HealthCommand.class,
                ExecuteCommand.class,
                DevServerCommand.class,
                DemoCommand.class,
                CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line (also used by tests). */
    public static CommandLine commandLine() {
        return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}

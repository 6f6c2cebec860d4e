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
        System.exit(execute(args));
    }

    /**
     * Runs the command {@code args} name. {@code execute} with no other argument (the executor image's entrypoint)
     * skips picocli when the environment allows ({@link ExecuteCommand#fromEnvironment}): a cold review container's
     * review waits for this JVM to start, and picocli's model of the whole command tree is most of that start.
     */
    static int execute(String... args) {
        if (args.length == 1 && ExecuteCommand.NAME.equals(args[0])) {
            ExecuteCommand entrypoint = ExecuteCommand.fromEnvironment(System.getenv());
            if (entrypoint != null) {
                try {
                    return entrypoint.call();
                } catch (RuntimeException e) {
                    // as picocli's execute does with an exception of a command: the trace, exit code 1
                    e.printStackTrace();
                    return 1;
                }
            }
        }
        return commandLine().execute(args);
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

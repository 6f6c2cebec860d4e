package dev.aireview.runner.cli;

import picocli.CommandLine.Command;

/** Placeholder: replaced by the issue that builds the 'run' command. */
@Command(name = "run", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Not built yet.")
public final class RunCommand implements java.util.concurrent.Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("'run' is not built yet");
        return 1;
    }
}

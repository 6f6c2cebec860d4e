package dev.aireview.runner.cli;

import picocli.CommandLine.Command;

/** Placeholder: replaced by the issue that builds the 'execute' command. */
@Command(name = "execute", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Not built yet.")
public final class ExecuteCommand implements java.util.concurrent.Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("'execute' is not built yet");
        return 1;
    }
}

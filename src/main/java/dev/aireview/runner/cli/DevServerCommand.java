package dev.aireview.runner.cli;

import picocli.CommandLine.Command;

/** Placeholder: replaced by the issue that builds the 'dev-server' command. */
@Command(name = "dev-server", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Not built yet.")
public final class DevServerCommand implements java.util.concurrent.Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("'dev-server' is not built yet");
        return 1;
    }
}

package dev.aireview.runner.cli;

import picocli.CommandLine.Command;

/** Placeholder: replaced by the issue that builds the 'demo' command. */
@Command(name = "demo", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Not built yet.")
public final class DemoCommand implements java.util.concurrent.Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("'demo' is not built yet");
        return 1;
    }
}

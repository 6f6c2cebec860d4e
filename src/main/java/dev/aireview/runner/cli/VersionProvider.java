package dev.aireview.runner.cli;

import dev.aireview.runner.observability.RunnerVersion;
import picocli.CommandLine;

/** {@code --version} for every command. */
public final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        return new String[]{"ai-review-runner " + RunnerVersion.get()};
    }
}

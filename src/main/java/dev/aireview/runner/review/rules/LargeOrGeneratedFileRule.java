package dev.aireview.runner.review.rules;

import dev.aireview.runner.model.Severity;
import dev.aireview.runner.review.DiffLine;
import dev.aireview.runner.review.FileDiff;
import dev.aireview.runner.review.PathAttributes;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;

/**
 * Files that should not be reviewed (or committed) line by line: large binaries, compiled artefacts, build
 * output and vendored dependency directories (one finding per directory), minified bundles, hand edits of
 * generated files, and newly added lock files. Binary files have no lines: their findings are file-level
 * (summary only).
 */
public final class LargeOrGeneratedFileRule implements Rule {

    public static final long LARGE_BINARY_BYTES = 1024 * 1024;

    /** Off by default (3 of 60 findings useful on real commits, 9 wrong). */
    @Override
    public boolean onByDefault() {
        return false;
    }

    @Override
    public String id() {
        return "large-or-generated";
    }

    @Override
    public String title() {
        return "large binaries, build output, minified, generated and lock files";
    }

    @Override
    public void check(List<FileDiff> files, Consumer<Finding> out) {
        Map<String, Integer> outputDirs = new LinkedHashMap<>();
        for (FileDiff f : files) {
            if (f.change() == FileDiff.ChangeType.DELETED || FileKinds.markedGeneratedOrVendored(f)) {
                continue; // the repository knows: its .gitattributes mark the file
            }
            boolean added = f.change() == FileDiff.ChangeType.ADDED;
            Matcher dir = FileKinds.OUTPUT_DIR.matcher(f.path());
            if (added && f.attributes().vendored() != PathAttributes.State.OFF && dir.find()) {
                String d = f.path().substring(0, dir.end());
                outputDirs.merge(d, 1, Integer::sum);
                continue;
            }
            int firstLine = firstAddedLine(f);
            if (f.binary()) {
                if (FileKinds.isCompiledArtifact(f)) {
                    out.accept(new Finding(id(), f.path(), 0, null, Severity.WARNING,
                            "Compiled artefact `" + f.fileName() + "` committed: build it in CI instead of versioning the output.", null));
                } else if (f.sizeBytes() > LARGE_BINARY_BYTES) {
                    out.accept(new Finding(id(), f.path(), 0, null, Severity.WARNING,
                            "Large binary file (" + mib(f.sizeBytes()) + ") " + (added ? "added" : "changed")
                                    + ": it bloats every clone for good. Use Git LFS or an artefact store.", null));
                } else if (added && f.sizeBytes() < 0) {
                    out.accept(new Finding(id(), f.path(), 0, null, Severity.INFO,
                            "Binary file added (size unknown): check that it belongs in the repository.", null));
                }
                continue;
            }
            if (firstLine == 0) {
                continue;
            }
            if (FileKinds.isMinified(f)) {
                out.accept(new Finding(id(), f.path(), firstLine, null, Severity.WARNING,
                        "Minified or bundled file committed: it cannot be reviewed and drifts from its sources. Commit the "
                                + "sources and produce this file in the build.", null));
            } else if (f.attributes().generated() != PathAttributes.State.OFF && FileKinds.hasGeneratedMarker(f)) {
                out.accept(added
                        ? new Finding(id(), f.path(), firstLine, null, Severity.INFO,
                        "Generated file added (it says so in its header): it was not reviewed line by line; review the "
                                + "generator input, and consider generating it in the build.", null)
                        : new Finding(id(), f.path(), firstLine, null, Severity.WARNING,
                        "This file is marked as generated: hand edits are lost when it is regenerated. Change the "
                                + "generator or its input instead.", null));
            } else if (added && FileKinds.isLockFile(f)) {
                out.accept(new Finding(id(), f.path(), firstLine, null, Severity.INFO,
                        "Lock file `" + f.fileName().toLowerCase(Locale.ROOT) + "` added: not reviewed line by line. Make "
                                + "sure it comes from the project's package manager and matches the manifest.", null));
            }
        }
        for (Map.Entry<String, Integer> e : outputDirs.entrySet()) {
            out.accept(new Finding(id(), e.getKey(), 0, null, Severity.WARNING,
                    e.getValue() + " file(s) added under `" + e.getKey() + "`, a build-output or dependency directory: "
                            + "remove them and add the directory to .gitignore.", null));
        }
    }

    private static int firstAddedLine(FileDiff f) {
        for (var h : f.hunks()) {
            for (DiffLine l : h.lines()) {
                if (l.isAdded()) {
                    return l.newLine();
                }
            }
        }
        return 0;
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
    }
}

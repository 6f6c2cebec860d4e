package dev.aireview.runner.kubernetes;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.aireview.runner.cli.Main;
import dev.aireview.runner.model.Json;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The executor image as a local process would see it: the last stage of {@code Dockerfile.executor} read for its
 * {@code ENV}, {@code WORKDIR} and {@code ENTRYPOINT}. The entrypoint is run as written, with two substitutions only:
 * {@code -jar /opt/ai-review/ai-review-runner.jar} becomes {@code -cp <compiled classes and dependencies> <Main>}
 * (the jar is packaged after the tests), and the class-data-sharing archive (made by the image build) is left out;
 * {@code java} is this JVM's, and {@code /opt/jre/bin} on the PATH is this JVM's {@code bin}.
 */
record LocalExecutorImage(Map<String, String> env, String workdir, List<String> entrypoint) {
    static final Path DOCKERFILE = Path.of("Dockerfile.executor");

    static LocalExecutorImage fromDockerfile() throws IOException {
        List<String> instructions = instructions(Files.readString(DOCKERFILE));
        int last = 0;
        for (int i = 0; i < instructions.size(); i++) {
            if (instructions.get(i).startsWith("FROM ")) {
                last = i;
            }
        }
        Map<String, String> env = new LinkedHashMap<>();
        String workdir = "/";
        List<String> entrypoint = null;
        for (String ins : instructions.subList(last, instructions.size())) {
            if (ins.startsWith("ENV ")) {
                for (String pair : ins.substring(4).trim().split("\\s+")) {
                    int eq = pair.indexOf('=');
                    env.put(pair.substring(0, eq), pair.substring(eq + 1));
                }
            } else if (ins.startsWith("WORKDIR ")) {
                workdir = ins.substring(8).trim();
            } else if (ins.startsWith("ENTRYPOINT ")) {
                entrypoint = Json.mapper().readValue(ins.substring(11).trim(), new TypeReference<List<String>>() { });
            }
        }
        if (entrypoint == null || !env.containsKey("PATH")) {
            throw new IllegalStateException(DOCKERFILE + ": no ENTRYPOINT or PATH in its last stage");
        }
        return new LocalExecutorImage(env, workdir, List.copyOf(entrypoint));
    }

    /** The Dockerfile's instructions, continuation lines joined, comments dropped. */
    private static List<String> instructions(String text) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String line : text.split("\n")) {
            String t = line.strip();
            if (t.startsWith("#") || (t.isEmpty() && cur.length() == 0)) {
                continue;
            }
            boolean more = t.endsWith("\\");
            cur.append(more ? t.substring(0, t.length() - 1) : t).append(' ');
            if (!more) {
                out.add(cur.toString().strip());
                cur.setLength(0);
            }
        }
        return out;
    }

    /** The image's environment for a local process: its PATH with this JVM's bin for /opt/jre/bin. */
    Map<String, String> localEnv() {
        Map<String, String> e = new LinkedHashMap<>(env);
        String javaBin = Path.of(System.getProperty("java.home"), "bin").toString();
        e.put("PATH", Arrays.stream(env.get("PATH").split(":")).map(p -> p.equals("/opt/jre/bin") ? javaBin : p)
                .collect(Collectors.joining(":")));
        return e;
    }

    /** The entrypoint as a local command (see the class comment). */
    List<String> localEntrypoint() {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < entrypoint.size(); i++) {
            String a = entrypoint.get(i);
            if (i == 0 && a.equals("java")) {
                out.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            } else if (a.equals("-jar")) {
                out.add("-cp");
                out.add(classpath());
                out.add(Main.class.getName());
                i++; // the jar's path
            } else if (!a.startsWith("-XX:SharedArchiveFile=")) {
                out.add(a);
            }
        }
        if (!out.contains(Main.class.getName())) {
            throw new IllegalStateException("the executor image's entrypoint does not run a jar: " + entrypoint);
        }
        return out;
    }

    /** This JVM's class path without the test classes: what the runner's jar holds (and some test libraries). */
    static String classpath() {
        return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(p -> !p.endsWith("test-classes") && !p.endsWith("test-classes/"))
                .collect(Collectors.joining(File.pathSeparator));
    }
}

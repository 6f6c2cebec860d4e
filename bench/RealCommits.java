import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.review.ReviewEngine;
import dev.aireview.runner.testsupport.FakeOpenAi;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * The review engine over real commits of a repository nobody here wrote (bench/real-commits.sh): each sampled commit
 * (merges included) is reviewed against its first parent as the executor does, by the offline rules and by the AI
 * reviewer against {@link FakeOpenAi} on loopback, whose answers rotate through the shapes real models write (plain,
 * fenced with prose around it, the requested format restated before the answer). Prints one line per commit and
 * the totals: completed / partial / failed per path, internal errors, comments, offline findings per rule.
 *
 *   java -cp CLASSPATH bench/RealCommits.java repo=/path/to/clone count=240 [out=file.tsv] [show=1: print every offline comment]
 *       [ai=0: offline rules only]
 */
public class RealCommits {
    public static void main(String[] args) throws Exception {
        Map<String, String> a = new TreeMap<>();
        for (String s : args) {
            int eq = s.indexOf('=');
            a.put(s.substring(0, eq), s.substring(eq + 1));
        }
        Path repo = Path.of(a.get("repo"));
        int count = Integer.parseInt(a.getOrDefault("count", "240"));
        List<String> all = List.of(git(repo, "rev-list", "--all", "--topo-order").strip().split("\n"));
        List<String> sample = new ArrayList<>();
        for (int i = 0; i < count && i < all.size(); i++) {
            sample.add(all.get((int) ((long) i * all.size() / Math.min(count, all.size()))));
        }
        List<UnaryOperator<String>> shapes = List.of(UnaryOperator.identity(),
                c -> "Here is my review.\n```json\n" + c + "\n```\nLet me know if you need more.",
                c -> "The format you asked for is {\"summary\": \"markdown overall assessment (2-6 sentences)\", \"comments\": "
                        + "[{\"path\": \"file path as shown\", \"line\": 12, \"severity\": \"warning\", \"message\": \"what is wrong and why\"}]}.\n"
                        + "My answer: " + c);
        int[] shapeIndex = {0};
        UnaryOperator<String> rotating = c -> shapes.get(Math.floorMod(shapeIndex[0]++, shapes.size())).apply(c);
        StringBuilder tsv = new StringBuilder("commit\tparents\tfiles\tpath\tstatus\tpartial\tnotReviewed\tcomments\tms\tchangedLines\terror\n");
        boolean withAiPath = !"0".equals(a.get("ai"));
        long smallLines = 0;
        long smallComments = 0;
        int smallCommits = 0;
        int[] offline = new int[4];
        int[] ai = new int[4];
        long offlineComments = 0;
        long aiComments = 0;
        long offlineMs = 0;
        long changedLines = 0;
        Map<String, Integer> byRule = new TreeMap<>();
        try (FakeOpenAi provider = new FakeOpenAi(rotating)) {
            ReviewEngine engine = new ReviewEngine();
            for (String sha : sample) {
                int parents = git(repo, "rev-list", "--parents", "-n", "1", sha).strip().split(" ").length - 1;
                for (boolean withAi : withAiPath ? new boolean[]{false, true} : new boolean[]{false}) {
                    var node = Json.mapper().createObjectNode();
                    node.put("id", "bench_" + sha.substring(0, 8));
                    node.putObject("repository").put("url", "https://git.example/bench.git").put("fullName", repo.getFileName().toString());
                    node.put("headSha", sha).put("timeoutSeconds", 600);
                    if (withAi) {
                        node.putObject("ai").put("provider", "openai").put("baseUrl", provider.baseUrl()).put("model", "fake").put("apiKey", "sk-bench-0000");
                    }
                    List<String> progress = new ArrayList<>();
                    long t0 = System.nanoTime();
                    TaskResult r = engine.review(ReviewTask.fromJson(node), repo, progress::add);
                    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                    int[] tally = withAi ? ai : offline;
                    // read as JSON, so the bench also runs against the engine before TaskStats had these fields
                    var stats = Json.mapper().valueToTree(r.stats());
                    boolean partial = stats.path("partial").asBoolean(false);
                    boolean internal = r.error() != null && r.error().message().contains("internal error");
                    if (r.status() == ResultStatus.COMPLETED) {
                        tally[partial ? 1 : 0]++;
                    } else {
                        tally[internal ? 3 : 2]++;
                    }
                    long commitLines = 0;
                    if (withAi) {
                        aiComments += r.comments().size();
                    } else {
                        offlineComments += r.comments().size();
                        offlineMs += ms;
                        r.comments().forEach(c -> byRule.merge(rule(c.message()), 1, Integer::sum));
                        if (a.containsKey("show")) {
                            r.comments().forEach(c -> System.out.println("  " + sha.substring(0, 12) + " " + rule(c.message()) + " " + c.path() + ":" + c.line()
                                    + " " + (c.message().length() > 140 ? c.message().substring(0, 140) : c.message())));
                        }
                        for (String l : progress) {
                            if (l.startsWith("change: ")) {
                                java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\+(\\d+) −(\\d+)").matcher(l);
                                if (m.find()) {
                                    commitLines += Long.parseLong(m.group(1)) + Long.parseLong(m.group(2));
                                }
                            }
                        }
                        changedLines += commitLines;
                        if (commitLines <= 300) {
                            smallCommits++;
                            smallLines += commitLines;
                            smallComments += r.comments().size();
                        }
                    }
                    String err = r.error() == null ? "" : r.error().message().replace('\t', ' ').replace('\n', ' ');
                    tsv.append(sha, 0, 12).append('\t').append(parents).append('\t').append(r.stats().filesReviewed()).append('\t')
                            .append(withAi ? "ai" : "offline").append('\t').append(r.status().wire()).append('\t').append(partial).append('\t')
                            .append(stats.path("filesNotReviewed").asInt(0)).append('\t')
                            .append(r.comments().size()).append('\t').append(ms).append('\t').append(commitLines).append('\t').append(err.length() > 160 ? err.substring(0, 160) : err).append('\n');
                    if (r.status() != ResultStatus.COMPLETED) {
                        System.out.println(sha.substring(0, 12) + " " + (withAi ? "ai" : "offline") + " " + r.status().wire() + ": " + err);
                    }
                }
            }
            System.out.printf(Locale.ROOT, "%s: %d commits (%d merges), %d AI requests%n", repo, sample.size(),
                    tsv.toString().lines().filter(l -> l.split("\t").length > 1 && l.split("\t")[1].equals("2") && l.contains("\toffline\t")).count(),
                    provider.requests());
        }
        System.out.printf(Locale.ROOT, "offline: %d completed, %d partial, %d failed, %d internal errors; %d comments (%.2f per 100 changed lines); %d ms in all%n",
                offline[0], offline[1], offline[2], offline[3], offlineComments, changedLines == 0 ? 0.0 : 100.0 * offlineComments / changedLines, offlineMs);
        System.out.printf(Locale.ROOT, "offline, commits of at most 300 changed lines: %d commits, %d changed lines, %d comments (%.2f per 100 changed lines)%n",
                smallCommits, smallLines, smallComments, smallLines == 0 ? 0.0 : 100.0 * smallComments / smallLines);
        System.out.printf(Locale.ROOT, "AI:      %d completed, %d partial, %d failed, %d internal errors; %d comments%n", ai[0], ai[1], ai[2], ai[3], aiComments);
        System.out.println("offline comments by rule: " + byRule);
        if (a.containsKey("out")) {
            Files.writeString(Path.of(a.get("out")), tsv, StandardCharsets.UTF_8);
        }
    }

    /** The rule of an offline comment, from its message's opening words. */
    private static String rule(String message) {
        String m = message.toLowerCase(Locale.ROOT);
        if (m.contains("secret")) return "secret";
        if (m.contains("conflict marker")) return "conflict-marker";
        if (m.contains("todo") || m.contains("fixme") || m.contains("xxx") || m.contains("hack")) return "todo";
        if (m.contains("characters long")) return "long-line";
        if (m.contains("newline")) return "final-newline";
        if (m.contains("generated") || m.contains("large")) return "large-or-generated";
        return "debug-output";
    }

    private static String git(Path repo, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("git", "-C", repo.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }
}

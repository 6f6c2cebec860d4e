package dev.aireview.runner.review.ai;

import dev.aireview.runner.model.ReviewTask;
import dev.aireview.runner.review.config.RepoConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Builds the chat messages. The system prompt fixes the answer format (a JSON object with {@code summary}
 * and {@code comments}) and lists the task's {@code rules}. The user message comes from the task's
 * {@code prompt} template, or {@link #DEFAULT_TEMPLATE}. Placeholders, replaced verbatim:
 * <ul>
 *   <li>{@code {{diff}}} the (part of the) diff, with new-file line numbers</li>
 *   <li>{@code {{files}}} the paths in this part, one per line</li>
 *   <li>{@code {{rules}}} the task's rules as a bullet list ("(none)" when empty)</li>
 *   <li>{@code {{repository}}}, {@code {{branch}}}, {@code {{baseSha}}}, {@code {{headSha}}}</li>
 *   <li>{@code {{part}}}, {@code {{parts}}} which request of how many this is</li>
 * </ul>
 * A template without {@code {{diff}}} is taken as extra instructions: it is placed before the default
 * template's content, so the diff is always sent.
 *
 * <p>The repository's {@code .ai-review.yml} adds its {@code rules} to the task's (and to {@code {{rules}}}), its
 * {@code language} to the system prompt, and the {@code instructions} whose path glob matches a file of the part
 * to that part's user message.
 */
public final class PromptBuilder {

    public static final String DEFAULT_TEMPLATE = """
            Review this change to {{repository}} (branch {{branch}}, {{baseSha}}..{{headSha}}), part {{part}} of {{parts}}.

            Files in this part:
            {{files}}

            Diff:
            {{diff}}
            """;

    private final ReviewTask task;
    private final RepoConfig config;

    public PromptBuilder(ReviewTask task) {
        this(task, RepoConfig.DEFAULTS);
    }

    public PromptBuilder(ReviewTask task, RepoConfig config) {
        this.task = task;
        this.config = config;
    }

    public String system() {
        return """
                You are a senior software engineer reviewing a code change. Point out bugs, security problems, \
                missing error handling, race conditions, performance problems and unclear code. Do not comment \
                on formatting a linter would fix, and do not praise.

                The diff shows each line's number in the new file on the left; added lines are marked with '+', \
                removed lines with '-' (they have no number). Comment only on added ('+') lines, using the number \
                shown. Use endLine for a range. Severity is one of "error" (must fix: bug, vulnerability), \
                "warning" (should fix) or "info" (suggestion). Put replacement code, if any, in "suggestion".

                Answer with one JSON object and nothing else:
                {"summary": "markdown overall assessment (2-6 sentences)",
                 "comments": [{"path": "file path as shown", "line": 12, "endLine": 14, "severity": "warning", "message": "what is wrong and why", "suggestion": "optional replacement code"}]}
                Use an empty "comments" list when there is nothing to say.
                """ + "\nProject review rules (apply them strictly):\n" + rulesList() + "\n"
                + (config.language() == null ? "" : "\nWrite the summary and every comment message in " + config.language()
                + " (keep code, identifiers and the JSON keys as they are).\n");
    }

    public String user(DiffChunker.Chunk chunk, int part, int parts) {
        return user(chunk, String.valueOf(part), parts);
    }

    /** The user message of one part; {@code part} is its label ({@code 2}, or {@code 2.1} for half of a split part). */
    public String user(DiffChunker.Chunk chunk, String part, int parts) {
        String template = task.prompt();
        String text;
        if (template == null || template.isBlank()) {
            text = DEFAULT_TEMPLATE;
        } else if (!template.contains("{{diff}}")) {
            text = template.strip() + "\n\n" + DEFAULT_TEMPLATE;
        } else {
            text = template;
        }
        Map<String, String> values = Map.of(
                "{{diff}}", chunk.text(),
                "{{files}}", String.join("\n", chunk.paths()),
                "{{rules}}", rulesList(),
                "{{repository}}", nz(task.repository() == null ? null
                        : task.repository().fullName() != null ? task.repository().fullName() : task.repository().url()),
                "{{branch}}", nz(task.branch()),
                "{{baseSha}}", nz(task.baseSha()),
                "{{headSha}}", nz(task.headSha()),
                "{{part}}", part,
                "{{parts}}", String.valueOf(parts));
        // One pass, so a placeholder inside the diff itself is never expanded.
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < text.length()) {
            int open = text.indexOf("{{", i);
            if (open < 0) {
                out.append(text, i, text.length());
                break;
            }
            int close = text.indexOf("}}", open);
            String key = close < 0 ? null : text.substring(open, close + 2);
            if (key != null && values.containsKey(key)) {
                out.append(text, i, open).append(values.get(key));
                i = close + 2;
            } else {
                out.append(text, i, open + 2);
                i = open + 2;
            }
        }
        List<RepoConfig.PathText> instructions = config.instructionsFor(chunk.paths());
        if (!instructions.isEmpty()) {
            out.append("\nInstructions of this repository for these files (follow them):\n");
            for (RepoConfig.PathText in : instructions) {
                out.append("- for ").append(in.glob()).append(": ").append(in.text().replace('\n', ' ')).append('\n');
            }
        }
        return out.toString();
    }

    private String rulesList() {
        List<String> rules = new ArrayList<>(task.rules());
        rules.addAll(config.rules());
        if (rules.isEmpty()) {
            return "(none)";
        }
        StringBuilder sb = new StringBuilder();
        for (String r : rules) {
            sb.append("- ").append(r.replace('\n', ' ')).append('\n');
        }
        return sb.toString().stripTrailing();
    }

    private static String nz(String s) {
        return s == null ? "?" : s;
    }
}

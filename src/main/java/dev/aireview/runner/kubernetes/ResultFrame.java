package dev.aireview.runner.kubernetes;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.aireview.runner.model.Json;
import dev.aireview.runner.model.TaskResult;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;

/**
 * How result.json leaves a task pod: the {@code report} container (after the review container has ended) runs
 * {@link #SCRIPT}, which checks the file (present, not a link, a regular file, at most the cap) and prints one
 * header line and the content base64-encoded on one line. The runner reads that container's log and
 * {@link #parse}s it: length and SHA-256 must match, the JSON must be a result. The review cannot write to the
 * report container's log, so a review that prints a frame of its own on its own output changes nothing.
 *
 * <pre>
 * ai-review-result ok &lt;bytes&gt; &lt;sha256 hex&gt;
 * &lt;base64 of the bytes&gt;
 * </pre>
 * or one line {@code ai-review-result missing | not-regular <what> | too-large <bytes>}.
 */
public final class ResultFrame {
    static final String MAGIC = "ai-review-result";
    static final String LIMIT_ENV = "AI_REVIEW_RESULT_LIMIT";
    /** Fixed script of the report container (no task value in it; the cap comes from the environment). */
    static final String SCRIPT = String.join("\n",
            "set -u",
            "f=\"${AI_REVIEW_RESULT_FILE:-/workspace/result.json}\"",
            "if [ -L \"$f\" ]; then echo '" + MAGIC + " not-regular symbolic-link'; exit 0; fi",
            "if [ ! -e \"$f\" ]; then echo '" + MAGIC + " missing'; exit 0; fi",
            "if [ ! -f \"$f\" ]; then echo '" + MAGIC + " not-regular special-file'; exit 0; fi",
            "n=$(stat -c %s \"$f\") || exit 3",
            "if [ \"$n\" -gt \"$" + LIMIT_ENV + "\" ]; then echo \"" + MAGIC + " too-large $n\"; exit 0; fi",
            "h=$(head -c \"$" + LIMIT_ENV + "\" \"$f\" | sha256sum | cut -d' ' -f1) || exit 3",
            "echo \"" + MAGIC + " ok $n $h\"",
            "head -c \"$" + LIMIT_ENV + "\" \"$f\" | base64 -w0 || exit 3",
            "echo",
            "");

    /** The outcome of reading a frame: a result, or the reason there is none (said in the task's failure). */
    public record Read(TaskResult result, String problem) {
        static Read problem(String why) {
            return new Read(null, why);
        }
    }

    private ResultFrame() {
    }

    /** Largest report log worth reading for a cap of {@code limit} bytes (base64 and the header). */
    static int logBytes(long limit) {
        return (int) Math.min(Integer.MAX_VALUE, limit / 3 * 4 + 1024);
    }

    /** Parses the report container's log {@code log}; the file may hold at most {@code limit} bytes. */
    public static Read parse(String log, long limit) {
        if (log == null || log.isEmpty()) {
            return Read.problem("the report container printed nothing; result.json was not read");
        }
        String[] lines = log.split("\r?\n", -1);
        String header = lines[0];
        if (!header.startsWith(MAGIC + " ")) {
            return Read.problem("the report container's output is not a result frame");
        }
        String[] h = header.substring(MAGIC.length() + 1).split(" ");
        switch (h[0]) {
            case "missing":
                return Read.problem("no result file: the review container exited 0 without writing /workspace/result.json");
            case "not-regular":
                return Read.problem("result.json is not a regular file (it is a " + (h.length > 1 ? word(h[1]) : "special file")
                        + "); it was not read");
            case "too-large":
                return Read.problem("result.json is larger than DOCKER_RESULT_LIMIT_BYTES (" + limit + " bytes"
                        + (h.length > 1 ? ": " + digits(h[1]) + " bytes" : "") + "); it was not read");
            case "ok":
                break;
            default:
                return Read.problem("the report container's frame has an unknown state");
        }
        if (h.length != 3 || lines.length < 2) {
            return Read.problem("the result frame is incomplete");
        }
        long size;
        try {
            size = Long.parseLong(h[1]);
        } catch (NumberFormatException e) {
            return Read.problem("the result frame's length is not a number");
        }
        if (size < 0 || size > limit) {
            return Read.problem("the result frame's length " + size + " is outside 0.." + limit);
        }
        byte[] bytes;
        try {
            bytes = Base64.getDecoder().decode(lines[1].strip());
        } catch (IllegalArgumentException e) {
            return Read.problem("the result frame's content is not base64");
        }
        if (bytes.length != size) {
            return Read.problem("the result frame carries " + bytes.length + " bytes, its header says " + size
                    + " (log cut short?)");
        }
        if (!sha256(bytes).equalsIgnoreCase(h[2])) {
            return Read.problem("the result frame's SHA-256 does not match its content");
        }
        try {
            TaskResult result = Json.mapper().readValue(bytes, TaskResult.class);
            return result == null ? Read.problem("result.json is not valid JSON: it holds no result object") : new Read(result, null);
        } catch (JsonProcessingException e) {
            return Read.problem("result.json is not valid JSON or not a result object"
                    + (e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ")"));
        } catch (java.io.IOException | RuntimeException e) {
            return Read.problem("result.json is not valid JSON or not a result object (" + e.getClass().getSimpleName() + ")");
        }
    }

    /** A frame as the report script prints it (tests). */
    static String frame(byte[] content) {
        return MAGIC + " ok " + content.length + " " + sha256(content) + "\n" + Base64.getEncoder().encodeToString(content) + "\n";
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String word(String s) {
        return s.matches("[a-z-]{1,40}") ? s.replace('-', ' ') : "special file";
    }

    private static String digits(String s) {
        return s.matches("\\d{1,19}") ? s : "?";
    }
}

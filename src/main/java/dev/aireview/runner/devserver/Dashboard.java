package dev.aireview.runner.devserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.aireview.runner.model.Json;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * The read-only HTML dashboard: {@code /} lists runners and tasks, {@code /tasks/<id>} shows one task with its
 * phases, review and logs. Rendered on the server from masked snapshots (no secrets), no authentication, and the
 * page reloads itself every 2 s while something can still change.
 */
final class Dashboard implements HttpHandler {
    private static final Logger log = LoggerFactory.getLogger(Dashboard.class);
    private static final String STYLE = """
            body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
            table{border-collapse:collapse;margin-bottom:1.5em}
            th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top;font-size:.9em}
            th{background:#f3f3f3}
            .completed{color:#176f2c}.failed,.timed_out{color:#b00020}.cancelled{color:#8a6d00}
            .offline{color:#888}.online,.busy{color:#176f2c}.draining{color:#8a6d00}
            pre{background:#f7f7f7;padding:.6em;overflow-x:auto;font-size:.85em}
            .stderr{color:#b00020}.system{color:#555;font-style:italic}
            small{color:#666}
            """;

    private final DevServerStore store;
    private final DevServerOptions options;

    Dashboard(DevServerStore store, DevServerOptions options) {
        this.store = store;
        this.options = options;
    }

    @Override
    public void handle(HttpExchange ex) throws IOException {
        try {
            if (!ex.getRequestMethod().equalsIgnoreCase("GET")) {
                html(ex, 405, page("Method not allowed", "<p>The dashboard is read-only.</p>", false));
                return;
            }
            List<String> seg = Http.segments(ex, "");
            if (seg.isEmpty()) {
                html(ex, 200, index());
            } else if (seg.size() == 2 && seg.get(0).equals("tasks")) {
                TaskSnapshot t;
                try {
                    t = store.task(seg.get(1), true);
                } catch (ApiException e) {
                    html(ex, 404, page("Unknown task", "<p>No task " + esc(seg.get(1)) + ". <a href=\"/\">Back</a></p>", false));
                    return;
                }
                html(ex, 200, taskPage(t));
            } else {
                html(ex, 404, page("Not found", "<p>Nothing here. <a href=\"/\">Dashboard</a></p>", false));
            }
        } catch (IOException e) {
            ex.close();
        } catch (RuntimeException e) {
            log.warn("dashboard page failed", e);
            html(ex, 500, page("Error", "<p>The page failed: " + esc(e.getClass().getSimpleName()) + "</p>", false));
        }
    }

    private String index() {
        Instant now = options.clock().instant().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        StringBuilder b = new StringBuilder();
        List<RunnerSnapshot> runners = store.runners();
        List<TaskSnapshot> tasks = store.tasks();
        long pending = tasks.stream().filter(t -> t.phase().equals("pending")).count();
        long running = tasks.stream().filter(t -> !t.terminal() && !t.phase().equals("pending")).count();
        long done = tasks.stream().filter(TaskSnapshot::terminal).count();
        b.append("<p>").append(runners.size()).append(" runner(s) · ").append(pending).append(" pending · ")
                .append(running).append(" running · ").append(done).append(" finished")
                .append(" · heartbeat timeout ").append(options.heartbeatTimeout().toMillis()).append(" ms</p>");
        b.append("<h2>Runners</h2>");
        if (runners.isEmpty()) {
            b.append("<p><small>No runner has registered yet.</small></p>");
        } else {
            b.append("<table><tr><th>Runner</th><th>Name</th><th>State</th><th>Last heartbeat</th><th>Jobs</th>"
                    + "<th>Claimed tasks</th><th>Version</th><th>Host</th></tr>");
            for (RunnerSnapshot r : runners) {
                b.append("<tr><td>").append(esc(r.id())).append("</td><td>").append(esc(r.name()))
                        .append("</td><td class=\"").append(esc(r.status())).append("\">").append(esc(r.status()))
                        .append("</td><td>").append(ago(r.lastHeartbeat(), now))
                        .append("</td><td>").append(r.activeJobs()).append(" / ").append(r.maxConcurrency())
                        .append("</td><td>");
                for (String id : r.claimedTaskIds()) {
                    b.append("<a href=\"/tasks/").append(esc(id)).append("\">").append(esc(id)).append("</a> ");
                }
                b.append("</td><td>").append(esc(r.version())).append("</td><td>").append(esc(r.hostname()))
                        .append("</td></tr>");
            }
            b.append("</table>");
        }
        b.append("<h2>Tasks</h2>");
        if (tasks.isEmpty()) {
            b.append("<p><small>No task yet. Enqueue one with <code>POST /api/admin/tasks</code>.</small></p>");
        } else {
            b.append("<table><tr><th>Task</th><th>Review</th><th>Repository</th><th>Phase</th><th>Runner</th>"
                    + "<th>Result</th><th>Comments</th><th>Claims</th><th>Enqueued</th><th>Finished</th></tr>");
            for (int i = tasks.size() - 1; i >= 0; i--) {
                TaskSnapshot t = tasks.get(i);
                b.append("<tr><td><a href=\"/tasks/").append(esc(t.id())).append("\">").append(esc(t.id()))
                        .append("</a></td><td>").append(esc(t.reviewId()))
                        .append("</td><td>").append(esc(repository(t.task())))
                        .append("</td><td class=\"").append(esc(t.phase())).append("\">").append(esc(t.phase()))
                        .append(t.cancelRequested() && !t.terminal() ? " (cancel requested)" : "")
                        .append("</td><td>").append(esc(t.runnerId()))
                        .append("</td><td class=\"").append(esc(t.resultStatus())).append("\">")
                        .append(esc(t.resultStatus())).append(t.errorKind() == null ? "" : " (" + esc(t.errorKind()) + ")")
                        .append("</td><td>").append(t.result() == null ? "" : String.valueOf(t.commentCount()))
                        .append("</td><td>").append(t.claimCount())
                        .append("</td><td>").append(time(t.enqueuedAt()))
                        .append("</td><td>").append(time(t.finishedAt())).append("</td></tr>");
            }
            b.append("</table>");
        }
        return page("AI Review dev server", b.toString(), true);
    }

    private String taskPage(TaskSnapshot t) {
        StringBuilder b = new StringBuilder("<p><a href=\"/\">← all tasks</a></p>");
        b.append("<table>");
        row(b, "Phase", "<span class=\"" + esc(t.phase()) + "\">" + esc(t.phase()) + "</span>"
                + (t.cancelRequested() && !t.terminal() ? " (cancel requested)" : ""));
        row(b, "Review", esc(t.reviewId()));
        row(b, "Repository", esc(repository(t.task())));
        row(b, "Branch / head", esc(Json.text(t.task(), "branch")) + " " + esc(Json.text(t.task(), "headSha")));
        row(b, "Runner", esc(t.runnerId()) + (t.formerRunners().isEmpty() ? ""
                : " <small>(before: " + esc(String.join(", ", t.formerRunners())) + ")</small>"));
        row(b, "Enqueued / claimed / finished", time(t.enqueuedAt()) + " / " + time(t.claimedAt()) + " / " + time(t.finishedAt()));
        row(b, "Claims / result calls / re-queues", t.claimCount() + " / " + t.resultCalls() + " / " + t.requeues());
        b.append("</table>");

        b.append("<h2>History</h2><table><tr><th>Phase</th><th>Runner</th><th>Runner time</th><th>Received</th><th>Message</th></tr>");
        for (PhaseChange p : t.phases()) {
            b.append("<tr><td>").append(esc(p.phase())).append("</td><td>").append(esc(p.runnerId()))
                    .append("</td><td>").append(esc(p.at())).append("</td><td>").append(time(p.receivedAt()))
                    .append("</td><td>").append(esc(p.message())).append("</td></tr>");
        }
        b.append("</table>");

        b.append("<h2>Review</h2>");
        JsonNode result = t.result();
        if (result == null) {
            b.append("<p><small>No result yet.</small></p>");
        } else {
            b.append("<p>Status: <b class=\"").append(esc(t.resultStatus())).append("\">").append(esc(t.resultStatus()))
                    .append("</b>");
            if (t.errorKind() != null) {
                b.append(" — ").append(esc(t.errorKind())).append(": ").append(esc(t.errorMessage()));
            }
            b.append("</p>");
            if (t.summary() != null) {
                b.append("<pre>").append(esc(t.summary())).append("</pre>");
            }
            JsonNode comments = Json.field(result, "comments");
            if (comments != null && comments.isArray() && comments.size() > 0) {
                b.append("<table><tr><th>File</th><th>Line</th><th>Severity</th><th>Comment</th><th>Suggestion</th></tr>");
                for (JsonNode c : comments) {
                    String line = Json.text(c, "line");
                    String end = Json.text(c, "endLine", "end_line");
                    b.append("<tr><td>").append(esc(Json.text(c, "path", "file")))
                            .append("</td><td>").append(esc(line)).append(end != null && !end.equals(line) ? "–" + esc(end) : "")
                            .append("</td><td class=\"").append(esc(Json.text(c, "severity"))).append("\">")
                            .append(esc(Json.text(c, "severity")))
                            .append("</td><td>").append(esc(Json.text(c, "message", "body")))
                            .append("</td><td>");
                    String suggestion = Json.text(c, "suggestion");
                    if (suggestion != null) {
                        b.append("<pre>").append(esc(suggestion)).append("</pre>");
                    }
                    b.append("</td></tr>");
                }
                b.append("</table>");
            } else {
                b.append("<p><small>No comments.</small></p>");
            }
        }

        b.append("<h2>Logs</h2><small>").append(t.logs().size()).append(" line(s)");
        if (t.droppedLogLines() > 0) {
            b.append(", ").append(t.droppedLogLines()).append(" not kept");
        }
        b.append("</small><pre>");
        for (LogLine l : t.logs()) {
            b.append("<span class=\"").append(esc(l.stream())).append("\">").append(esc(l.text())).append("</span>\n");
        }
        b.append("</pre>");
        return page("Task " + t.id(), b.toString(), !t.terminal());
    }

    private static void row(StringBuilder b, String name, String valueHtml) {
        b.append("<tr><th>").append(esc(name)).append("</th><td>").append(valueHtml).append("</td></tr>");
    }

    private static String repository(JsonNode task) {
        JsonNode repo = Json.field(task, "repository", "repo");
        if (repo == null) {
            return null;
        }
        if (repo.isTextual()) {
            return repo.asText();
        }
        String name = Json.text(repo, "fullName", "full_name");
        return name != null ? name : Json.text(repo, "url");
    }

    private static String page(String title, String body, boolean refresh) {
        return "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" + esc(title) + "</title>"
                + (refresh ? "<meta http-equiv=\"refresh\" content=\"2\">" : "")
                + "<style>" + STYLE + "</style></head><body><h1>" + esc(title) + "</h1>" + body
                + "<p><small>ai-review-runner dev server · JSON: <code>/api/admin/tasks</code>, "
                + "<code>/api/admin/runners</code> (token required)</small></p></body></html>";
    }

    private static String ago(Instant then, Instant now) {
        if (then == null) {
            return "never";
        }
        long ms = Math.max(0, Duration.between(then, now).toMillis());
        String rel = ms < 1000 ? ms + " ms ago" : (ms / 1000) + " s ago";
        return time(then) + " <small>(" + rel + ")</small>";
    }

    private static String time(Instant i) {
        return i == null ? "" : esc(i.toString());
    }

    static String esc(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    private static void html(HttpExchange ex, int status, String html) throws IOException {
        Http.send(ex, status, "text/html; charset=utf-8", html.getBytes(StandardCharsets.UTF_8));
    }
}

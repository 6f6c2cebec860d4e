package dev.aireview.runner.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aireview.runner.model.Json;

import java.time.Duration;

/**
 * The two dialects of the protocol the runner speaks at once (PROTOCOL.md): this protocol's fields and the AI
 * Review server's documented ones. The poll sends the documented {@code limit} next to {@code maxTasks} (same
 * value); the heartbeat's {@code status} stays within {@code online|busy|offline}, a drain being
 * {@code busy} + {@code "draining": true}.
 *
 * <p>Servers should ignore fields they do not know. One that answers 400 instead must not cost the runner its
 * tasks: a refused heartbeat would get the runner marked offline and its running tasks handed out again (run
 * twice), a refused poll would stop claiming. So a 400 to the full form is answered by sending the same call
 * once more in the minimal documented form (heartbeat: {@code status} only; poll: {@code runnerId} and
 * {@code limit}), and that form is kept from then on by this client. A 400 to the minimal form is an ordinary
 * rejection. Nothing is dropped either way: a 400 means the server took nothing from the call.
 */
final class Dialect {
    private volatile boolean minimalHeartbeat;
    private volatile boolean minimalPoll;

    boolean minimalHeartbeat() {
        return minimalHeartbeat;
    }

    boolean minimalPoll() {
        return minimalPoll;
    }

    void useMinimalHeartbeat() {
        minimalHeartbeat = true;
    }

    void useMinimalPoll() {
        minimalPoll = true;
    }

    /** True when a failure is a server refusing the request's form (HTTP 400), which a minimal form may pass. */
    static boolean refusedExtension(ServerException e) {
        return e.httpStatus() == 400;
    }

    static ObjectNode heartbeatBody(Heartbeat heartbeat, boolean minimal) {
        if (minimal) {
            ObjectNode body = Json.mapper().createObjectNode();
            body.put("status", heartbeat.status().wire());
            return body;
        }
        return Json.mapper().valueToTree(heartbeat);
    }

    static String pollPath(String runnerId, int maxTasks, Duration wait, boolean minimal) {
        String path = "/api/runners/tasks/pending?runnerId=" + HttpServerClient.enc(runnerId) + "&limit=" + maxTasks;
        return minimal ? path : path + "&maxTasks=" + maxTasks + "&waitMs=" + wait.toMillis();
    }
}

package dev.aireview.runner.server;

import java.util.List;

/** What the server answered to a heartbeat: the tasks it wants stopped. */
public record HeartbeatAnswer(List<String> cancelTaskIds) {
    public static final HeartbeatAnswer EMPTY = new HeartbeatAnswer(List.of());

    public HeartbeatAnswer {
        cancelTaskIds = cancelTaskIds == null ? List.of() : List.copyOf(cancelTaskIds);
    }
}

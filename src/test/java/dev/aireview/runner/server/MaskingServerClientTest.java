package dev.aireview.runner.server;

import dev.aireview.runner.model.ErrorKind;
import dev.aireview.runner.model.LogStream;
import dev.aireview.runner.model.ResultStatus;
import dev.aireview.runner.model.ReviewComment;
import dev.aireview.runner.model.Severity;
import dev.aireview.runner.model.TaskError;
import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.model.TaskStats;
import dev.aireview.runner.observability.SecretMasker;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Constructor;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MaskingServerClientTest {
    private static final String SECRET = "clone-tok_S3cret/value";
    private final SecretMasker masker = SecretMasker.of(List.of(SECRET));
    private final List<Object> sent = new ArrayList<>();
    private final ServerClient recording = new ServerClient() {
        @Override
        public void health() {
        }

        @Override
        public String register(Registration registration) {
            sent.add(registration);
            return "r";
        }

        @Override
        public HeartbeatAnswer heartbeat(String runnerId, Heartbeat heartbeat) {
            sent.add(heartbeat);
            return null;
        }

        @Override
        public List<ClaimedTask> poll(String runnerId, int maxTasks, Duration wait) {
            return List.of();
        }

        @Override
        public void status(String runnerId, String taskId, TaskPhase phase, String message) {
            sent.add(runnerId + "|" + taskId + "|" + message);
        }

        @Override
        public void logs(String runnerId, String taskId, long offset, List<LogLine> lines) {
            sent.add(lines);
        }

        @Override
        public void result(String runnerId, String taskId, TaskResult result) {
            sent.add(result);
        }
    };
    private final ServerClient client = new MaskingServerClient(recording, () -> masker);

    @Test
    void shouldMaskEveryTextOfEveryCall() throws Exception {
        client.status("run-1", "task-1", TaskPhase.CLONING, "cloning https://x:" + SECRET + "@h/r.git");
        client.logs("run-1", "task-1", 0, List.of(new LogLine(Instant.EPOCH, LogStream.STDOUT, "echo " + SECRET)));
        client.result("run-1", "task-1", new TaskResult(ResultStatus.FAILED, "summary " + SECRET,
                List.of(new ReviewComment("a/" + SECRET, 1, null, Severity.WARNING, "msg " + SECRET, "use " + SECRET)),
                new TaskError(ErrorKind.CLONE_FAILED, "fatal: " + SECRET), new TaskStats(1L, 2L, 3, 4)));
        client.heartbeat("run-1", new Heartbeat(RunnerStatus.BUSY, 1, 2, List.of("task-1")));

        assertEquals(4, sent.size());
        sent.forEach(s -> assertFalse(String.valueOf(s).contains(SECRET), String.valueOf(s)));
        assertEquals("run-1|task-1|cloning https://x:****@h/r.git", sent.get(0));
        TaskResult r = (TaskResult) sent.get(2);
        assertEquals("summary ****", r.summary());
        assertEquals("fatal: ****", r.error().message());
        assertEquals(ErrorKind.CLONE_FAILED, r.error().kind());
        assertEquals(new TaskStats(1L, 2L, 3, 4), r.stats());
        assertEquals(Instant.EPOCH, ((List<LogLine>) sent.get(1)).get(0).ts());
        assertEquals(List.of("task-1"), ((Heartbeat) sent.get(3)).runningTaskIds());
    }

    /** A guard for fields added later: every string anywhere in a body sent to the server is masked. */
    @Test
    void shouldMaskEveryStringComponentOfEveryBodyRecord() throws Exception {
        for (Class<?> body : List.of(TaskResult.class, LogLine.class, Heartbeat.class, Registration.class)) {
            Object value = filled(body, body);
            String before = value.toString();
            assertTrue(before.contains(SECRET), body + " has a text field the guard can fill: " + before);
            Object masked = MaskingServerClient.mask(value, masker);
            assertFalse(masked.toString().contains(SECRET), body.getSimpleName() + " leaks through: " + masked);
        }
    }

    @Test
    void shouldMaskMapsAndRefuseOtherCollections() {
        Object masked = MaskingServerClient.mask(java.util.Map.of("k " + SECRET, List.of("v " + SECRET)), masker);
        assertEquals(java.util.Map.of("k ****", List.of("v ****")), masked);
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> MaskingServerClient.mask(java.util.Set.of(SECRET), masker));
    }

    @Test
    void shouldWrapOnlyOnce() {
        ServerClient once = MaskingServerClient.wrap(recording);
        assertSame(once, MaskingServerClient.wrap(once));
    }

    /** An instance of record {@code type} with the secret in every String and List&lt;String&gt; component. */
    private static Object filled(Class<?> type, Type generic) throws Exception {
        if (type == String.class) {
            return "x " + SECRET;
        }
        if (type == List.class) {
            Type element = ((ParameterizedType) generic).getActualTypeArguments()[0];
            return List.of(filled((Class<?>) element, element));
        }
        if (type.isEnum()) {
            return type.getEnumConstants()[0];
        }
        if (type == int.class || type == Integer.class) {
            return 1;
        }
        if (type == long.class || type == Long.class) {
            return 1L;
        }
        if (type == double.class || type == Double.class) {
            return 1.0;
        }
        if (type == boolean.class || type == Boolean.class) {
            return true;
        }
        if (type == Instant.class) {
            return Instant.EPOCH;
        }
        if (type.isRecord()) {
            RecordComponent[] components = type.getRecordComponents();
            Object[] args = new Object[components.length];
            for (int i = 0; i < components.length; i++) {
                args[i] = filled(components[i].getType(), components[i].getGenericType());
            }
            Constructor<?> c = type.getDeclaredConstructor(Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new));
            c.setAccessible(true);
            return c.newInstance(args);
        }
        return null;
    }
}

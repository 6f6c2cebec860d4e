package dev.aireview.runner.server;

import dev.aireview.runner.model.TaskPhase;
import dev.aireview.runner.model.TaskResult;
import dev.aireview.runner.observability.SecretMasker;
import dev.aireview.runner.observability.Secrets;

import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The one masking boundary between the runner and the server: every text sent (status messages, log lines,
 * result summary, comments and error, heartbeat and registration fields) is masked here with the current secret
 * set ({@link Secrets}: the runner token and the clone token, AI key and URL credentials of every running task),
 * so no caller can forget it. The daemon wraps the clients it is given ({@link #wrap}).
 *
 * <p>Record bodies are masked by their components: every {@code String} component, every string in a
 * {@code List} or {@code Map}, recursively through nested records, so a field added to a body later is masked without anyone
 * remembering to. Identifiers in the path (runner id, task id) are not masked: they route the call.
 */
public final class MaskingServerClient implements ServerClient {
    private static final Map<Class<?>, Constructor<?>> CONSTRUCTORS = new ConcurrentHashMap<>();

    private final ServerClient delegate;
    private final Supplier<SecretMasker> masker;

    public MaskingServerClient(ServerClient delegate, Supplier<SecretMasker> masker) {
        this.delegate = delegate;
        this.masker = masker;
    }

    /** {@code client} behind the boundary, masking with {@link Secrets}; a client already behind it is returned as is. */
    public static ServerClient wrap(ServerClient client) {
        return client instanceof MaskingServerClient ? client : new MaskingServerClient(client, Secrets::masker);
    }

    @Override
    public void health() throws ServerException, InterruptedException {
        delegate.health();
    }

    @Override
    public String register(Registration registration) throws ServerException, InterruptedException {
        return delegate.register(mask(registration, masker.get()));
    }

    @Override
    public HeartbeatAnswer heartbeat(String runnerId, Heartbeat heartbeat) throws ServerException, InterruptedException {
        return delegate.heartbeat(runnerId, mask(heartbeat, masker.get()));
    }

    @Override
    public List<ClaimedTask> poll(String runnerId, int maxTasks, Duration wait) throws ServerException, InterruptedException {
        return delegate.poll(runnerId, maxTasks, wait);
    }

    @Override
    public void status(String runnerId, String taskId, TaskPhase phase, String message) throws ServerException, InterruptedException {
        delegate.status(runnerId, taskId, phase, masker.get().mask(message));
    }

    @Override
    public void logs(String runnerId, String taskId, long offset, List<LogLine> lines) throws ServerException, InterruptedException {
        delegate.logs(runnerId, taskId, offset, mask(lines, masker.get()));
    }

    @Override
    public void result(String runnerId, String taskId, TaskResult result) throws ServerException, InterruptedException {
        delegate.result(runnerId, taskId, mask(result, masker.get()));
    }

    /**
     * {@code value} with every text in it masked: a string, the elements of a list, the keys and values of a map, the
     * components of a record (by its canonical constructor); anything else (numbers, enums, instants) unchanged.
     */
    @SuppressWarnings("unchecked")
    static <T> T mask(T value, SecretMasker m) {
        if (value == null || m.isEmpty()) {
            return value;
        }
        if (value instanceof String s) {
            return (T) m.mask(s);
        }
        if (value instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            list.forEach(e -> out.add(mask(e, m)));
            return (T) out;
        }
        if (value instanceof Map<?, ?> map) {
            Map<Object, Object> out = new java.util.LinkedHashMap<>();
            map.forEach((k, v) -> out.put(mask(k, m), mask(v, m)));
            return (T) out;
        }
        if (value instanceof Collection<?>) {
            throw new IllegalArgumentException("cannot mask a " + value.getClass().getName() + ": use a List");
        }
        Class<?> type = value.getClass();
        if (!type.isRecord()) {
            return value;
        }
        RecordComponent[] components = type.getRecordComponents();
        Object[] args = new Object[components.length];
        try {
            for (int i = 0; i < components.length; i++) {
                args[i] = mask(components[i].getAccessor().invoke(value), m);
            }
            return (T) CONSTRUCTORS.computeIfAbsent(type, t -> canonical(t, components)).newInstance(args);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot mask a " + type.getName() + ": " + e, e);
        }
    }

    private static Constructor<?> canonical(Class<?> type, RecordComponent[] components) {
        try {
            Constructor<?> c = type.getDeclaredConstructor(Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new));
            c.setAccessible(true);
            return c;
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException("record " + type.getName() + " has no canonical constructor", e);
        }
    }
}

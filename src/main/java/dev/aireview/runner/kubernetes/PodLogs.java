package dev.aireview.runner.kubernetes;

import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.StreamType;
import dev.aireview.runner.docker.LogPump;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiConsumer;

import dev.aireview.runner.model.LogStream;

/**
 * Reads a task container's log (one {@code pods/log} call, at most {@link #MAX_BYTES}) through the Docker path's
 * {@link LogPump}: same line cutting, masking of cut pieces and tail. The task log's sink masks and caps as for Docker.
 */
final class PodLogs {
    /** Most bytes read of one container's log (the kubelet keeps about 10 MiB per container by default). */
    static final int MAX_BYTES = 8 << 20;

    private final KubernetesClient client;
    private final String namespace;

    PodLogs(KubernetesClient client, String namespace) {
        this.client = client;
        this.namespace = namespace;
    }

    /** Hands the log of {@code container} line by line to {@code sink}; the last lines, or a note why there are none. */
    List<String> pump(String pod, String container, BiConsumer<LogStream, String> sink) {
        LogPump pump = new LogPump(sink);
        try (InputStream in = client.pods().inNamespace(namespace).withName(pod).inContainer(container)
                .limitBytes(MAX_BYTES).getLogInputStream()) {
            byte[] buf = new byte[8192];
            int n;
            while (in != null && (n = in.read(buf)) > 0) {
                pump.onNext(new Frame(StreamType.STDOUT, Arrays.copyOf(buf, n)));
            }
        } catch (IOException | KubernetesClientException e) {
            sink.accept(LogStream.SYSTEM, "the log of the " + container + " container could not be read: " + e.getMessage());
        }
        pump.onComplete();
        pump.drain(1_000);
        return pump.tail();
    }

    /** The report container's whole log as text (at most {@code maxBytes}). */
    String read(String pod, String container, int maxBytes) {
        return client.pods().inNamespace(namespace).withName(pod).inContainer(container).limitBytes(maxBytes).getLog();
    }
}

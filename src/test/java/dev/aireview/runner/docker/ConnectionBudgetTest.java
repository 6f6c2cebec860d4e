package dev.aireview.runner.docker;

import com.github.dockerjava.transport.DockerHttpClient;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

class ConnectionBudgetTest {

    @Test
    void shouldSizeThePoolsFromTheWork() {
        ConnectionBudget forty = ConnectionBudget.of(40, 4);
        assertEquals(40 * ConnectionBudget.STREAMS_PER_TASK + 4 + ConnectionBudget.SPARE, forty.streaming(),
                "every one of 40 reviews can hold its streams (the old fixed pool of 64 ran out at the 33rd), and each of 4"
                        + " pooled containers its waiting checkout");
        assertTrue(forty.streaming() > 64);
        assertEquals(40 * ConnectionBudget.CALLS_PER_TASK + 4 + ConnectionBudget.SPARE, forty.ordinary());
        assertEquals(Duration.ofSeconds(30), forty.leaseWait());
    }

    @Test
    void shouldRefuseAtStartUpWhatTheOpenFileLimitCannotServe() {
        ConnectionBudget budget = ConnectionBudget.of(400, 10);
        DockerExecutorException e = assertThrows(DockerExecutorException.class, () -> budget.check(1024, 400, 10));
        assertTrue(e.getMessage().contains("RUNNER_MAX_CONCURRENT_JOBS=400") && e.getMessage().contains("ulimit -n"), e.getMessage());
        budget.check(1_048_576, 400, 10);
        budget.check(-1, 400, 10);
        ConnectionBudget.of(4, 0).check(1024, 4, 0);
    }

    /** A transport whose requests are held open until released. */
    private static final class HeldTransport implements DockerHttpClient {
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger executed = new AtomicInteger();

        @Override
        public Response execute(Request request) {
            executed.incrementAndGet();
            return new Response() {
                @Override
                public int getStatusCode() {
                    return 200;
                }

                @Override
                public Map<String, List<String>> getHeaders() {
                    return Map.of();
                }

                @Override
                public String getHeader(String name) {
                    return null;
                }

                @Override
                public InputStream getBody() {
                    return new ByteArrayInputStream(new byte[0]);
                }

                @Override
                public void close() {
                }
            };
        }

        @Override
        public void close() {
        }
    }

    @Test
    void shouldFailAStreamingCallAsAnInfrastructureErrorWhenNoConnectionComesFreeAndReuseAReturnedOne() throws Exception {
        HeldTransport transport = new HeldTransport();
        ConnectionBudget budget = new ConnectionBudget(1, 1, Duration.ofMillis(300));
        TimedDockerHttpClient client = new TimedDockerHttpClient(transport, transport, "unix:///x.sock", Duration.ofSeconds(10),
                Duration.ofSeconds(10), budget);
        DockerHttpClient.Request wait = DockerHttpClient.Request.builder().method(DockerHttpClient.Request.Method.POST)
                .path("/v1.45/containers/abc/wait").build();

        DockerHttpClient.Response first = client.execute(wait);
        UncheckedIOException e = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> assertThrows(UncheckedIOException.class,
                () -> client.execute(wait)));
        assertTrue(e.getMessage().contains("no streaming connection") && e.getMessage().contains("infrastructure failure"), e.getMessage());
        assertEquals(1, transport.executed.get(), "the second call never reached the transport");

        first.close();
        first.close(); // closing twice gives back one connection
        client.execute(wait).close();
        DockerHttpClient.Response a = client.execute(wait);
        assertThrows(UncheckedIOException.class, () -> client.execute(wait), "still one connection, not two");
        a.close();
        assertEquals(3, transport.executed.get());
    }
}

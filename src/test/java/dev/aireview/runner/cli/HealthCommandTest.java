package dev.aireview.runner.cli;

import dev.aireview.runner.observability.HealthReport;
import dev.aireview.runner.observability.HealthServer;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.*;

/** {@code ai-review-runner health} against a real {@link HealthServer} on a loopback port. */
class HealthCommandTest {
    record Run(int exit, String out, String err, long millis) {
    }

    private static Run run(Map<String, String> env, String... args) {
        HealthCommand cmd = new HealthCommand();
        cmd.environment = env;
        CommandLine cl = new CommandLine(cmd);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        long t0 = System.nanoTime();
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString(), (System.nanoTime() - t0) / 1_000_000);
    }

    static HealthReport healthy() {
        return new HealthReport(true, "online", "r-1", "runner-a", "1.0", Instant.now(), 100, 2, 1, List.of("t1"), null);
    }

    static HealthReport stale() {
        return new HealthReport(false, "online", "r-1", "runner-a", "1.0", Instant.now(), 99_000, 2, 0, List.of(),
                "last successful heartbeat was 99000 ms ago");
    }

    @Test
    void shouldExitZeroWhenTheEndpointAnswers200AndOneWithTheReasonWhenItAnswers503() throws Exception {
        AtomicReference<HealthReport> report = new AtomicReference<>(healthy());
        try (HealthServer server = HealthServer.start("127.0.0.1", 0, report::get)) {
            // the port comes from the runner's own variable, wildcard address = this host's loopback
            Run ok = run(Map.of("RUNNER_HEALTH_PORT", "0.0.0.0:" + server.port()));
            assertEquals(0, ok.exit(), ok.out() + ok.err());
            assertEquals("healthy: online, 1/2 slots busy", ok.out().trim());

            report.set(stale());
            Run bad = run(Map.of("RUNNER_HEALTH_PORT", Integer.toString(server.port())));
            assertEquals(1, bad.exit(), bad.out());
            assertEquals("unhealthy: HTTP 503 (online): last successful heartbeat was 99000 ms ago", bad.out().trim());
            assertEquals(1, bad.out().trim().lines().count(), "one line");

            // the flag wins over the variable
            report.set(healthy());
            Run flag = run(Map.of("RUNNER_HEALTH_PORT", "127.0.0.1:1"), "--health-port", "127.0.0.1:" + server.port());
            assertEquals(0, flag.exit(), flag.out());
        }
    }

    @Test
    void shouldExitOneWhenNothingListensOrThePortIsOffOrMalformed() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        Run refused = run(Map.of(), "--health-port", "127.0.0.1:" + closed);
        assertEquals(1, refused.exit());
        assertTrue(refused.out().startsWith("unhealthy: no answer from http://127.0.0.1:" + closed + "/health"), refused.out());

        Run off = run(Map.of());
        assertEquals(1, off.exit());
        assertTrue(off.err().contains("RUNNER_HEALTH_PORT is 0 (off)"), off.err());

        Run malformed = run(Map.of("RUNNER_HEALTH_PORT", "eighty"));
        assertEquals(1, malformed.exit());
        assertTrue(malformed.err().contains("use port or address:port"), malformed.err());
    }

    @Test
    void shouldGiveUpWithinItsTimeoutWhenTheEndpointNeverAnswers() throws Exception {
        // accepts the connection (backlog) but never answers
        try (ServerSocket silent = new ServerSocket(0, 4, InetAddress.getLoopbackAddress())) {
            Run r = run(Map.of(), "--health-port", "127.0.0.1:" + silent.getLocalPort(), "--timeout-ms", "500");
            assertEquals(1, r.exit(), r.out());
            assertTrue(r.out().startsWith("unhealthy: no answer from"), r.out());
            assertTrue(r.out().contains("Timeout"), r.out());
            assertTrue(r.millis() < Duration.ofSeconds(20).toMillis(), "bounded: " + r.millis() + " ms");
        }
    }
}

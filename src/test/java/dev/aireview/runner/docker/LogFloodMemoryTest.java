package dev.aireview.runner.docker;

import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.StreamType;
import dev.aireview.runner.observability.SecretMasker;
import dev.aireview.runner.scheduler.TaskLog;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several containers flood their output at once, in every shape, to a server that takes nothing: the heap held
 * stays within {@link TaskLog#heapBytesPerSlot} per slot (the figure stated in BENCHMARKS.md).
 */
class LogFloodMemoryTest {
    private static final int SLOTS = 4;
    private static final long LIMIT = 4L << 20; // the default RUNNER_LOG_LIMIT_BYTES
    private static final int FRAME = 64 * 1024;

    /** One shape: a frame's payload and how many frames of it a container prints. */
    private record Shape(String name, byte[] payload, int frames) {
    }

    private static byte[] repeat(byte[] unit, int size) {
        byte[] b = new byte[size - size % unit.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = unit[i % unit.length];
        }
        return b;
    }

    private static List<Shape> shapes() {
        byte[] longLine = new byte[16 * 1024 + 1];
        Arrays.fill(longLine, (byte) 'z');
        longLine[longLine.length - 1] = '\n';
        byte[] noNewline = new byte[FRAME];
        Arrays.fill(noNewline, (byte) 'n');
        return List.of(
                new Shape("empty lines", repeat(new byte[]{'\n'}, FRAME), 32),
                new Shape("1-byte lines", repeat(new byte[]{'x', '\n'}, FRAME), 64),
                new Shape("16 KiB lines", repeat(longLine, 4 * longLine.length), 256),
                new Shape("no newline", noNewline, 256),
                new Shape("invalid UTF-8", repeat(new byte[]{(byte) 0xC3, '(', (byte) 0xFF, (byte) 0xE2, (byte) 0x82, '\n'}, FRAME), 64),
                new Shape("1-byte lines again", repeat(new byte[]{'y', '\n'}, FRAME), 64));
    }

    private static long usedHeapAfterGc() {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    @Test
    void shouldHoldTheHeapPerSlotWhateverShapeSeveralContainersFlood() throws Exception {
        long before = usedHeapAfterGc();
        List<TaskLog> logs = new ArrayList<>();
        List<LogPump> pumps = new ArrayList<>();
        for (int i = 0; i < SLOTS; i++) {
            TaskLog log = new TaskLog(LIMIT, SecretMasker.none(), Clock.systemUTC());
            logs.add(log);
            pumps.add(new LogPump(log::append, LogPump.DEFAULT_MAX_LINE_BYTES, LogPump.DEFAULT_TAIL_LINES, SecretMasker::none));
        }
        ExecutorService containers = Executors.newFixedThreadPool(SLOTS);
        try {
            List<Future<Long>> maxHeld = new ArrayList<>();
            for (int i = 0; i < SLOTS; i++) {
                LogPump pump = pumps.get(i);
                TaskLog log = logs.get(i);
                maxHeld.add(containers.submit(() -> {
                    long max = 0;
                    for (Shape shape : shapes()) {
                        for (int f = 0; f < shape.frames(); f++) {
                            pump.onNext(new Frame(f % 2 == 0 ? StreamType.STDOUT : StreamType.STDERR, shape.payload()));
                            max = Math.max(max, log.bufferedBytes());
                        }
                    }
                    return max;
                }));
            }
            for (Future<Long> f : maxHeld) {
                assertTrue(f.get() <= LIMIT, "held cost within the log limit: " + f.get());
            }
        } finally {
            containers.shutdownNow();
        }
        long held = usedHeapAfterGc() - before;
        long perSlot = held / SLOTS;
        System.out.printf("log flood: %d slots held %d KiB of heap, %d KiB per slot (bound %d KiB)%n",
                SLOTS, held >> 10, perSlot >> 10, TaskLog.heapBytesPerSlot(LIMIT) >> 10);
        assertTrue(held <= SLOTS * TaskLog.heapBytesPerSlot(LIMIT),
                "heap held by " + SLOTS + " flooded slots: " + held + " bytes, over " + SLOTS + " x " + TaskLog.heapBytesPerSlot(LIMIT));
        for (TaskLog log : logs) {
            assertTrue(log.droppedLines() > 0, "the flood was capped");
            assertTrue(log.acceptedLines() > 2_000_000, "every shape went through: " + log.acceptedLines());
        }
        for (LogPump pump : pumps) {
            assertTrue(pump.bufferedHighWater() <= 2 * LogPump.DEFAULT_MAX_LINE_BYTES);
        }
    }
}

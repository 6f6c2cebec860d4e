package dev.aireview.runner.docker;

import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.StreamType;
import dev.aireview.runner.model.LogStream;
import dev.aireview.runner.observability.SecretMasker;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LogPumpTest {
    private final List<String> seen = new ArrayList<>();

    private static Frame frame(StreamType type, String text) {
        return new Frame(type, text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void shouldSplitLinesAcrossFramesPerStream() {
        LogPump pump = new LogPump((s, l) -> seen.add(s.wire() + ":" + l), 100, 3);
        pump.onNext(frame(StreamType.STDOUT, "hel"));
        pump.onNext(frame(StreamType.STDERR, "oops\r\nerr-"));
        pump.onNext(frame(StreamType.STDOUT, "lo\nworld\n\nlast"));
        pump.onComplete();
        pump.drain(1000);

        assertEquals(List.of("stderr:oops", "stdout:hello", "stdout:world", "stdout:", "stdout:last", "stderr:err-"), seen);
        assertEquals(List.of("stdout:", "last", "err-").size(), pump.tail().size());
        assertEquals(List.of("", "last", "err-"), pump.tail());
        assertEquals(6, pump.lines());
    }

    @Test
    void shouldCutOverlongLines() {
        LogPump pump = new LogPump((s, l) -> seen.add(l), 4, 20);
        pump.onNext(frame(StreamType.STDOUT, "abcdefghij\nxy"));
        pump.onComplete();
        pump.drain(1000);
        assertEquals(List.of("abcd", "efgh", "ij", "xy"), seen);
    }

    @Test
    void shouldNeverSplitASecretAcrossTheCutOfAnOverlongLine() {
        String secret = "sk-live-Secr3t/Token+value=99";
        SecretMasker masker = SecretMasker.of(List.of(secret));
        int max = 256;
        for (int offset = max - secret.length() - 2; offset <= max + 2; offset++) {
            List<String> pieces = new ArrayList<>();
            LogPump pump = new LogPump((st, l) -> pieces.add(l), max, 5, () -> masker);
            String line = "a".repeat(offset) + secret + "b".repeat(3 * max) + "\n";
            // in frames of 7 bytes, so the cut never coincides with a frame
            byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < bytes.length; i += 7) {
                pump.onNext(new Frame(StreamType.STDOUT, java.util.Arrays.copyOfRange(bytes, i, Math.min(bytes.length, i + 7))));
            }
            pump.onComplete();
            pump.drain(1000);

            assertTrue(pieces.size() > 1, "the line was cut");
            for (String piece : pieces) {
                for (int n = 4; n <= secret.length(); n++) {
                    for (int from = 0; from + n <= secret.length(); from += n) {
                        String part = secret.substring(from, from + n);
                        assertFalse(piece.contains(part) && !part.chars().allMatch(c -> c == 'a' || c == 'b'),
                                "offset " + offset + ": piece leaks '" + part + "': " + piece);
                    }
                }
            }
            String joined = String.join("", pieces);
            assertEquals(1, joined.split("\\*\\*\\*\\*", -1).length - 1, "masked once, offset " + offset + ": " + joined);
            assertEquals("a".repeat(offset) + "****" + "b".repeat(3 * max), joined, "nothing else lost or changed");
        }
    }

    @Test
    void shouldMaskPiecesWithTheRegisteredSecretsByDefault() {
        String secret = "registered-Secret-4711";
        dev.aireview.runner.observability.Secrets.register(secret);
        try {
            LogPump pump = new LogPump((s, l) -> seen.add(l), 64, 5);
            pump.onNext(frame(StreamType.STDOUT, "z".repeat(50) + secret + "z".repeat(100) + "\n"));
            pump.onComplete();
            pump.drain(1000);
            assertTrue(seen.size() > 1, seen.toString());
            assertTrue(seen.stream().noneMatch(l -> l.contains("registered") || l.contains("Secret-4711")), seen.toString());
        } finally {
            dev.aireview.runner.observability.Secrets.unregister(secret);
        }
    }

    @Test
    void shouldCutOnCharacterBoundaries() {
        LogPump pump = new LogPump((s, l) -> seen.add(l), 8, 20, SecretMasker::none);
        pump.onNext(frame(StreamType.STDOUT, "abcdeé€😀xyz\n"));
        pump.onComplete();
        pump.drain(1000);
        assertEquals("abcdeé€😀xyz", String.join("", seen));
        assertTrue(seen.stream().noneMatch(l -> l.contains("\uFFFD")), seen.toString());
        assertEquals(0, LogPump.completeUtf8(new byte[0]));
        assertEquals(1, LogPump.completeUtf8(java.util.Arrays.copyOf("a€".getBytes(StandardCharsets.UTF_8), 3)));
    }

    @Test
    void shouldHoldBoundedStateWhateverPassesThrough() {
        long[] count = new long[2];
        LogPump pump = new LogPump((s, l) -> {
            count[0]++;
            count[1] += l.length();
        });
        byte[] chunk = new byte[64 * 1024];
        java.util.Arrays.fill(chunk, (byte) 'a');
        for (int i = 0; i < chunk.length; i += 1000) {
            chunk[i] = '\n';
        }
        for (int i = 0; i < 800; i++) { // 50 MiB in frames of 64 KiB, plus one newline-free MiB
            pump.onNext(new Frame(i % 2 == 0 ? StreamType.STDOUT : StreamType.STDERR, chunk));
        }
        byte[] noNewline = new byte[1024 * 1024];
        java.util.Arrays.fill(noNewline, (byte) 'b');
        pump.onNext(new Frame(StreamType.STDOUT, noNewline));
        pump.onComplete();
        pump.drain(1000);

        assertEquals(800L * 64 * 1024 + 1024 * 1024, pump.bytes());
        assertEquals(pump.lines(), count[0]);
        assertEquals(800L * 64 * 1024 + 1024 * 1024 - 800L * 66, count[1], "every byte but the newlines delivered");
        assertEquals(LogPump.DEFAULT_TAIL_LINES, pump.tail().size());
        assertTrue(pump.bufferedHighWater() <= 2 * LogPump.DEFAULT_MAX_LINE_BYTES, "held " + pump.bufferedHighWater());
    }

    @Test
    void shouldIgnoreFramesAfterDrain() {
        LogPump pump = new LogPump((s, l) -> seen.add(l));
        pump.onComplete();
        pump.drain(1000);
        pump.onNext(frame(StreamType.STDOUT, "late\n"));
        assertEquals(List.of(), seen);
        assertEquals(LogStream.STDOUT, LogStream.valueOf("STDOUT"));
    }
}

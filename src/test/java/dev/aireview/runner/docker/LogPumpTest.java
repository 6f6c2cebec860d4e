package dev.aireview.runner.docker;

import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.StreamType;
import dev.aireview.runner.model.LogStream;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
    void shouldIgnoreFramesAfterDrain() {
        LogPump pump = new LogPump((s, l) -> seen.add(l));
        pump.onComplete();
        pump.drain(1000);
        pump.onNext(frame(StreamType.STDOUT, "late\n"));
        assertEquals(List.of(), seen);
        assertEquals(LogStream.STDOUT, LogStream.valueOf("STDOUT"));
    }
}

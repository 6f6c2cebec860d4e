package dev.aireview.runner.kubernetes;

import dev.aireview.runner.model.LogStream;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link LogFollower} fed by hand: timestamps stripped, resumes without duplicates, gaps said once, resumes bounded. */
class LogFollowerTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final List<String> notes = new ArrayList<>();
    private final LogFollower f = new LogFollower("review", (b, n) -> out.write(b, 0, n),
            (stream, line) -> notes.add(stream.wire() + ": " + line), Duration.ofMillis(100));

    private void feed(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        f.accept(b, 0, b.length);
    }

    private List<String> lines() {
        String s = out.toString(StandardCharsets.UTF_8);
        return s.isEmpty() ? List.of() : Arrays.asList(s.split("\n", -1)).subList(0, s.split("\n", -1).length - 1);
    }

    @Test
    void stripsTheTimestampAndCutsLinesAcrossChunks() {
        assertNull(f.sinceTime());
        f.opened();
        feed("2026-12-06T19:45:09.123456789Z first line\n2026-12-06T19:45:09.5Z sec");
        feed("ond line\n2026-12-06T19:45:10+01:00 with an offset\n");
        assertEquals(List.of("first line", "second line", "with an offset"), lines());
        assertEquals("2026-12-06T19:45:09Z", f.sinceTime(), "the latest timestamp, to the second (+01:00 is earlier, delivered all the same)");
    }

    @Test
    void aResumedStreamDeliversOnlyWhatIsNew() {
        f.opened();
        feed("2026-12-06T19:45:08.900Z old\n2026-12-06T19:45:09.100Z a\n2026-12-06T19:45:09.200Z b\n"
                + "2026-12-06T19:45:09.200Z tick\n2026-12-06T19:45:09.200Z tick\n2026-12-06T19:45:09.300Z half");
        assertEquals(LogFollower.Next.RESUME, f.ended(false), "closed while the container runs");
        assertEquals("2026-12-06T19:45:09Z", f.sinceTime());
        f.opened();
        // the kubelet sends again from the start of the second: a, then b and both ticks at the boundary timestamp
        feed("2026-12-06T19:45:09.100Z a\n2026-12-06T19:45:09.200Z b\n2026-12-06T19:45:09.200Z tick\n"
                + "2026-12-06T19:45:09.200Z tick\n2026-12-06T19:45:09.200Z tick\n2026-12-06T19:45:09.300Z half line\n"
                + "2026-12-06T19:45:10Z c\n");
        assertEquals(List.of("old", "a", "b", "tick", "tick", "tick", "half line", "c"), lines(),
                "identical timestamp + text at the boundary is a duplicate; a third tick at the same time is new");
        assertEquals(4, f.duplicates());
        assertTrue(notes.isEmpty(), notes.toString());
        assertEquals(LogFollower.Next.STOP, f.ended(true));
    }

    @Test
    void aResumeThatNoLongerHoldsTheLastLineSaysAGapOnce() {
        f.opened();
        feed("2026-12-06T19:45:09.100Z a\n");
        assertEquals(LogFollower.Next.RESUME, f.ended(false));
        f.opened();
        feed("2026-12-06T19:47:30.000Z after rotation\n2026-12-06T19:47:31.000Z more\n");
        assertEquals(List.of("a", "after rotation", "more"), lines());
        assertEquals(1, f.gaps());
        assertEquals(1, notes.size(), notes.toString());
        assertTrue(notes.get(0).contains("log gap") && notes.get(0).contains("2026-12-06T19:45:09.100Z")
                && notes.get(0).contains("2026-12-06T19:47:30Z"), notes.get(0));
    }

    @Test
    void aResumeThatStartsAtTheLastLineIsNoGapAndAnEmptyOneSaysNothing() {
        f.opened();
        feed("2026-12-06T19:45:09.100Z a\n");
        f.ended(false);
        f.opened();
        f.ended(false);
        f.opened();
        feed("2026-12-06T19:45:09.100Z a\n2026-12-06T19:50:00Z much later, but continuous\n");
        assertEquals(0, f.gaps());
        assertTrue(notes.isEmpty(), notes.toString());
        assertEquals(List.of("a", "much later, but continuous"), lines());
    }

    @Test
    void resumesAreBoundedWithBackoff() {
        f.opened();
        List<Duration> waits = new ArrayList<>();
        for (int i = 0; i < LogFollower.MAX_RESUMES; i++) {
            assertEquals(LogFollower.Next.RESUME, f.ended(false));
            waits.add(f.backoff());
            f.opened();
        }
        assertEquals(List.of(Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(400)), waits);
        assertEquals(LogFollower.Next.GIVE_UP, f.ended(false));
        assertEquals(1, notes.size());
        assertTrue(notes.get(0).startsWith(LogStream.SYSTEM.wire() + ": stopped following"), notes.get(0));
    }

    @Test
    void aLastLineWithoutNewlineIsDeliveredWhenTheContainerEnded() {
        f.opened();
        feed("2026-12-06T19:45:09Z done");
        assertEquals(LogFollower.Next.STOP, f.ended(true));
        assertEquals(List.of("done"), lines());
    }

    @Test
    void anOverlongLineIsPassedOnInPiecesOrDroppedWhole() {
        f.opened();
        String longText = "x".repeat(LogFollower.MAX_LINE_BYTES * 2);
        feed("2026-12-06T19:45:09.100Z " + longText + "\n");
        assertEquals(List.of(longText), lines());
        f.ended(false);
        f.opened();
        feed("2026-12-06T19:45:09.100Z " + longText + "\n2026-12-06T19:45:11Z next\n");
        assertEquals(List.of(longText, "next"), lines(), "the resumed copy of the long line is dropped whole");
    }

    @Test
    void aLineWithoutTimestampPassesAsItIs() {
        f.opened();
        feed("no timestamp here\n");
        assertEquals(List.of("no timestamp here"), lines());
        assertNull(f.last());
    }

    /**
     * The end race: the stream that was open while the container ended closed before its last lines. Seen ended, the
     * follower reads once more at once, from the second of its last line: the last lines arrive, none twice.
     */
    @Test
    void aStreamOpenWhenTheContainerEndedIsFollowedByOneFinalReadWithoutDuplicates() {
        f.opened(false);
        feed("2026-12-06T19:45:09.100Z a\n2026-12-06T19:45:09.200Z tick\n2026-12-06T19:45:09.200Z tick\n2026-12-06T19:45:09.300Z hal");
        assertEquals(LogFollower.Next.FINAL, f.closed(true, true), "closed as the container ended: one final read");
        assertEquals("2026-12-06T19:45:09Z", f.sinceTime(), "from the last timestamp delivered");
        assertEquals(1, f.resumes(), "the final read is one of the resumes (the API budget)");
        f.opened(true);
        feed("2026-12-06T19:45:09.100Z a\n2026-12-06T19:45:09.200Z tick\n2026-12-06T19:45:09.200Z tick\n"
                + "2026-12-06T19:45:09.300Z half line\n2026-12-06T19:45:09.900Z last words\n2026-12-06T19:45:09.950Z bye");
        assertEquals(LogFollower.Next.STOP, f.closed(true, true), "opened after the end: it held everything");
        assertEquals(List.of("a", "tick", "tick", "half line", "last words", "bye"), lines());
        assertEquals(3, f.duplicates());
        assertTrue(notes.isEmpty(), notes.toString());
    }

    @Test
    void aStreamOpenedAfterTheEndStopsAndOneStillRunningResumes() {
        f.opened(true);
        feed("2026-12-06T19:45:09Z all of it\n");
        assertEquals(LogFollower.Next.STOP, f.closed(true, true));
        assertEquals(0, f.resumes());
        LogFollower g = new LogFollower("review", (b, n) -> { }, (stream, line) -> { }, Duration.ofMillis(100));
        g.opened(false);
        assertEquals(LogFollower.Next.RESUME, g.closed(true, false), "closed while the container runs");
        g.opened(true);
        assertEquals(LogFollower.Next.RESUME, g.closed(false, true), "a failed stream after the end is resumed as before");
    }

    @Test
    void noFinalReadWhenTheResumesAreSpent() {
        f.opened(false);
        feed("2026-12-06T19:45:09.100Z a\n");
        for (int i = 0; i < LogFollower.MAX_RESUMES; i++) {
            assertEquals(LogFollower.Next.RESUME, f.closed(true, false));
            f.opened(false);
        }
        assertEquals(LogFollower.Next.GIVE_UP, f.closed(true, true));
        assertTrue(notes.get(0).contains("stopped following") && notes.get(0).contains("2026-12-06T19:45:09.100Z"), notes.toString());
    }
}

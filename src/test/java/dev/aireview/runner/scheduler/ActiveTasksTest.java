package dev.aireview.runner.scheduler;

import dev.aireview.runner.execution.CancelReason;
import dev.aireview.runner.execution.CancelSignal;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Task-id identity and slot permits, without threads. */
class ActiveTasksTest {

    @Test
    void shouldRefuseAnIdThatIsActiveOrRecentlyFinishedAndForgetTheOldest() {
        ActiveTasks active = new ActiveTasks();
        assertNotNull(active.admit("t-1"));
        assertNull(active.admit("t-1"), "active: refused");
        assertEquals(List.of("t-1"), active.ids());
        active.finish("t-1");
        assertNull(active.admit("t-1"), "finished: refused");
        for (int i = 0; i < ActiveTasks.REMEMBERED_FINISHED; i++) {
            assertNotNull(active.admit("other-" + i));
            active.finish("other-" + i);
        }
        assertNotNull(active.admit("t-1"), "memory is bounded: the oldest finished id is forgotten");
        assertNull(active.admit("other-" + (ActiveTasks.REMEMBERED_FINISHED - 1)), "recent ones are still remembered");
    }

    @Test
    void shouldCancelEveryTaskAdmittedAfterTheShutdownCancel() throws Exception {
        ActiveTasks active = new ActiveTasks();
        CancelSignal before = active.admit("a");
        active.cancelAllFromNowOn(CancelReason.RUNNER_SHUTDOWN);
        assertEquals(CancelReason.RUNNER_SHUTDOWN, before.reason());
        CancelSignal after = active.admit("b");
        assertEquals(CancelReason.RUNNER_SHUTDOWN, after.reason(), "a task handed over while cancelling is cancelled at once");
        assertFalse(active.awaitEmpty(Duration.ofMillis(10), () -> false));
        active.finish("a");
        active.finish("b");
        assertTrue(active.awaitEmpty(Duration.ofMillis(10), () -> false));
    }

    @Test
    void shouldReleaseASlotPermitExactlyOnce() throws Exception {
        SlotPool slots = new SlotPool(2);
        List<SlotPermit> permits = slots.acquireFree();
        assertEquals(2, permits.size());
        assertEquals(0, slots.free());
        assertTrue(permits.get(0).release());
        assertFalse(permits.get(0).release(), "a second release is a no-op");
        assertEquals(1, slots.free());
        assertNotNull(slots.acquireOne(() -> false));
        assertEquals(0, slots.free());
        assertNull(slots.acquireOne(() -> true), "gives up instead of waiting");
        permits.get(1).release();
        assertFalse(slots.awaitIdle(Duration.ofMillis(10), () -> false), "one permit is still out");
    }
}

import com.sun.management.GarbageCollectionNotificationInfo;

import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Heap held while a poll-answer scanner reads the largest answers it accepts, fed in 16 KiB pieces as the HTTP
 * client delivers them and generated as they are fed (the answer itself is never in memory). Run by
 * bench/scanner-heap.sh under the runner's shipped heap flags, one JVM per scanner class. Reports the heap used after
 * GC above the baseline: the largest seen by any GC (the collector's own and one forced after every MiB fed; a
 * transient between two, e.g. the copy of a kept entry, may be missed, alike for every scanner), and after finish
 * (the result, and the scanner while still reachable). Prints, asserts nothing.
 */
public class ScannerHeap {
    static final int PIECE = 16 << 10;
    static final AtomicLong maxAfterGc = new AtomicLong();

    public static void main(String[] args) throws Exception {
        String cls = args[0];
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            ((NotificationEmitter) gc).addNotificationListener((n, h) -> {
                if (n.getType().equals(GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION)) {
                    long used = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData()).getGcInfo()
                            .getMemoryUsageAfterGc().values().stream().mapToLong(MemoryUsage::getUsed).sum();
                    maxAfterGc.accumulateAndGet(used, Math::max);
                }
            }, null, null);
        }
        int taskCap = 16 << 20;
        long scanCap = 256L << 20;
        Object[][] answers = {
                {"largest kept task: one string of 16 MiB - 64 B", (long) taskCap - 64},
                {"one string of 24 MiB (the first branch's string bound), task skipped", 24L << 20},
                {"largest answer: one string to the 256 MiB scan bound", scanCap},
        };
        for (Object[] a : answers) {
            run(cls, (String) a[0], (long) a[1]);
        }
    }

    private static long usedAfterGc() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static void run(String cls, String what, long stringBytes) throws Exception {
        Class<?> c = Class.forName(cls);
        Constructor<?> k = c.getDeclaredConstructor();
        k.setAccessible(true);
        Method feed = c.getDeclaredMethod("feed", byte[].class, int.class, int.class);
        Method finish = c.getDeclaredMethod("finish");
        Method stopped = c.getDeclaredMethod("stopped");
        feed.setAccessible(true);
        finish.setAccessible(true);
        stopped.setAccessible(true);
        byte[] start = "{\"data\":[{\"id\":\"big\",\"p\":\"".getBytes(StandardCharsets.US_ASCII);
        byte[] end = "\"},{\"id\":\"after\"}]}".getBytes(StandardCharsets.US_ASCII);
        long total = start.length + stringBytes + end.length;
        long base = usedAfterGc();
        maxAfterGc.set(0);
        long sampled = 0;
        long fed = 0;
        String outcome;
        Object result = null;
        long t0 = System.nanoTime();
        try {
            Object s = k.newInstance();
            byte[] piece = new byte[PIECE];
            while (fed < total && !(boolean) stopped.invoke(s)) {
                int n = (int) Math.min(PIECE, total - fed);
                for (int i = 0; i < n; i++) {
                    long at = fed + i;
                    piece[i] = at < start.length ? start[(int) at]
                            : at < start.length + stringBytes ? (byte) 'x' : end[(int) (at - start.length - stringBytes)];
                }
                feed.invoke(s, piece, 0, n);
                fed += n;
                if (fed % (1 << 20) < PIECE) {
                    sampled = Math.max(sampled, usedAfterGc());
                }
            }
            result = finish.invoke(s);
            outcome = describe(result);
        } catch (java.lang.reflect.InvocationTargetException e) {
            outcome = e.getCause() + " after " + fed / 1048576 + " MiB fed";
        } catch (OutOfMemoryError e) {
            outcome = e + " after " + fed / 1048576 + " MiB fed";
        }
        long atEnd = usedAfterGc();
        long peak = Math.max(sampled, maxAfterGc.get());
        System.out.printf("  %-72s peak %6.1f MiB, after finish %5.1f MiB, %5.1f s with the GCs; %s%n", what + ":",
                (peak - base) / 1048576.0, (atEnd - base) / 1048576.0, (System.nanoTime() - t0) / 1e9, outcome);
        result = null;
    }

    private static String describe(Object result) throws Exception {
        StringBuilder b = new StringBuilder();
        for (String m : new String[]{"error", "truncated", "size"}) {
            Method x = result.getClass().getDeclaredMethod(m);
            x.setAccessible(true);
            b.append(m).append('=').append(x.invoke(result)).append(' ');
        }
        Method entries = result.getClass().getDeclaredMethod("entries");
        entries.setAccessible(true);
        java.util.List<?> list = (java.util.List<?>) entries.invoke(result);
        b.append("entries=[");
        for (Object e : list) {
            Method id = e.getClass().getDeclaredMethod("id");
            Method skip = e.getClass().getDeclaredMethod("skip");
            Method complete = e.getClass().getDeclaredMethod("complete");
            id.setAccessible(true);
            skip.setAccessible(true);
            complete.setAccessible(true);
            b.append(id.invoke(e)).append(complete.invoke(e).equals(true) ? "" : " (cut)")
                    .append(skip.invoke(e).toString().equals("NONE") ? "" : " " + skip.invoke(e)).append(", ");
        }
        return b.append(']').toString().replace(", ]", "]");
    }
}

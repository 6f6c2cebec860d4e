import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Throughput of the poll-answer scanner, old (hand-written tokeniser) against new (Jackson's non-blocking parser),
 * on generated answers fed in 16 KiB pieces as the HTTP client delivers them. Not a test: run by
 * bench/scanner-throughput.sh, which compiles the old class from git as OldTaskListScanner beside the new one.
 */
public class ScannerThroughput {
    public static void main(String[] args) throws Exception {
        String[] classes = {"dev.aireview.runner.server.OldTaskListScanner", "dev.aireview.runner.server.TaskListScanner"};
        String[][] answers = {
                {"one 20 MiB task (skipped, over the task cap)", "[" + task("big", "x".repeat(20 << 20)) + "]"},
                {"one 12 MiB task (kept)", "[" + task("big", "x".repeat(12 << 20)) + "]"},
                {"9000 small tasks (~1 KiB each)", many(9000, 800)},
                {"non-ASCII heavy (8 MiB of é😀日本語 in 8 tasks)", nonAscii()},
        };
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 9;
        for (String[] a : answers) {
            byte[] body = a[1].getBytes(StandardCharsets.UTF_8);
            System.out.printf("%s, %.1f MiB:%n", a[0], body.length / 1048576.0);
            for (String cls : classes) {
                double[] mbs = new double[rounds];
                int entries = 0;
                for (int r = 0; r < rounds + 2; r++) { // two warm-up rounds
                    long t0 = System.nanoTime();
                    entries = run(cls, body);
                    double s = (System.nanoTime() - t0) / 1e9;
                    if (r >= 2) {
                        mbs[r - 2] = body.length / 1048576.0 / s;
                    }
                }
                Arrays.sort(mbs);
                System.out.printf("  %-20s median %7.1f MiB/s  best %7.1f MiB/s  (%d entries)%n",
                        cls.substring(cls.lastIndexOf('.') + 1), mbs[rounds / 2], mbs[rounds - 1], entries);
            }
        }
    }

    private static int run(String cls, byte[] body) throws Exception {
        Class<?> c = Class.forName(cls);
        Constructor<?> k = c.getDeclaredConstructor();
        k.setAccessible(true);
        Object s = k.newInstance();
        Method feed = c.getDeclaredMethod("feed", byte[].class, int.class, int.class);
        Method finish = c.getDeclaredMethod("finish");
        feed.setAccessible(true);
        finish.setAccessible(true);
        for (int off = 0; off < body.length; off += 16384) {
            feed.invoke(s, body, off, Math.min(16384, body.length - off));
        }
        Object result = finish.invoke(s);
        Method entries = result.getClass().getDeclaredMethod("entries");
        entries.setAccessible(true);
        Object list = entries.invoke(result);
        Method error = result.getClass().getDeclaredMethod("error");
        error.setAccessible(true);
        if (error.invoke(result) != null) {
            throw new IllegalStateException(cls + ": " + error.invoke(result));
        }
        return ((java.util.List<?>) list).size();
    }

    private static String task(String id, String patch) {
        return "{\"id\":\"" + id + "\",\"repository\":{\"url\":\"http://127.0.0.1/r.git\"},\"headSha\":\"0123456789abcdef\","
                + "\"files\":[{\"path\":\"src/a.ts\",\"patch\":\"" + patch + "\"}],\"timeoutSeconds\":600}";
    }

    private static String many(int n, int patch) {
        StringBuilder b = new StringBuilder("{\"data\":[");
        for (int i = 0; i < n; i++) {
            b.append(i == 0 ? "" : ",").append(task("t-" + i, "+ line \\\"" + i + "\\\"\\n".repeat(patch / 10)));
        }
        return b.append("]}").toString();
    }

    private static String nonAscii() {
        StringBuilder b = new StringBuilder("[");
        String chunk = "é😀日本語 ü ß \\u00e9 ";
        for (int i = 0; i < 8; i++) {
            b.append(i == 0 ? "" : ",").append(task("u-" + i, chunk.repeat((1 << 20) / chunk.getBytes(StandardCharsets.UTF_8).length)));
        }
        return b.append("]").toString();
    }
}

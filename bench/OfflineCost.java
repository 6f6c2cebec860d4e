import dev.aireview.runner.review.*;
import dev.aireview.runner.review.rules.*;
import java.lang.management.*;
import java.util.*;
/**
 * CPU of the offline reviewer on a generated 40 MiB diff (issue 20 goal: 2 s): java -cp target/classes:DEPS bench/OfflineCost.java
 * [secrets]. With {@code secrets}, every line is a fake key of a known format, a generated value assigned to a secret-like
 * name, or a high-entropy look-alike (checksum, integrity hash, UUID, base64 image, placeholder, environment lookup).
 */
public class OfflineCost {
  static String rnd(Random r, String alphabet, int n) { StringBuilder b = new StringBuilder(); for (int i = 0; i < n; i++) b.append(alphabet.charAt(r.nextInt(alphabet.length()))); return b.toString(); }
  static String[] secretKinds() {
    Random r = new Random(7); String an = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    return new String[]{"    api_key = \"" + rnd(r, an, 32) + "\"", "  const session = \"ey" + "J" + rnd(r, an, 30) + ".ey" + "J" + rnd(r, an, 60) + "." + rnd(r, an, 43) + "\";",
      "  \"integrity\": \"sha512-" + rnd(r, an + "+/", 86) + "==\",", "REQUEST_ID = \"" + new UUID(r.nextLong(), r.nextLong()) + "\"",
      ".logo { background: url(data:image/png;base64," + rnd(r, an + "+/", 600) + "=); }", "    password = \"hunter2-Sup3r\"",
      "  static final String KEY = \"AKIA" + "XXXXXXXXXXXXXXXX\"; // " + rnd(r, "0123456789abcdef", 64),
      "  secret := os.Getenv(\"SECRET\") // gh" + "p_" + rnd(r, an, 36)};
  }

  public static void main(String[] a) {
    StringBuilder d = new StringBuilder();
    String[] kinds = {"    const total = items.reduce((s, i) => s + i.price * i.qty, 0); // sum of the cart",
      "    password_hint = compute_hint(user, \"a3f9c0d1e2b4a5968778\")", "        if (x != null && x.getValue().length() > 200) { return process(x); }",
      "  token := os.Getenv(\"API_TOKEN\")", "    # TODO: handle the empty case", "    print(f\"{name}: {value}\")", "    url = \"https://example.org/a/b?c=d\""};
    if (a.length > 0 && a[0].equals("secrets")) kinds = secretKinds(); // the secret rule's planted keys and look-alikes
    int file = 0;
    while (d.length() < 40 << 20) {
      String ext = new String[]{"js","py","java","go"}[file % 4];
      d.append("diff --git a/src/f").append(file).append('.').append(ext).append(" b/src/f").append(file).append('.').append(ext)
       .append("\nnew file mode 100644\n--- /dev/null\n+++ b/src/f").append(file).append('.').append(ext).append("\n@@ -0,0 +1,2000 @@\n");
      for (int i = 0; i < 2000; i++) d.append('+').append(kinds[(i + file) % kinds.length]).append(' ').append(i).append('\n');
      file++;
    }
    String diff = d.toString();
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    for (int round = 0; round < 2; round++) {
      long p0 = os.getProcessCpuTime(); // every thread: the JIT compilers and the GC too
      long c0 = mx.getCurrentThreadCpuTime();
      List<FileDiff> files = UnifiedDiffParser.parse(diff);
      long c1 = mx.getCurrentThreadCpuTime();
      List<Finding> f = new ArrayList<>();
      for (Rule r : OfflineReviewer.defaultRules()) { long t0 = mx.getCurrentThreadCpuTime(); int n = f.size(); r.check(files, f::add);
        System.out.printf("  %s %d ms, %d findings%n", r.id(), (mx.getCurrentThreadCpuTime() - t0) / 1_000_000, f.size() - n); }
      long c2 = mx.getCurrentThreadCpuTime();
      long p1 = os.getProcessCpuTime();
      System.out.printf("round %d: %.1f MiB, %d files: parse %d ms CPU, rules %d ms CPU, %d findings; process (all threads) %d ms CPU%n", round,
          diff.length() / 1048576.0, files.size(), (c1 - c0) / 1_000_000, (c2 - c1) / 1_000_000, f.size(), (p1 - p0) / 1_000_000);
      // the whole offline review as the executor runs it: rules, then the selection of the comments and the summary
      long r0 = mx.getCurrentThreadCpuTime();
      var result = new OfflineReviewer().review(new ChangeSet(files, "bench"), List.of(), Progress.none());
      long r1 = mx.getCurrentThreadCpuTime();
      System.out.printf("round %d: whole review (rules, selection, summary) %d ms CPU, %d comments, result hash %08x%n", round,
          (r1 - r0) / 1_000_000, result.comments().size(), (result.summary() + result.comments()).hashCode());
    }
  }
}

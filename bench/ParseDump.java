import dev.aireview.runner.review.*;
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.*;
/**
 * A hash of every structure {@code UnifiedDiffParser} makes of each of the last 1 500 non-merge commits' diffs of local
 * clones (paths, change type, binary, mode, hunks, every line's kind, numbers, text and end-of-file flag; and the same diff
 * read as one file's patch), one line per commit: a change meant only to make the parser cheaper must print the same.
 *
 *   java -cp target/classes bench/ParseDump.java /path/to/clone ... > parsed.txt
 */
public class ParseDump {
  public static void main(String[] a) throws Exception {
    for (String repo : a) {
      Process p = new ProcessBuilder("git", "-C", repo, "log", "--format=%H", "-n", "1500", "--no-merges").start();
      List<String> shas = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
      for (String sha : shas) {
        Process d = new ProcessBuilder("git", "-C", repo, "show", "--format=", "-p", "--no-color", "-M", sha).redirectErrorStream(true).start();
        String diff = new String(d.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        List<FileDiff> files = UnifiedDiffParser.parse(diff);
        StringBuilder b = new StringBuilder();
        for (FileDiff f : files) {
          b.append(f.path()).append('|').append(f.oldPath()).append('|').append(f.change()).append('|').append(f.binary()).append('|').append(f.mode()).append('\n');
          for (Hunk h : f.hunks()) {
            b.append(h.oldStart()).append(',').append(h.oldCount()).append(',').append(h.newStart()).append(',').append(h.newCount()).append(',').append(h.section()).append('\n');
            for (DiffLine l : h.lines()) b.append(l.kind()).append(l.oldLine()).append(':').append(l.newLine()).append(l.noNewlineAtEnd()).append(l.text()).append('\n');
          }
        }
        // the same diff as one file's patch too (the task's files[].patch path)
        FileDiff patch = UnifiedDiffParser.parsePatch("p", null, null, diff.replaceFirst("(?s)^.*?\n@@", "@@"));
        b.append(patch.hunks().size()).append(patch.addedLines().size());
        System.out.println(sha.substring(0, 12) + " " + files.size() + " " + Integer.toHexString(b.toString().hashCode()) + " " + b.length());
      }
    }
  }
}

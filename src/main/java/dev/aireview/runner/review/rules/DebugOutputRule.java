package dev.aireview.runner.review.rules;

import dev.aireview.runner.model.Severity;
import dev.aireview.runner.review.DiffLine;
import dev.aireview.runner.review.FileDiff;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Leftover debug output and breakpoints, per language (by file extension): {@code console.log} and
 * {@code debugger} in JavaScript/TypeScript, {@code System.out.println}/{@code printStackTrace} on the JVM,
 * {@code print(}/{@code breakpoint()}/{@code pdb} in Python, {@code fmt.Println} in Go, {@code var_dump} in PHP,
 * {@code binding.pry} in Ruby, {@code dbg!} in Rust, {@code Console.WriteLine} in C#.
 * Breakpoints are errors (they stop the program); stray output is a warning; output that is often
 * intended (Python {@code print}, Go {@code fmt.Println}) is info. Commented-out lines are ignored. Output is what
 * tests, examples, benchmarks, scripts and command-line entry points are for: their stray output is not reported
 * (breakpoints and debugging-only output such as Go's builtin {@code println} or Rust's {@code dbg!} still are), nor is output in a Python {@code if __name__ == "__main__":} block or in a file whose
 * shown lines declare a program entry ({@code static void main(}, {@code fun main(}, {@code package main}, Python's
 * top-level {@code def main(}). In C-family files comments are left out across lines ({@link BlockComments}): the
 * {@code console.log} of a doc comment's {@code @example} is documentation, not output.
 */
public final class DebugOutputRule implements Rule {

    /**
     * @param debugOnly output that is for debugging in any code (Go's builtin {@code println}, Rust's {@code dbg!})
     * @param hints literals one of which every match of {@code pattern} contains: the pattern runs only on lines
     *              that hold one (none: it always runs)
     */
    private record Check(Pattern pattern, Severity severity, String message, String suggestion, boolean debugOnly, String... hints) {
        Check(Pattern pattern, Severity severity, String message, String suggestion, String... hints) {
            this(pattern, severity, message, suggestion, false, hints);
        }
    }

    /** A language's checks, with the hints of them all looked for in one pass over a line (group bit {@code i}: check {@code i}). */
    private record Checks(List<Check> list, Literals hints, long always) {
        static final Checks NONE = new Checks(List.of(), null, 0);

        static Checks of(List<Check> list) {
            Literals.Builder b = Literals.builder();
            long always = 0;
            for (int i = 0; i < list.size(); i++) {
                if (list.get(i).hints().length == 0) {
                    always |= 1L << i;
                } else {
                    b.add(1L << i, list.get(i).hints());
                }
            }
            return new Checks(list, always == (1L << list.size()) - 1 ? null : b.build(), always);
        }

        /** Bit {@code i} set: check {@code i} may match the line (it holds one of the check's hints, or it has none). */
        long mayMatch(Literals.Line line) {
            return hints == null ? always : always | hints.find(line) & ~Literals.NON_ASCII;
        }
    }

    private static final Set<String> JS = Set.of("js", "jsx", "ts", "tsx", "mjs", "cjs", "mts", "cts", "vue", "svelte");
    private static final Set<String> JVM = Set.of("java", "kt", "kts", "scala", "groovy");

    private static final List<Check> JS_CHECKS = List.of(
            new Check(Pattern.compile("\\bconsole\\.(log|debug|trace|dir|table)\\s*\\("), Severity.WARNING,
                    "Leftover `console.%s` call: remove it or use the project's logger.", null, "console."),
            new Check(Pattern.compile("^\\s*debugger\\s*;?\\s*$|[;{]\\s*debugger\\s*;"), Severity.ERROR,
                    "`debugger` statement left in: it pauses execution whenever developer tools are open.",
                    "Remove the `debugger` statement.", "debugger"));
    private static final List<Check> JVM_CHECKS = List.of(
            new Check(Pattern.compile("\\bSystem\\.(out|err)\\.print(ln|f)?\\s*\\("), Severity.WARNING,
                    "`System.%s.print…` in committed code: use a logger so the output has a level and context.", null, "System."),
            new Check(Pattern.compile("\\.printStackTrace\\s*\\(\\s*\\)"), Severity.WARNING,
                    "`printStackTrace()` writes to stderr without context: log the exception (or rethrow it) instead.", null, "printStackTrace"));
    private static final List<Check> KOTLIN_CHECKS = List.of(
            new Check(Pattern.compile("^\\s*println\\s*\\("), Severity.WARNING,
                    "Leftover `println(`: use a logger for diagnostic output.", null, "println"));
    private static final List<Check> PY_CHECKS = List.of(
            new Check(Pattern.compile("\\bbreakpoint\\s*\\(\\s*\\)|\\bi?pdb\\.set_trace\\s*\\(|^\\s*import\\s+i?pdb\\b"),
                    Severity.ERROR, "Debugger breakpoint left in: the program will stop here and wait for input.",
                    "Remove the breakpoint.", "breakpoint", "pdb"),
            new Check(Pattern.compile("^\\s*print\\s*\\("), Severity.INFO,
                    "`print()` left in: use `logging` unless this is intended command-line output.", null, "print"));
    private static final List<Check> GO_CHECKS = List.of(
            new Check(Pattern.compile("\\bfmt\\.Print(ln|f)?\\s*\\("), Severity.INFO,
                    "`fmt.Print…` writes straight to stdout: use the logger unless this is intended output.", null, "fmt.Print"),
            new Check(Pattern.compile("^\\s*print(ln)?\\s*\\("), Severity.WARNING,
                    "Built-in `print`/`println` writes to stderr and is meant for debugging only.", null, true, "print"));
    private static final List<Check> PHP_CHECKS = List.of(
            new Check(Pattern.compile("\\b(var_dump|print_r|var_export|dd|dump|debug_zval_dump)\\s*\\("), Severity.WARNING,
                    "Leftover `%s()` debug output: remove it before merging.", null));
    private static final List<Check> RUBY_CHECKS = List.of(
            new Check(Pattern.compile("\\bbinding\\.(pry|irb)\\b|^\\s*(byebug|debugger)\\b"), Severity.ERROR,
                    "Debugger breakpoint left in: the process will stop here.", "Remove the breakpoint.", "binding.", "byebug", "debugger"));
    private static final List<Check> RUST_CHECKS = List.of(
            new Check(Pattern.compile("\\bdbg!\\s*\\("), Severity.WARNING,
                    "Leftover `dbg!` macro: it prints to stderr; remove it before merging.", null, true, "dbg!"));
    private static final List<Check> CS_CHECKS = List.of(
            new Check(Pattern.compile("\\bDebugger\\.Break\\s*\\("), Severity.ERROR,
                    "`Debugger.Break()` left in.", "Remove the breakpoint.", "Debugger.Break"),
            new Check(Pattern.compile("\\bConsole\\.Write(Line)?\\s*\\("), Severity.WARNING,
                    "`Console.Write…` in committed code: use `ILogger` for diagnostic output.", null, "Console.Write"));

    /** C-family extensions: block comments are followed across lines; {@code '} quotes a literal except in Rust (lifetimes). */
    private static final Set<String> BLOCK_COMMENTS = Set.of("js", "jsx", "ts", "tsx", "mjs", "cjs", "mts", "cts", "java", "kt", "kts",
            "scala", "groovy", "go", "rs", "cs", "php");

    private static final Map<String, Checks> BY_EXTENSION = Map.ofEntries(
            Map.entry("py", Checks.of(PY_CHECKS)), Map.entry("go", Checks.of(GO_CHECKS)), Map.entry("php", Checks.of(PHP_CHECKS)),
            Map.entry("rb", Checks.of(RUBY_CHECKS)), Map.entry("rs", Checks.of(RUST_CHECKS)), Map.entry("cs", Checks.of(CS_CHECKS)));
    private static final Checks JS_ALL = Checks.of(JS_CHECKS);
    private static final Checks JVM_ALL = Checks.of(JVM_CHECKS);
    private static final Checks KOTLIN_ALL = Checks.of(concat(JVM_CHECKS, KOTLIN_CHECKS));

    @Override
    public String id() {
        return "debug-output";
    }

    @Override
    public String title() {
        return "leftover debug output and breakpoints";
    }

    @Override
    public void check(List<FileDiff> files, List<Finding> out) {
        Literals.Line line = new Literals.Line();
        for (FileDiff f : files) {
            if (FileKinds.skipLineRules(f)) {
                continue;
            }
            Checks checks = checksFor(f.extension());
            if (checks.list().isEmpty()) {
                continue;
            }
            boolean outputIsThePoint = FileKinds.isTestExampleOrScript(f) || declaresEntryPoint(f, line);
            int mainBlockFrom = mainBlockStart(f);
            Map<Integer, String> code = BLOCK_COMMENTS.contains(f.extension()) && anyMayMatch(f, checks, line)
                    ? BlockComments.codeOfAddedLines(f, !f.extension().equals("rs")) : null;
            for (DiffLine l : f.addedLines()) {
                if (FileKinds.isCommentLine(l.text())) {
                    continue;
                }
                String text = code == null ? l.text() : code.getOrDefault(l.newLine(), l.text());
                if (text.isBlank()) {
                    continue;
                }
                boolean intended = outputIsThePoint || mainBlockFrom > 0 && l.newLine() > mainBlockFrom;
                long may = checks.mayMatch(line.load(text));
                for (int i = 0; may != 0 && i < checks.list().size(); i++) {
                    Check c = checks.list().get(i);
                    if (intended && c.severity() != Severity.ERROR && !c.debugOnly()) {
                        continue;
                    }
                    if ((may & 1L << i) == 0) {
                        continue;
                    }
                    var m = c.pattern().matcher(text);
                    if (m.find()) {
                        String msg = c.message().contains("%s") ? c.message().replace("%s", m.group(1)) : c.message();
                        out.add(new Finding(id(), f.path(), l.newLine(), null, c.severity(), msg, c.suggestion()));
                        break;
                    }
                }
            }
        }
    }

    /** Some added line holds a literal of some check: only then is the file's code worth separating from its comments. */
    private static boolean anyMayMatch(FileDiff f, Checks checks, Literals.Line line) {
        for (var h : f.hunks()) {
            for (DiffLine l : h.lines()) {
                if (l.isAdded() && checks.mayMatch(line.load(l.text())) != 0) {
                    return true;
                }
            }
        }
        return false;
    }

    private static final Pattern ENTRY_POINT = Pattern.compile("\\bstatic\\s+(?:public\\s+)?void\\s+main\\s*\\(|^\\s*fun\\s+main\\s*\\(|^package\\s+main\\b"
            + "|^\\s*(?:pub\\s+)?fn\\s+main\\s*\\(|^def\\s+main\\s*\\(|\\bstatic\\s+(?:async\\s+)?(?:void|int|Task)\\s+Main\\s*\\(");
    private static final Pattern PY_MAIN = Pattern.compile("^if\\s+__name__\\s*==\\s*['\"]__main__['\"]\\s*:");

    /** Every match of {@link #ENTRY_POINT} holds it ({@code main}, {@code Main}). */
    private static final Literals ENTRY_POINT_HINT = Literals.of("ain");

    /** A line shown of the file (added or context) declares a program's entry point. */
    private static boolean declaresEntryPoint(FileDiff f, Literals.Line line) {
        for (var h : f.hunks()) {
            for (DiffLine l : h.lines()) {
                if (l.kind() != DiffLine.Kind.REMOVED && ENTRY_POINT_HINT.anyIn(line.load(l.text())) && ENTRY_POINT.matcher(l.text()).find()) {
                    return true;
                }
            }
        }
        return false;
    }

    /** The new-file line of a Python {@code if __name__ == "__main__":} shown in the diff, or 0. */
    private static int mainBlockStart(FileDiff f) {
        if (!f.extension().equals("py")) {
            return 0;
        }
        for (var h : f.hunks()) {
            for (DiffLine l : h.lines()) {
                if (l.kind() != DiffLine.Kind.REMOVED && l.text().contains("__main__") && PY_MAIN.matcher(l.text()).find()) {
                    return l.newLine();
                }
            }
        }
        return 0;
    }

    private static Checks checksFor(String ext) {
        if (JS.contains(ext)) {
            return JS_ALL;
        }
        if (JVM.contains(ext)) {
            return ext.startsWith("kt") ? KOTLIN_ALL : JVM_ALL;
        }
        return BY_EXTENSION.getOrDefault(ext, Checks.NONE);
    }

    private static List<Check> concat(List<Check> a, List<Check> b) {
        List<Check> all = new java.util.ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}

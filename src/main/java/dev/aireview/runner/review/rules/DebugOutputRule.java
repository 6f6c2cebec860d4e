package dev.aireview.runner.review.rules;

import dev.aireview.runner.model.Severity;
import dev.aireview.runner.review.DiffLine;
import dev.aireview.runner.review.FileDiff;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
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

        boolean mayMatch(String text) {
            if (hints.length == 0) {
                return true;
            }
            for (String h : hints) {
                if (text.contains(h)) {
                    return true;
                }
            }
            return false;
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
    private static final List<Check> KT_CHECKS = concat(JVM_CHECKS, KOTLIN_CHECKS);
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

    private static final Map<String, List<Check>> BY_EXTENSION = Map.ofEntries(
            Map.entry("py", PY_CHECKS), Map.entry("go", GO_CHECKS), Map.entry("php", PHP_CHECKS),
            Map.entry("rb", RUBY_CHECKS), Map.entry("rs", RUST_CHECKS), Map.entry("cs", CS_CHECKS));

    @Override
    public String id() {
        return "debug-output";
    }

    @Override
    public String title() {
        return "leftover debug output and breakpoints";
    }

    @Override
    public void check(List<FileDiff> files, Consumer<Finding> out) {
        for (FileDiff f : files) {
            if (FileKinds.skipLineRules(f)) {
                continue;
            }
            List<Check> checks = checksFor(f.extension());
            if (checks.isEmpty()) {
                continue;
            }
            AnyLiteral hints = HINTS.get(checks);
            if (!anyMayMatch(f, checks, hints)) {
                continue; // no added line holds a literal of any check: none can match (the lines are then tested as they are)
            }
            boolean outputIsThePoint = FileKinds.isTestExampleOrScript(f) || declaresEntryPoint(f);
            int mainBlockFrom = mainBlockStart(f);
            Map<Integer, String> code = BLOCK_COMMENTS.contains(f.extension())
                    ? BlockComments.codeOfAddedLines(f, !f.extension().equals("rs")) : null;
            for (DiffLine l : f.addedLines()) {
                if (FileKinds.isCommentLine(l.text())) {
                    continue;
                }
                String text = code == null ? l.text() : code.getOrDefault(l.newLine(), l.text());
                if (text.isBlank()) {
                    continue;
                }
                if (hints != null && !hints.in(text)) {
                    continue; // one pass for every check's literals: most lines hold none
                }
                boolean intended = outputIsThePoint || mainBlockFrom > 0 && l.newLine() > mainBlockFrom;
                for (Check c : checks) {
                    if (intended && c.severity() != Severity.ERROR && !c.debugOnly()) {
                        continue;
                    }
                    if (!c.mayMatch(text)) {
                        continue;
                    }
                    var m = c.pattern().matcher(text);
                    if (m.find()) {
                        String msg = c.message().contains("%s") ? c.message().replace("%s", m.group(1)) : c.message();
                        out.accept(new Finding(id(), f.path(), l.newLine(), null, c.severity(), msg, c.suggestion()));
                        break;
                    }
                }
            }
        }
    }

    /**
     * The literals of every check of a list, as one prefilter, for lists of two or more literals whose checks all have
     * hints (a hint-less check's pattern runs on every line; one literal is one {@code contains} anyway).
     */
    private static final Map<List<Check>, AnyLiteral> HINTS = hintsByList();

    private static Map<List<Check>, AnyLiteral> hintsByList() {
        Map<List<Check>, AnyLiteral> m = new java.util.IdentityHashMap<>();
        for (List<Check> checks : List.of(JS_CHECKS, JVM_CHECKS, KT_CHECKS, PY_CHECKS, GO_CHECKS, PHP_CHECKS, RUBY_CHECKS,
                RUST_CHECKS, CS_CHECKS)) {
            String[] literals = checks.stream().flatMap(c -> java.util.Arrays.stream(c.hints())).distinct().toArray(String[]::new);
            if (checks.stream().allMatch(c -> c.hints().length > 0) && literals.length > 1) {
                m.put(checks, new AnyLiteral(literals));
            }
        }
        return m;
    }

    /** Some added line holds a literal of some check: only then is the file's code worth separating from its comments. */
    private static boolean anyMayMatch(FileDiff f, List<Check> checks, AnyLiteral hints) {
        for (DiffLine l : f.addedLines()) {
            if (hints != null) {
                if (hints.in(l.text())) {
                    return true;
                }
                continue;
            }
            for (Check c : checks) {
                if (c.mayMatch(l.text())) {
                    return true;
                }
            }
        }
        return false;
    }

    private static final Pattern ENTRY_POINT = Pattern.compile("\\bstatic\\s+(?:public\\s+)?void\\s+main\\s*\\(|^\\s*fun\\s+main\\s*\\(|^package\\s+main\\b"
            + "|^\\s*(?:pub\\s+)?fn\\s+main\\s*\\(|^def\\s+main\\s*\\(|\\bstatic\\s+(?:async\\s+)?(?:void|int|Task)\\s+Main\\s*\\(");
    private static final Pattern PY_MAIN = Pattern.compile("^if\\s+__name__\\s*==\\s*['\"]__main__['\"]\\s*:");

    /** A line shown of the file (added or context) declares a program's entry point. */
    private static boolean declaresEntryPoint(FileDiff f) {
        for (var h : f.hunks()) {
            for (DiffLine l : h.lines()) {
                if (l.kind() != DiffLine.Kind.REMOVED && l.text().contains("ain") && ENTRY_POINT.matcher(l.text()).find()) {
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

    private static List<Check> checksFor(String ext) {
        if (JS.contains(ext)) {
            return JS_CHECKS;
        }
        if (JVM.contains(ext)) {
            return ext.startsWith("kt") ? KT_CHECKS : JVM_CHECKS;
        }
        return BY_EXTENSION.getOrDefault(ext, List.of());
    }

    private static List<Check> concat(List<Check> a, List<Check> b) {
        List<Check> all = new java.util.ArrayList<>(a);
        all.addAll(b);
        return List.copyOf(all);
    }
}

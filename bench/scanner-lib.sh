# Sourced by bench/scanner-heap.sh and bench/scanner-throughput.sh (from the project root): $cp, target/classes and the
# Jackson jars of the pom's version from the local repository (the dependency plugin may not be cached offline), and
# scanner_at REV NAME DIR: TaskListScanner as it was at REV, renamed NAME, written to DIR/NAME.java.
jv=$(sed -n 's:.*<jackson.version>\(.*\)</jackson.version>.*:\1:p' pom.xml)
m2=${M2_REPO:-$HOME/.m2/repository}/com/fasterxml/jackson/core
cp="target/classes:$m2/jackson-core/$jv/jackson-core-$jv.jar:$m2/jackson-databind/$jv/jackson-databind-$jv.jar"
cp="$cp:$(ls "$m2"/jackson-annotations/"${jv%.*}"*/jackson-annotations-*.jar | head -1)"
scanner_at() {
  git show "$1:src/main/java/dev/aireview/runner/server/TaskListScanner.java" \
    | sed "s/\bTaskListScanner\b/$2/g" > "$3/$2.java"
}

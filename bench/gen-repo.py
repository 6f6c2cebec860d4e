#!/usr/bin/env python3
"""A real-size git repository for bench/run.sh --real-repo (issue 19), generated deterministically.

    python3 bench/gen-repo.py [DIR]    prints the repository's path; default DIR
                                       ~/.cache/ai-review-bench/gen-v<VERSION>.git, regenerated only if missing

One fixed seed, fixed dates and identities, so every run yields the same commits (the same SHA of master); the
objects are streamed into `git fast-import` (no work tree, no file on disk), then `git repack -adf` deltifies the
history as any real repository's pack is (fast-import only deltas a blob against the blob written just before it).

Shape: an initial import of a source tree (Java, Python, TypeScript, Go, C, Markdown, YAML; lines of realistic
length drawn per language from templates with identifiers and words, so mostly compressible text; a few larger
generated data files and binary assets), then COMMITS commits on master, each touching a handful of files: edits of
a block of lines, new files, deletions, and now and then a regenerated data file or replaced asset. A file's content
is kept as indices into per-language line pools, so the generator holds no file text in memory.
"""
import array
import os
import random
import subprocess
import sys
import time

VERSION = 2  # bump whenever the output changes; the cache is keyed by it
SEED = 19
INITIAL_FILES = 21_000
COMMITS = 2_000  # after the initial import
EPOCH = 1_600_000_000

WORDS = ("the a of to in is for on with as by at from that this it be are was not or and if when then else "
         "value result request response buffer cache entry index offset length count size limit timeout retry "
         "client server task runner worker queue event handler state error status config option token user "
         "file path name id key hash commit branch tree blob object stream reader writer parser token node "
         "list map set array item element child parent first last next previous start end open close read write "
         "update delete create insert select check verify validate compute resolve load store flush sync lock "
         "never always only once twice every each none all some many few more less most least since until "
         "because before after while during against between through under over into onto out off up down").split()


def ident_pool(rng, n):
    syl = ["ab", "ac", "al", "an", "ar", "as", "ba", "be", "bo", "ca", "ce", "co", "cu", "da", "de", "di", "do",
           "el", "en", "er", "ex", "fa", "fi", "fo", "ga", "ge", "go", "ha", "he", "hi", "in", "is", "ja", "ka",
           "la", "le", "li", "lo", "ma", "me", "mi", "mo", "na", "ne", "no", "nu", "op", "or", "pa", "pe", "pi",
           "po", "qu", "ra", "re", "ri", "ro", "sa", "se", "si", "so", "ta", "te", "ti", "to", "tr", "ul", "un",
           "va", "ve", "vi", "wa", "we", "xe", "yo", "za", "ze"]
    out = set()
    while len(out) < n:
        out.add("".join(rng.choice(syl) for _ in range(rng.randint(2, 4))))
    return sorted(out)


class Lines:
    """Per-language line makers; each returns one line (with newline) of realistic length."""

    def __init__(self, rng):
        self.r = rng
        self.ids = ident_pool(rng, 40_000)

    def i(self):
        return self.r.choice(self.ids)

    def I(self):
        return self.i().capitalize() + self.i().capitalize()

    def w(self, lo, hi):
        r = self.r
        return " ".join(r.choice(WORDS) for _ in range(r.randint(lo, hi)))

    def n(self):
        return str(self.r.randint(0, 99_999))

    def java(self):
        r, i, I = self.r, self.i, self.I
        ind = "    " * r.randint(1, 4)
        k = r.randint(0, 11)
        if k == 0:
            return f"{ind}// {self.w(4, 14)}\n"
        if k == 1:
            return f"{ind}private final {I()} {i()}{I()};\n"
        if k == 2:
            return f"{ind}public {I()} {i()}({I()} {i()}, int {i()}) throws {I()}Exception {{\n"
        if k == 3:
            return f"{ind}if ({i()} == null || {i()}.{i()}() > {self.n()}) {{\n"
        if k == 4:
            return f"{ind}return {i()}.{i()}({i()}, \"{self.w(1, 5)}\");\n"
        if k == 5:
            return f"{ind}}}\n"
        if k == 6:
            return f"{ind}{I()} {i()} = new {I()}({i()}, {self.n()}L);\n"
        if k == 7:
            return f"{ind}for (int {i()} = 0; {i()} < {i()}.size(); {i()}++) {{\n"
        if k == 8:
            return f"{ind}throw new IllegalStateException(\"{self.w(3, 9)}: \" + {i()});\n"
        if k == 9:
            return f"{ind} * {self.w(6, 16)}\n"
        if k == 10:
            return f"{ind}{i()}.{i()}({i()}.{i()}(), {i()}::{i()});\n"
        return "\n"

    def py(self):
        r, i, I = self.r, self.i, self.I
        ind = "    " * r.randint(0, 3)
        k = r.randint(0, 9)
        if k == 0:
            return f"{ind}# {self.w(4, 14)}\n"
        if k == 1:
            return f"{ind}def {i()}_{i()}(self, {i()}, {i()}={self.n()}):\n"
        if k == 2:
            return f"{ind}if {i()} is None or len({i()}) > {self.n()}:\n"
        if k == 3:
            return f"{ind}return {i()}.{i()}({i()}, \"{self.w(1, 5)}\")\n"
        if k == 4:
            return f"{ind}{i()}_{i()} = {I()}({i()}={i()}, {i()}=[{self.n()}, {self.n()}])\n"
        if k == 5:
            return f"{ind}for {i()} in self.{i()}.{i()}():\n"
        if k == 6:
            return f"{ind}raise {I()}Error(f\"{self.w(3, 8)} {{{i()}}}\")\n"
        if k == 7:
            return f"{ind}\"\"\"{self.w(5, 15)}.\"\"\"\n"
        if k == 8:
            return f"{ind}self.{i()} = {i()}.get(\"{i()}\", {self.n()})\n"
        return "\n"

    def ts(self):
        r, i, I = self.r, self.i, self.I
        ind = "  " * r.randint(0, 4)
        k = r.randint(0, 9)
        if k == 0:
            return f"{ind}// {self.w(4, 14)}\n"
        if k == 1:
            return f"{ind}export function {i()}{I()}({i()}: {I()}, {i()}: number): Promise<{I()}> {{\n"
        if k == 2:
            return f"{ind}const {i()} = await {i()}.{i()}({{ {i()}: {self.n()}, {i()}: '{self.w(1, 4)}' }});\n"
        if k == 3:
            return f"{ind}if (!{i()} || {i()}.length > {self.n()}) {{\n"
        if k == 4:
            return f"{ind}return {i()}.map(({i()}) => {i()}.{i()}).filter(Boolean);\n"
        if k == 5:
            return f"{ind}}}\n"
        if k == 6:
            return f"{ind}import {{ {I()}, {I()} }} from './{i()}/{i()}';\n"
        if k == 7:
            return f"{ind}throw new Error(`{self.w(3, 8)} ${{{i()}}}`);\n"
        if k == 8:
            return f"{ind}{i()}: {I()} | undefined;\n"
        return "\n"

    def go(self):
        r, i, I = self.r, self.i, self.I
        ind = "\t" * r.randint(0, 3)
        k = r.randint(0, 9)
        if k == 0:
            return f"{ind}// {self.w(4, 14)}\n"
        if k == 1:
            return f"{ind}func ({i()} *{I()}) {I()}(ctx context.Context, {i()} {I()}) (*{I()}, error) {{\n"
        if k == 2:
            return f"{ind}if err := {i()}.{I()}({i()}); err != nil {{\n"
        if k == 3:
            return f"{ind}return nil, fmt.Errorf(\"{self.w(2, 6)}: %w\", err)\n"
        if k == 4:
            return f"{ind}{i()} := make(map[string]{I()}, {self.n()})\n"
        if k == 5:
            return f"{ind}}}\n"
        if k == 6:
            return f"{ind}for _, {i()} := range {i()}.{I()} {{\n"
        if k == 7:
            return f"{ind}{I()} {I()} `json:\"{i()}\"`\n"
        if k == 8:
            return f"{ind}{i()}.{I()}({i()}, {self.n()})\n"
        return "\n"

    def c(self):
        r, i = self.r, self.i
        ind = "\t" * r.randint(0, 3)
        k = r.randint(0, 9)
        if k == 0:
            return f"{ind}/* {self.w(4, 14)} */\n"
        if k == 1:
            return f"static int {i()}_{i()}(struct {i()} *{i()}, const char *{i()}, size_t {i()})\n"
        if k == 2:
            return f"{ind}if (!{i()} || {i()}->{i()} > {self.n()})\n"
        if k == 3:
            return f"{ind}return error(_(\"{self.w(2, 7)} '%s'\"), {i()});\n"
        if k == 4:
            return f"{ind}{i()}->{i()} = xcalloc({self.n()}, sizeof(*{i()}->{i()}));\n"
        if k == 5:
            return f"{ind}}}\n"
        if k == 6:
            return f"{ind}for ({i()} = 0; {i()} < {i()}->nr; {i()}++) {{\n"
        if k == 7:
            return f"#define {i().upper()}_{i().upper()} {self.n()}\n"
        if k == 8:
            return f"{ind}{i()}_{i()}(&{i()}, {i()}, {self.n()});\n"
        return "\n"

    def md(self):
        r = self.r
        k = r.randint(0, 7)
        if k == 0:
            return f"## {self.w(2, 6).capitalize()}\n"
        if k == 1:
            return f"- `{self.i()}`: {self.w(6, 16)}.\n"
        if k == 2:
            return "\n"
        return f"{self.w(10, 20).capitalize()} `{self.i()}` {self.w(3, 8)}.\n"

    def yaml(self):
        r, i = self.r, self.i
        ind = "  " * r.randint(0, 4)
        k = r.randint(0, 5)
        if k == 0:
            return f"{ind}# {self.w(3, 10)}\n"
        if k == 1:
            return f"{ind}{i()}: {self.n()}\n"
        if k == 2:
            return f"{ind}- name: {i()}-{i()}\n"
        if k == 3:
            return f"{ind}{i()}_{i()}: \"{self.w(1, 5)}\"\n"
        return f"{ind}{i()}:\n"

    def data(self):
        r = self.r
        return (f"{r.randint(0, 10**9)},{self.i()},{r.random():.6f},{r.randint(-10**6, 10**6)},"
                f"\"{self.w(1, 4)}\",{r.getrandbits(64):016x}\n")


LANGS = [  # extension, weight, top directory
    ("java", 26, "services"), ("py", 18, "tools"), ("ts", 20, "web"), ("go", 14, "cmd"), ("c", 10, "native"),
    ("md", 6, "docs"), ("yaml", 6, "deploy")]
MAKER = {"java": "java", "py": "py", "ts": "ts", "go": "go", "c": "c", "md": "md", "yaml": "yaml", "csv": "data"}


class Gen:
    def __init__(self, out):
        self.r = random.Random(SEED)
        self.lines = Lines(self.r)
        self.out = out
        self.pool = {}  # extension -> list of lines; new lines are appended, never reused by a later edit
        self.files = {}  # path -> ("text", ext, array of pool indices) or ("bin", size, seed)
        self.t = EPOCH
        self.ids = self.lines.ids
        self.total = 0

    def fresh(self, ext, n):
        make = getattr(self.lines, MAKER[ext])
        pool = self.pool.setdefault(ext, [])
        start = len(pool)
        pool.extend(make() for _ in range(n))
        return array.array("I", range(start, start + n))

    def drawn(self, ext, n):
        """n lines of a new file: mostly drawn from the pool (lines recur across files), a third new."""
        pool = self.pool.get(ext)
        if not pool or len(pool) < 5000:
            return self.fresh(ext, n)
        k = n // 3
        idx = array.array("I", self.r.choices(range(len(pool)), k=n - k))
        idx.extend(self.fresh(ext, k))
        return idx

    def text(self, ext, idx):
        pool = self.pool[ext]
        return "".join(pool[i] for i in idx).encode()

    def content(self, path):
        f = self.files[path]
        if f[0] == "text":
            return self.text(f[1], f[2])
        return random.Random(f[2]).randbytes(f[1])

    def emit(self, path):
        data = self.content(path)
        self.total += len(data)
        w = self.out.write
        w(b"M 100644 inline " + path.encode() + b"\n")
        w(b"data %d\n" % len(data))
        w(data)
        w(b"\n")

    def new_path(self):
        r = self.r
        ext, _, top = r.choices(LANGS, weights=[l[1] for l in LANGS])[0]
        t = [l[2] for l in LANGS].index(top)
        while True:
            # 25 modules under each top directory, 12 package names shared by all modules: ~2 100 directories of
            # about ten files each (v1 drew each level from hundreds of names: 36 000 directories of one file or none)
            d = f"{top}/{self.ids[25 * t + r.randrange(25)]}/{self.ids[200 + r.randrange(12)]}"
            p = f"{d}/{r.choice(self.ids)}{r.choice(self.ids).capitalize()}.{ext}"
            if p not in self.files:
                return p, ext

    def nlines(self):
        # log-normal: median ~165 lines (~8 KB), mean ~12 KB, a long tail of big files
        return max(3, min(6000, int(self.r.lognormvariate(5.1, 0.9))))

    def commit(self, msg, ops):
        self.t += self.r.randint(300, 40_000)
        who = self.r.choice(["Ada Lovelace <ada@example.invalid>", "Alan Turing <alan@example.invalid>",
                             "Grace Hopper <grace@example.invalid>", "Edsger Dijkstra <edsger@example.invalid>",
                             "Barbara Liskov <barbara@example.invalid>", "Ken Thompson <ken@example.invalid>"])
        m = msg.encode()
        w = self.out.write
        w(b"commit refs/heads/master\n")
        w(b"author %s %d +0000\ncommitter %s %d +0000\n" % (who.encode(), self.t, who.encode(), self.t))
        w(b"data %d\n%s\n" % (len(m), m))
        for kind, path in ops:
            if kind == "D":
                w(b"D " + path.encode() + b"\n")
            else:
                self.emit(path)
        w(b"\n")

    def run(self):
        r = self.r
        ops = []
        for _ in range(INITIAL_FILES):
            p, ext = self.new_path()
            self.files[p] = ("text", ext, self.drawn(ext, self.nlines()))
            ops.append(("M", p))
        # a few larger files: generated data tables (text) and binary assets (incompressible)
        self.data = []
        for k in range(16):
            p = f"testdata/fixtures/{self.ids[k]}_{self.ids[k + 50]}.csv"
            self.files[p] = ("text", "csv", self.fresh("csv", r.randint(5_000, 15_000)))
            self.data.append(p)
            ops.append(("M", p))
        self.assets = []
        for k in range(10):
            p = f"web/assets/img/{self.ids[k + 100]}.png"
            self.files[p] = ("bin", r.randint(300_000, 1_500_000), r.getrandbits(63))
            self.assets.append(p)
            ops.append(("M", p))
        self.commit("Initial import", ops)
        paths = sorted(self.files)
        for c in range(COMMITS):
            ops = []
            touched = set()
            for _ in range(r.randint(2, 8)):
                k = r.random()
                if k < 0.756:  # edit: replace a block of lines by new ones, maybe grow
                    p = r.choice(paths)
                    f = self.files.get(p)
                    if f is None or f[0] != "text" or f[1] == "csv" or p in touched:
                        continue
                    idx = f[2]
                    a = r.randrange(len(idx))
                    b = min(len(idx), a + r.randint(1, 40))
                    new = self.fresh(f[1], r.randint(1, 50))
                    self.files[p] = ("text", f[1], idx[:a] + new + idx[b:])
                    ops.append(("M", p))
                elif k < 0.93:  # a new file
                    p, ext = self.new_path()
                    self.files[p] = ("text", ext, self.drawn(ext, self.nlines()))
                    paths.append(p)
                    ops.append(("M", p))
                elif k < 0.976:  # delete
                    p = r.choice(paths)
                    if p not in self.files or p in self.data or p in self.assets or p in touched:
                        continue
                    del self.files[p]
                    ops.append(("D", p))
                elif k < 0.996:  # a regenerated data table
                    p = r.choice(self.data)
                    if p in touched:
                        continue
                    self.files[p] = ("text", "csv", self.fresh("csv", r.randint(5_000, 15_000)))
                    ops.append(("M", p))
                else:  # a replaced asset
                    p = r.choice(self.assets)
                    if p in touched:
                        continue
                    self.files[p] = ("bin", r.randint(300_000, 1_500_000), r.getrandbits(63))
                    ops.append(("M", p))
                touched.add(ops[-1][1])
            if not ops:
                p = r.choice(self.data)
                self.files[p] = ("text", "csv", self.fresh("csv", 2_000))
                ops.append(("M", p))
            self.commit(f"{r.choice(['Fix', 'Add', 'Refactor', 'Speed up', 'Document', 'Test'])} "
                        f"{self.lines.w(2, 7)} in {ops[0][1].split('/')[0]}", ops)
            if c % 200 == 199:  # drop deleted paths from the choice list now and then
                paths = sorted(self.files)


def main():
    target = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                             os.path.expanduser(f"~/.cache/ai-review-bench/gen-v{VERSION}.git"))
    if os.path.exists(os.path.join(target, "gen-complete")):
        print(target)
        return
    tmp = target + ".tmp"
    subprocess.run(["rm", "-rf", tmp], check=True)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    subprocess.run(["git", "init", "-q", "--bare", "-b", "master", tmp], check=True)
    t0 = time.monotonic()
    fi = subprocess.Popen(["git", "-C", tmp, "fast-import", "--quiet", "--depth=50"], stdin=subprocess.PIPE)
    g = Gen(fi.stdin)
    g.run()
    fi.stdin.close()
    if fi.wait() != 0:
        sys.exit("git fast-import failed")
    t1 = time.monotonic()
    subprocess.run(["git", "-C", tmp, "repack", "-adfq"], check=True)
    subprocess.run(["git", "-C", tmp, "prune-packed"], check=True)
    t2 = time.monotonic()
    head = subprocess.run(["git", "-C", tmp, "rev-parse", "master"], check=True, capture_output=True, text=True).stdout.strip()
    pack = sum(os.path.getsize(os.path.join(tmp, "objects/pack", f)) for f in os.listdir(os.path.join(tmp, "objects/pack"))
               if f.endswith(".pack"))
    files = int(subprocess.run(f"git -C {tmp} ls-tree -r master | wc -l", shell=True, check=True, capture_output=True,
                               text=True).stdout)
    commits = int(subprocess.run(["git", "-C", tmp, "rev-list", "--count", "master"], check=True, capture_output=True,
                                 text=True).stdout)
    summary = (f"generator v{VERSION} seed {SEED}: master {head}, {commits} commits, {files} files at master, "
               f"{g.total / 1e6:.0f} MB of blob content streamed, pack {pack / 1e6:.0f} MB; "
               f"fast-import {t1 - t0:.0f} s, repack -adf {t2 - t1:.0f} s\n")
    with open(os.path.join(tmp, "gen-complete"), "w") as f:
        f.write(summary)
    subprocess.run(["rm", "-rf", target], check=True)  # a partial one of an interrupted run
    os.rename(tmp, target)
    sys.stderr.write("[gen-repo] " + summary)
    print(target)


if __name__ == "__main__":
    main()

package dev.aireview.runner.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aireview.runner.model.Json;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.regex.Pattern;

/**
 * Splits a poll answer into its task entries as its bytes arrive, never holding the whole answer: a small
 * structural JSON scanner (strings and their escapes, nesting, literals; UTF-8 needs nothing special, since no
 * byte of a multi-byte character is ASCII). It finds the task list of every shape {@link PollAnswer} reads
 * ({@code {"data": [...]}}, a bare list, {@code {"tasks"|"items": [...]}} at the root or in {@code data}, a single
 * task object) and keeps each entry's bytes for Jackson, up to {@link #MAX_TASK_BYTES} per task and
 * {@link #MAX_KEPT_BYTES} per answer. An entry over either is skipped in constant memory while the scanner still
 * picks up its depth-1 {@code id}/{@code taskId}/{@code task_id} (wherever in the entry it appears, read as
 * {@code ReviewTask.idOf} reads it), so that task gets its own {@code failed/bad_task} result and the tasks after
 * it are read.
 *
 * <p>Bounds, so that no answer can exhaust the runner's small heap ({@code -Xmx128m}): the kept bytes above, at
 * most {@link #MAX_ENTRIES} entries and {@link #MAX_SCAN_BYTES} scanned. Past either of the last two, or at a
 * structural error, scanning stops and the answer counts as cut off there: the entries read before are kept, the
 * one it stopped in is incomplete. The scanner is strict about structure (brackets, commas, colons, escapes,
 * literal spelling, control characters) and leaves the rest (e.g. UTF-8 validity) to Jackson on the kept bytes.
 * Nothing outside entries is kept but the first {@link #HEAD_BYTES}, to describe the answer by its shape
 * ({@link BodyShape}).
 */
final class TaskListScanner {
    /**
     * Largest task read; a larger one is reported {@code bad_task} by its id. 16 MiB is what a whole poll answer
     * could be before answers were streamed, so every task read then is read now (a 12 MiB patch is).
     */
    static final int MAX_TASK_BYTES = 16 << 20;
    /**
     * Task bytes one answer keeps in all: no more than the whole answer before streaming, so an answer of many
     * large tasks costs no more memory than it did; a task that would go over it is reported {@code bad_task} too.
     */
    static final int MAX_KEPT_BYTES = 16 << 20;
    /** Most entries read from one answer: the runner asks for its free slots, this is far beyond any honest answer. */
    static final int MAX_ENTRIES = 10_000;
    /** Most answer bytes scanned (256 MiB). */
    static final int MAX_SCAN_BYTES = ServerCall.POLL.maxBodyBytes();
    /** Answer bytes kept to describe an unreadable answer by its shape. */
    static final int HEAD_BYTES = 64;

    /** Longest key, id or literal read (longer ids are not usable; Jackson refuses numbers over 1000 digits). */
    private static final int MAX_TOKEN_BYTES = 4096;
    private static final int MAX_SHAPE_FIELDS = 20;
    private static final List<String> ID_KEYS = List.of("id", "taskId", "task_id");
    private static final Pattern NUMBER = Pattern.compile("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?");
    /** Marks an id field whose value is a container or unreadable: {@code Json.text} gives null for it. */
    private static final String NO_TEXT = "\0";

    /** Why an entry's bytes were not kept. */
    enum Skip { NONE, TOO_LARGE, OVER_BUDGET }

    /**
     * One entry of the task list (or the single task object of the answer).
     *
     * @param json     its bytes, when it is an object read to its end within the caps; else null
     * @param size     its length in bytes, as far as it was read
     * @param kind     "object", "array", "string", "number", "true", "false" or "null"
     * @param id       its depth-1 task id as {@code ReviewTask.idOf} would read it, null when none
     * @param fields   its depth-1 field names (at most 20, then "…"), for a log line
     * @param complete false when the answer broke off inside it
     * @param skip     why its bytes were not kept
     */
    record Entry(byte[] json, long size, String kind, String id, List<String> fields, boolean complete, Skip skip) {
    }

    /**
     * What the scanner found.
     *
     * @param entries   the task entries; null when the answer holds no task list and no single task
     * @param error     why scanning stopped before the document's end; null when it was read whole
     * @param truncated true when the answer was larger than {@link #MAX_SCAN_BYTES}
     * @param readable  false when not even the answer's list (or its single task) could be read: typically an
     *                  HTML page, which claimed nothing
     * @param size      bytes scanned
     * @param head      the first bytes of the answer, for {@link BodyShape}
     */
    record Result(List<Entry> entries, String error, boolean truncated, boolean readable, long size, byte[] head) {
        static final Result EMPTY = new Result(List.of(), null, false, true, 0, new byte[0]);

        boolean complete() {
            return error == null && !truncated;
        }
    }

    private enum State { VALUE, KEY, COLON, AFTER_VALUE, STRING, LITERAL, DONE, ERROR }

    /** Where a container sits: the answer's root object, its {@code data} object, a task list, an entry, or else. */
    private enum Role { ROOT, DATA, LIST, ENTRY, OTHER }

    /** What is known about one of the two objects that may hold the list: the root and {@code data}. */
    private static final class Holder {
        String kind;                                         // the kind of its value, null when not seen
        final Map<String, String> listKinds = new HashMap<>(); // "tasks"/"items" → kind of their value
        final Map<String, List<Entry>> lists = new HashMap<>();
        List<Entry> bareList;                                // when its value is itself a list
        Entry candidate;                                     // when it is an object: maybe a single task
    }

    /** An object entry being read (or a holder object that may be a single task). */
    private static final class Open {
        final long start;
        final List<Entry> target;
        final Holder holder;
        Buf buf = new Buf();                                 // kept bytes; null when not (or no longer) kept
        Skip skip = Skip.NONE;
        final Map<String, String> ids = new HashMap<>();     // id key → text ("" for null, NO_TEXT for none)
        final List<String> fields = new ArrayList<>();
        String captureId;                                    // the id key whose value comes next

        Open(long start, List<Entry> target, Holder holder) {
            this.start = start;
            this.target = target;
            this.holder = holder;
        }
    }

    /** A growable byte array (ByteArrayOutputStream is synchronised per write and copies on toByteArray). */
    private static final class Buf {
        byte[] a = new byte[512];
        int n;

        void add(byte[] src, int off, int len) {
            if (n + len > a.length) {
                a = Arrays.copyOf(a, Math.max(n + len, a.length + (a.length >> 1)));
            }
            System.arraycopy(src, off, a, n, len);
            n += len;
        }
    }

    private static final class Frame {
        final boolean object;
        final Role role;
        final Open entry;        // set when this container is an entry (or holder candidate)
        final List<Entry> list;  // set when this container is a task list
        String key;              // the current key of an object, null when too long

        Frame(boolean object, Role role, Open entry, List<Entry> list) {
            this.object = object;
            this.role = role;
            this.entry = entry;
            this.list = list;
        }
    }

    private final Deque<Frame> stack = new ArrayDeque<>();
    private final Holder root = new Holder();
    private final Holder data = new Holder();
    private boolean dataSeen;
    private State state = State.VALUE;
    private boolean allowClose;       // right after '[' or '{'
    private boolean stringIsKey;
    private int escape;               // 0 none, 1 after '\', 2..5 in the hex digits of a \\u escape
    private long pos;                 // bytes fed so far
    private final byte[] token = new byte[MAX_TOKEN_BYTES]; // the current key, string or literal (bounded)
    private int tokenLen;
    private boolean tokenOverflow;
    private Open keeper;              // the one entry whose bytes are being kept
    private int entries;
    private long kept;
    private String error;
    private boolean truncated;
    private final byte[] head = new byte[HEAD_BYTES];
    private int headLen;
    private byte[] chunk;             // the bytes being fed, for copying kept bytes in ranges
    private int keepFrom = -1;

    /** A body subscriber that scans a poll answer as it arrives, asking for one buffer at a time. */
    static Subscriber subscriber() {
        return new Subscriber();
    }

    /** Scans a whole answer at once (tests, and answers already in memory). */
    static Result scan(byte[] body) {
        TaskListScanner s = new TaskListScanner();
        s.feed(body, 0, body.length);
        return s.finish();
    }

    /** True when no more bytes are wanted (a structural error, or the scan bound reached). */
    boolean stopped() {
        return state == State.ERROR || truncated;
    }

    /** Feeds the next bytes of the answer. */
    void feed(byte[] b, int off, int len) {
        if (headLen < HEAD_BYTES && len > 0) {
            int n = Math.min(len, HEAD_BYTES - headLen);
            System.arraycopy(b, off, head, headLen, n);
            headLen += n;
        }
        if (stopped() || len <= 0) {
            return;
        }
        if (state == State.DONE) {
            pos += len; // whatever follows the answer's value is ignored, as Jackson's readTree does
            return;
        }
        int end = off + len;
        if (pos + len > MAX_SCAN_BYTES) {
            end = off + (int) (MAX_SCAN_BYTES - pos);
            truncated = true;
        }
        chunk = b;
        keepFrom = keeper != null ? off : -1;
        int i = off;
        if (pos == 0 && len >= 3 && b[off] == (byte) 0xEF && b[off + 1] == (byte) 0xBB && b[off + 2] == (byte) 0xBF) {
            i += 3; // a UTF-8 byte order mark
            pos += 3;
        }
        for (; i < end && state != State.ERROR && state != State.DONE; i++) {
            step(b[i], i);
            pos++;
        }
        if (state == State.DONE) {
            pos += end - i;
        }
        flush(i);
        chunk = null;
        keepFrom = -1;
    }

    /**
     * The answer read up to here and no further, {@code why} naming the reason (a deadline): entries read whole
     * are kept, an entry still open is cut off.
     */
    Result cut(String why) {
        if (state != State.DONE && state != State.ERROR && !truncated) {
            if (state == State.LITERAL) {
                endLiteral();
            }
            if (state != State.DONE) {
                error = why + " (at byte " + pos + ")";
                state = State.ERROR;
            }
        }
        return finish();
    }

    /** The end of the answer (or of what is read of it). */
    Result finish() {
        if (pos == 0 && !truncated && error == null) {
            return Result.EMPTY;
        }
        if (state == State.LITERAL) {
            endLiteral();
        }
        if (state != State.DONE && state != State.ERROR && !truncated) {
            error = "the JSON ends early at byte " + pos;
        }
        // entries still open were cut off: innermost first
        for (Frame f : stack) {
            if (f.entry != null) {
                endEntry(f.entry, false);
            }
        }
        byte[] h = Arrays.copyOf(head, headLen);
        if (root.kind == null) {
            return new Result(null, error, truncated, false, pos, h);
        }
        List<Entry> found = null;
        if (root.kind.equals("array")) {
            found = root.bareList;
        } else if (root.kind.equals("object")) {
            if (!stack.isEmpty() && !dataSeen && (root.candidate == null || root.candidate.id() == null)) {
                return new Result(null, error, truncated, false, pos, h);
            }
            found = listOf(dataSeen ? data : root);
        }
        return new Result(found, error, truncated, true, pos, h);
    }

    /** The tasks of a holder as PollAnswer reads them: its list, its "tasks"/"items" list, or itself as one task. */
    private static List<Entry> listOf(Holder h) {
        if ("array".equals(h.kind)) {
            return h.bareList;
        }
        if (!"object".equals(h.kind)) {
            return null;
        }
        for (String key : List.of("tasks", "items")) {
            String kind = h.listKinds.get(key);
            if (kind != null && !kind.equals("null")) {
                return kind.equals("array") ? h.lists.get(key) : null;
            }
        }
        return h.candidate != null && h.candidate.id() != null ? new ArrayList<>(List.of(h.candidate)) : null;
    }

    private void step(byte c, int i) {
        switch (state) {
            case VALUE -> value(c, i);
            case KEY -> {
                if (c == '"') {
                    startToken();
                    stringIsKey = true;
                    state = State.STRING;
                } else if (c == '}' && allowClose) {
                    close(i);
                } else if (!ws(c)) {
                    fail("a field name was expected");
                }
            }
            case COLON -> {
                if (c == ':') {
                    state = State.VALUE;
                    allowClose = false;
                } else if (!ws(c)) {
                    fail("':' was expected");
                }
            }
            case AFTER_VALUE -> afterValue(c, i);
            case STRING -> string(c);
            case LITERAL -> {
                if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '+' || c == '-' || c == '.') {
                    addToken(c);
                } else {
                    endLiteral();
                    if (state == State.AFTER_VALUE) {
                        afterValue(c, i);
                    }
                }
            }
            default -> {
            }
        }
    }

    private void value(byte c, int i) {
        if (ws(c)) {
            return;
        }
        if (c == ']' && allowClose && !stack.isEmpty() && !stack.peek().object) {
            close(i);
            return;
        }
        if (c == '{' || c == '[') {
            openContainer(c == '{', i);
        } else if (c == '"') {
            startScalar("string");
            if (state == State.ERROR) {
                return;
            }
            startToken();
            stringIsKey = false;
            state = State.STRING;
        } else if (c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f' || c == 'n') {
            startScalar(null);
            if (state == State.ERROR) {
                return;
            }
            startToken();
            addToken(c);
            state = State.LITERAL;
        } else {
            fail(pos == 0 ? "the answer is not JSON" : "a value was expected");
        }
    }

    private void afterValue(byte c, int i) {
        if (ws(c)) {
            return;
        }
        Frame top = stack.peek();
        if (c == ',') {
            state = top.object ? State.KEY : State.VALUE;
            allowClose = false;
        } else if (c == '}' && top.object) {
            close(i);
        } else if (c == ']' && !top.object) {
            close(i);
        } else {
            fail("',' or the end of the " + (top.object ? "object" : "list") + " was expected");
        }
    }

    private void string(byte c) {
        if (escape == 1) {
            if (c == 'u') {
                escape = 2;
            } else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't') {
                escape = 0;
            } else {
                fail("a bad escape in a string");
                return;
            }
            addToken(c);
        } else if (escape >= 2) {
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
                fail("a bad \\u escape in a string");
                return;
            }
            escape = escape == 5 ? 0 : escape + 1;
            addToken(c);
        } else if (c == '\\') {
            escape = 1;
            addToken(c);
        } else if (c == '"') {
            if (stringIsKey) {
                key();
                state = State.COLON;
            } else {
                endScalar("string");
            }
        } else if ((c & 0xFF) < 0x20) {
            fail("a control character in a string");
        } else {
            addToken(c);
        }
    }

    /** The role of a value about to start under the current top frame. */
    private Role roleOfNext() {
        Frame parent = stack.peek();
        if (parent == null) {
            return Role.ROOT;
        }
        if (parent.role == Role.ROOT && "data".equals(parent.key)) {
            return Role.DATA;
        }
        if ((parent.role == Role.ROOT || parent.role == Role.DATA) && isListKey(parent.key)) {
            return Role.LIST;
        }
        if (parent.role == Role.LIST) {
            return Role.ENTRY;
        }
        return Role.OTHER;
    }

    private void openContainer(boolean object, int i) {
        Frame parent = stack.peek();
        Role role = roleOfNext();
        String kind = object ? "object" : "array";
        noteIdValue(parent, NO_TEXT);
        Open entry = null;
        List<Entry> list = null;
        switch (role) {
            case ROOT, DATA -> {
                Holder h = role == Role.ROOT ? root : data;
                dataSeen |= role == Role.DATA;
                h.kind = kind;
                if (object) {
                    entry = open(i, null, h);
                } else {
                    list = h.bareList = new ArrayList<>();
                    role = Role.LIST;
                }
            }
            case LIST -> {
                Holder h = parent.role == Role.ROOT ? root : data;
                h.listKinds.put(parent.key, kind);
                if (object) {
                    role = Role.OTHER;
                } else {
                    list = new ArrayList<>();
                    h.lists.put(parent.key, list);
                }
            }
            case ENTRY -> {
                if (!countEntry()) {
                    return;
                }
                if (object) {
                    entry = open(i, parent.list, null);
                } else {
                    parent.list.add(new Entry(null, 0, kind, null, List.of(), true, Skip.NONE));
                    role = Role.OTHER;
                }
            }
            default -> {
            }
        }
        stack.push(new Frame(object, role, entry, list));
        state = object ? State.KEY : State.VALUE;
        allowClose = true;
    }

    private void startScalar(String kindIfKnown) {
        Frame parent = stack.peek();
        Role role = roleOfNext();
        if (role == Role.ROOT || role == Role.DATA) {
            (role == Role.ROOT ? root : data).kind = kindIfKnown == null ? "literal" : kindIfKnown;
            dataSeen |= role == Role.DATA;
        } else if (role == Role.LIST) {
            (parent.role == Role.ROOT ? root : data).listKinds.put(parent.key, kindIfKnown == null ? "literal" : kindIfKnown);
        } else if (role == Role.ENTRY && countEntry()) {
            parent.list.add(new Entry(null, 0, kindIfKnown == null ? "literal" : kindIfKnown, null, List.of(), true, Skip.NONE));
        }
    }

    private boolean countEntry() {
        if (entries >= MAX_ENTRIES) {
            fail("the answer holds more than " + MAX_ENTRIES + " entries");
            return false;
        }
        entries++;
        return true;
    }

    private Open open(int i, List<Entry> target, Holder holder) {
        Open o = new Open(pos, target, holder);
        keeper = o;
        keepFrom = i;
        return o;
    }

    private static boolean isListKey(String key) {
        return "tasks".equals(key) || "items".equals(key);
    }

    private void key() {
        Frame top = stack.peek();
        String k = tokenOverflow ? null : decode(true);
        top.key = k;
        Open o = top.entry;
        if (o != null) {
            if (o.fields.size() <= MAX_SHAPE_FIELDS) {
                o.fields.add(k == null ? "(a long name)" : k);
            }
            o.captureId = k != null && ID_KEYS.contains(k) ? k : null;
            if ((top.role == Role.ROOT && ("data".equals(k) || isListKey(k))) || (top.role == Role.DATA && isListKey(k))) {
                drop(o); // a wrapper, not a task: its bytes are not kept (its id still tells whether it is a task)
            }
        }
    }

    /** The value of a depth-1 id field of the top frame's entry, when that is what starts or ends now. */
    private void noteIdValue(Frame parent, String text) {
        if (parent != null && parent.entry != null && parent.entry.captureId != null) {
            parent.entry.ids.put(parent.entry.captureId, text == null ? NO_TEXT : text);
            parent.entry.captureId = null;
        }
    }

    private void close(int i) {
        Frame f = stack.pop();
        if (f.entry != null) {
            flush(i + 1);
            endEntry(f.entry, true);
        }
        state = stack.isEmpty() ? State.DONE : State.AFTER_VALUE;
        allowClose = false;
    }

    private void endLiteral() {
        String lit = tokenOverflow ? "" : new String(token, 0, tokenLen, StandardCharsets.US_ASCII);
        boolean word = lit.equals("true") || lit.equals("false") || lit.equals("null");
        if (!word && !NUMBER.matcher(lit).matches()) {
            fail("a malformed literal");
            return;
        }
        endScalar(word ? lit : "number");
    }

    /** A string or literal value ended. */
    private void endScalar(String kind) {
        Frame parent = stack.peek();
        if (parent != null && parent.entry != null && parent.entry.captureId != null) {
            noteIdValue(parent, kind.equals("null") ? "" : tokenOverflow ? null : decode(kind.equals("string")));
        }
        if (parent == null) {
            root.kind = kind;
        } else if (parent.role == Role.ROOT && "data".equals(parent.key)) {
            data.kind = kind;
        } else if ((parent.role == Role.ROOT || parent.role == Role.DATA) && isListKey(parent.key)) {
            (parent.role == Role.ROOT ? root : data).listKinds.put(parent.key, kind);
        } else if (parent.role == Role.LIST && !parent.list.isEmpty()) {
            Entry last = parent.list.get(parent.list.size() - 1);
            if (last.json() == null && last.kind().equals("literal")) {
                parent.list.set(parent.list.size() - 1, new Entry(null, 0, kind, null, List.of(), true, Skip.NONE));
            }
        }
        state = stack.isEmpty() ? State.DONE : State.AFTER_VALUE;
    }

    private void endEntry(Open o, boolean complete) {
        long size = (complete ? pos + 1 : pos) - o.start;
        byte[] json = complete && o.buf != null ? Arrays.copyOf(o.buf.a, o.buf.n) : null;
        if (!complete) {
            drop(o);
        }
        if (keeper == o) {
            keeper = null;
            keepFrom = -1;
        }
        if (json == null) {
            drop(o);
        }
        List<String> fields = o.fields;
        if (fields.size() > MAX_SHAPE_FIELDS) {
            fields = new ArrayList<>(fields.subList(0, MAX_SHAPE_FIELDS));
            fields.add("…");
        }
        Entry e = new Entry(json, size, "object", idOf(o), List.copyOf(fields), complete, o.skip);
        o.buf = null;
        if (o.target != null) {
            o.target.add(e);
        }
        if (o.holder != null) {
            o.holder.candidate = e;
        }
    }

    /** The id as {@code ReviewTask.idOf} reads it: the first of id, taskId, task_id present and not null. */
    private static String idOf(Open o) {
        for (String k : ID_KEYS) {
            String v = o.ids.get(k);
            if (v == null || v.isEmpty()) {
                continue;
            }
            return v.equals(NO_TEXT) || v.isBlank() ? null : v;
        }
        return null;
    }

    /** Copies the kept entry's bytes of this chunk up to {@code to}, or drops the entry when it goes over a cap. */
    private void flush(int to) {
        Open o = keeper;
        if (o == null || o.buf == null || keepFrom < 0 || chunk == null || to <= keepFrom) {
            return;
        }
        int len = to - keepFrom;
        if ((long) o.buf.n + len > MAX_TASK_BYTES) {
            o.skip = Skip.TOO_LARGE;
            drop(o);
        } else if (kept + len > MAX_KEPT_BYTES) {
            o.skip = Skip.OVER_BUDGET;
            drop(o);
        } else {
            o.buf.add(chunk, keepFrom, len);
            kept += len;
            keepFrom = to;
        }
    }

    private void drop(Open o) {
        if (o.buf != null) {
            kept -= o.buf.n;
            o.buf = null;
        }
        if (keeper == o) {
            keeper = null;
            keepFrom = -1;
        }
    }

    private void startToken() {
        tokenLen = 0;
        tokenOverflow = false;
    }

    private void addToken(byte c) {
        if (tokenLen < MAX_TOKEN_BYTES) {
            token[tokenLen++] = c;
        } else {
            tokenOverflow = true;
        }
    }

    /** The text of the current token: a string's (escapes resolved by Jackson), or a literal's as Jackson renders it. */
    private String decode(boolean string) {
        String s = new String(token, 0, tokenLen, StandardCharsets.UTF_8);
        if (string && s.indexOf('\\') < 0) {
            return s;
        }
        try {
            JsonNode n = Json.mapper().readTree(string ? "\"" + s + "\"" : s);
            return n.asText();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private void fail(String why) {
        if (state != State.ERROR) {
            error = why + " at byte " + pos;
            state = State.ERROR;
        }
    }

    private static boolean ws(byte c) {
        return c == ' ' || c == '\n' || c == '\r' || c == '\t';
    }

    /**
     * Scans a poll answer as it arrives, asking for one buffer at a time. It tells the caller when bytes last
     * arrived, and {@link #cutOff} ends the read with what arrived: the entries read whole are kept, the one in
     * progress is cut off (reported by its id when it was seen).
     */
    static final class Subscriber implements HttpResponse.BodySubscriber<Result> {
        private final TaskListScanner scanner = new TaskListScanner();
        private final CompletableFuture<Result> result = new CompletableFuture<>();
        private Flow.Subscription subscription;
        private volatile long lastProgressNanos = System.nanoTime();

        @Override
        public CompletionStage<Result> getBody() {
            return result;
        }

        /** {@link System#nanoTime()} when the headers or the last body bytes arrived. */
        long lastProgressNanos() {
            return lastProgressNanos;
        }

        /** Ends the read now with what arrived; {@code why} says why the answer counts as cut off there. */
        synchronized void cutOff(String why) {
            if (result.isDone()) {
                return;
            }
            if (subscription != null) {
                subscription.cancel(); // the connection is closed, not drained
            }
            result.complete(scanner.cut(why));
        }

        @Override
        public synchronized void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (result.isDone()) {
                s.cancel();
                return;
            }
            s.request(1);
        }

        @Override
        public synchronized void onNext(List<ByteBuffer> items) {
            if (result.isDone()) {
                return;
            }
            lastProgressNanos = System.nanoTime();
            try {
                for (ByteBuffer b : items) {
                    if (b.hasArray()) {
                        scanner.feed(b.array(), b.arrayOffset() + b.position(), b.remaining());
                    } else {
                        byte[] copy = new byte[b.remaining()];
                        b.get(copy);
                        scanner.feed(copy, 0, copy.length);
                    }
                }
            } catch (RuntimeException e) {
                subscription.cancel();
                result.completeExceptionally(e);
                return;
            }
            if (scanner.stopped()) {
                subscription.cancel(); // the connection is closed, not drained
                result.complete(scanner.finish());
            } else {
                subscription.request(1);
            }
        }

        @Override
        public synchronized void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public synchronized void onComplete() {
            if (!result.isDone()) {
                result.complete(scanner.finish());
            }
        }
    }
}

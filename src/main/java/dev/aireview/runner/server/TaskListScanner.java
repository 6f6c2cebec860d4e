package dev.aireview.runner.server;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.async.ByteArrayFeeder;
import dev.aireview.runner.model.Json;

import java.io.IOException;
import java.io.UncheckedIOException;
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

/**
 * Splits a poll answer into its task entries as its bytes arrive, never holding the whole answer. Jackson's
 * non-blocking parser tokenises; this class slices the top-level entries out of the original bytes by the parser's
 * token offsets, reads their ids and applies the bounds. It finds the task list of every shape {@link PollAnswer}
 * reads ({@code {"data": [...]}}, a bare list, {@code {"tasks"|"items": [...]}} at the root or in {@code data}, a
 * single task object) and keeps each entry's bytes for Jackson, up to {@link #MAX_TASK_BYTES} per task and
 * {@link #MAX_KEPT_BYTES} per answer. An entry over either is not kept while its depth-1
 * {@code id}/{@code taskId}/{@code task_id} is still read (wherever in the entry it appears, as
 * {@code ReviewTask.idOf} reads it), so that task gets its own {@code failed/bad_task} result and the tasks after
 * it are read.
 *
 * <p>The parser is fed a filtered copy, offsets mapped back: every byte of an invalid UTF-8 sequence is replaced by
 * {@link #PLACEHOLDER} (an incomplete sequence at a piece's end is held back until it is known), so the entry holding
 * it is still sliced, from the original bytes, and only it fails when parsed; and a string's bytes past
 * {@link #MAX_FED_STRING_BYTES} are checked here (escapes, control characters) instead of being fed, so the parser,
 * which holds a string token whole, never holds more of one.
 *
 * <p>Bounds, so that no answer can exhaust the runner's small heap ({@code -Xmx128m}): the kept bytes above, at
 * most {@link #MAX_ENTRIES} entries and {@link #MAX_SCAN_BYTES} scanned, numbers of at most
 * {@link #MAX_NUMBER_CHARS} characters, nesting at most {@link #MAX_DEPTH} deep (Jackson's
 * {@link StreamReadConstraints}). Past any of them, or at a syntax error, scanning stops and the answer counts as
 * cut off there: the entries read before are kept, the one it stopped in is incomplete (reported by its id when the
 * id was read). Nothing outside entries is kept but the first {@link #HEAD_BYTES}, to describe the answer by its
 * shape ({@link BodyShape}).
 *
 * <p>Where this differs from the hand-written scanner it replaced (each in {@code TaskListScannerTest}): nesting
 * deeper than {@link #MAX_DEPTH} stops the scan (there was no depth bound); a scalar entry of the list cut off by
 * the end of the answer is not listed (it was, as complete).
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
    /** Largest piece of the answer filtered and fed to the parser at once. */
    private static final int SLICE = 64 << 10;
    /** What an invalid UTF-8 byte is replaced with for the parser: a plain character in a string, an error elsewhere. */
    private static final byte PLACEHOLDER = '?';
    /**
     * Bytes of one string (or field name) the parser is given: past them, the rest of the string is checked here
     * (escapes, control characters) and not fed, so a string of any length costs the parser at most this much, as
     * the hand-written scanner skipped it in constant memory. Above the 6 × {@link #MAX_TOKEN_CHARS} bytes an id or
     * name of {@link #MAX_TOKEN_CHARS} characters may take, so a string cut here still reads as too long to be one.
     */
    static final int MAX_FED_STRING_BYTES = 32 << 10;
    /** Longest number (Jackson's maxNumberLength), as long as the old scanner's longest literal. */
    static final int MAX_NUMBER_CHARS = 4096;
    /** Deepest nesting (Jackson's maxNestingDepth). */
    static final int MAX_DEPTH = 1000;

    /** Longest key or id taken as text (longer ids are not usable). */
    private static final int MAX_TOKEN_CHARS = 4096;
    private static final int MAX_SHAPE_FIELDS = 20;
    private static final List<String> ID_KEYS = List.of("id", "taskId", "task_id");
    /** Marks an id field whose value is a container or unreadable: {@code Json.text} gives null for it. */
    private static final String NO_TEXT = "\0";
    /**
     * In a holder, and the parser made at the first bytes: loading Jackson's non-blocking parser takes a cold JVM
     * some 100 ms, which belongs to reading the body, not to the poll's wait for its headers.
     */
    private static final class Parsers {
        static final JsonFactory FACTORY = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder()
                        .maxStringLength(2 * MAX_FED_STRING_BYTES) // not reached: see MAX_FED_STRING_BYTES
                        .maxNameLength(2 * MAX_FED_STRING_BYTES)
                        .maxNumberLength(MAX_NUMBER_CHARS)
                        .maxNestingDepth(MAX_DEPTH)
                        .maxDocumentLength(-1)   // our own scan bound, which keeps what came before it
                        .maxTokenCount(-1)       // bounded by the scan bound and MAX_ENTRIES
                        .build())
                .build();
    }

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

    private record Frame(Role role, Open entry, List<Entry> list, String[] key) {
        Frame(Role role, Open entry, List<Entry> list) {
            this(role, entry, list, new String[1]); // key[0]: the current key of an object, null when too long
        }
    }

    private JsonParser parser;        // made at the first bytes
    private ByteArrayFeeder feeder;
    private final Deque<Frame> stack = new ArrayDeque<>();
    private final Holder root = new Holder();
    private final Holder data = new Holder();
    private boolean dataSeen;
    private int bom = -1;             // bytes of a byte order mark the parser's offsets leave out; -1 before known
    private boolean done;             // the answer's value was read whole
    private long pos;                 // bytes fed so far
    private Open keeper;              // the one entry whose bytes are being kept
    private long keepFrom = -1;       // answer offset from which its bytes are not copied yet
    private int entries;
    private long kept;
    private String error;
    private boolean truncated;
    private final byte[] head = new byte[HEAD_BYTES];
    private int headLen;
    private byte[] chunk;             // the bytes being fed, for copying kept bytes in ranges
    private int chunkOff;
    private long chunkStart;          // the answer offset of chunk[chunkOff]

    // What the parser is fed: a copy of the answer in which every byte of an invalid UTF-8 sequence is PLACEHOLDER
    // (so that only the entry it is in fails, when its original bytes are parsed), and strings past
    // MAX_FED_STRING_BYTES are left out.
    private final byte[] out = new byte[SLICE + 3];
    private int outLen;
    private final byte[] held = new byte[3]; // an incomplete UTF-8 sequence at the end of the last slice, not fed yet
    private int heldLen;
    private int seqStart = -1;        // in out: where the multi-byte sequence in progress starts
    private int need;                 // its continuation bytes still to come
    private int lo = 0x80;            // the range of the next continuation byte
    private int hi = 0xBF;
    private boolean inString;
    private int escape;               // 0 none, 1 after a backslash, 2..5 in the hex digits of a u escape
    private long stringBytes;
    private boolean eliding;          // in a string past MAX_FED_STRING_BYTES: its bytes are not fed
    private long fed;                 // bytes fed to the parser
    private long elided;              // answer bytes left out
    private final Deque<long[]> elisions = new ArrayDeque<>(); // {parser offset, bytes left out before it}
    private long elidedBefore;        // bytes left out before the last token looked up
    private int filtered;             // bytes of the slice filtered before a broken string, when one was found
    // A string with an invalid UTF-8 byte in it: its original bytes (up to MAX_TOKEN_CHARS, else null) by its number
    // among the strings, so that an id with one reads as the hand-written scanner read it (U+FFFD, not PLACEHOLDER).
    private final byte[] original = new byte[MAX_TOKEN_CHARS];
    private int originalLen;          // of the string in progress; past the array: too long for an id
    private boolean tainted;
    private long strings;             // strings begun in the filter
    private long stringTokens;        // string tokens (names and values) the parser gave
    private final Map<Long, byte[]> taintedStrings = new HashMap<>();

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

    /** True when no more bytes are wanted (a syntax error or a bound). */
    boolean stopped() {
        return error != null || truncated;
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
        if (done) {
            pos += len; // whatever follows the answer's value is ignored, as Jackson's readTree does
            return;
        }
        if (pos + len > MAX_SCAN_BYTES) {
            len = (int) (MAX_SCAN_BYTES - pos);
            truncated = true;
        }
        for (int i = 0; i < len && error == null; i += SLICE) {
            if (done) {
                pos += len - i;
                break;
            }
            feedSlice(b, off + i, Math.min(SLICE, len - i));
        }
    }

    private void feedSlice(byte[] b, int off, int len) {
        if (parser == null) {
            try {
                parser = Parsers.FACTORY.createNonBlockingByteArrayParser();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            feeder = (ByteArrayFeeder) parser.getNonBlockingInputFeeder();
        }
        chunk = b;
        chunkOff = off;
        chunkStart = pos;
        String bad = filter(b, off, len);
        pos += bad == null ? len : filtered;
        try {
            if (outLen > 0) {
                feeder.feedInput(out, 0, outLen);
                fed += outLen;
                drain();
            }
        } catch (JsonProcessingException e) {
            fail(e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (bad != null) {
            fail(bad + " at byte " + pos);
        }
        flush(pos);
        chunk = null;
    }

    /**
     * Copies a slice into {@link #out} for the parser: each byte of an invalid UTF-8 sequence replaced, an incomplete
     * sequence at its end held back for the next slice, a string's bytes past {@link #MAX_FED_STRING_BYTES} left out
     * and checked here instead. Returns why such a string is broken (then {@link #filtered} says where), else null.
     */
    private String filter(byte[] b, int off, int len) {
        System.arraycopy(held, 0, out, 0, heldLen);
        outLen = heldLen;
        seqStart = heldLen > 0 ? 0 : -1;
        heldLen = 0;
        for (int i = 0; i < len; i++) {
            int c = b[off + i] & 0xFF;
            if (eliding) {
                if (escape != 0 || c != '"') {
                    String bad = lex(c);
                    if (bad != null) {
                        filtered = i;
                        return bad;
                    }
                    elided++;
                    continue;
                }
                eliding = false; // the closing quote is fed: the tokens from it on are further in the answer
                elisions.add(new long[]{fed + outLen - bom(), elided});
            }
            byte o = (byte) c;
            if (need > 0 && (c < lo || c > hi)) {
                Arrays.fill(out, seqStart, outLen, PLACEHOLDER); // the sequence so far is invalid: as many placeholders
                need = 0;
                tainted |= inString;
            }
            if (need > 0) {
                lo = 0x80;
                hi = 0xBF;
                need--;
            } else if (c >= 0x80) {
                // strict UTF-8 (no overlong forms, surrogates or code points past U+10FFFF): stricter than the parser
                need = c < 0xC2 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : c < 0xF5 ? 3 : 0;
                lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80;
                hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
                seqStart = outLen;
                o = need == 0 ? PLACEHOLDER : o;
                tainted |= inString && need == 0;
            }
            out[outLen++] = o;
            boolean was = inString;
            lex(c); // a broken string where it is fed: the parser reports it
            if (was && inString) {
                if (originalLen < original.length) {
                    original[originalLen] = (byte) c;
                }
                originalLen++;
            } else if (was && tainted) {
                taintedStrings.put(strings, originalLen > original.length ? null : Arrays.copyOf(original, originalLen));
            }
            if (inString && escape == 0 && need == 0 && stringBytes >= MAX_FED_STRING_BYTES) {
                eliding = true;
            }
        }
        if (need > 0) { // only fed when it is known to be valid or not
            heldLen = outLen - seqStart;
            System.arraycopy(out, seqStart, held, 0, heldLen);
            outLen = seqStart;
        }
        return null;
    }

    /** Handles the tokens the parser has from what was fed. */
    private void drain() throws IOException {
        JsonToken t;
        while (!done && error == null && (t = parser.nextToken()) != null && t != JsonToken.NOT_AVAILABLE) {
            long at = offset();
            switch (t) {
                case START_OBJECT, START_ARRAY -> openContainer(t == JsonToken.START_OBJECT, t == JsonToken.START_OBJECT ? braceAt(at) : at);
                case END_OBJECT, END_ARRAY -> close(at);
                case FIELD_NAME -> {
                    taintedStrings.remove(++stringTokens);
                    key(parser.currentName());
                }
                case VALUE_STRING -> {
                    stringTokens++;
                    scalar("string");
                    taintedStrings.remove(stringTokens);
                }
                case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> scalar("number");
                case VALUE_TRUE -> scalar("true");
                case VALUE_FALSE -> scalar("false");
                case VALUE_NULL -> scalar("null");
                default -> {
                }
            }
        }
    }

    /**
     * One byte of the answer through a string's lexical state: whether it is in a string, the escape in progress,
     * the string's length so far. Returns why it breaks the string, else null.
     */
    private String lex(int c) {
        if (!inString) {
            inString = c == '"';
            stringBytes = 0;
            if (inString) {
                strings++;
                originalLen = 0;
                tainted = false;
            }
            return null;
        }
        stringBytes++;
        if (escape == 1) {
            escape = c == 'u' ? 2 : 0;
            return c == 'u' || c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't'
                    ? null : "a bad escape in a string";
        } else if (escape >= 2) {
            escape = escape == 5 ? 0 : escape + 1;
            return Character.digit(c, 16) >= 0 ? null : "a bad \\u escape in a string";
        } else if (c == '\\') {
            escape = 1;
        } else if (c == '"') {
            inString = false;
        } else if (c < 0x20) {
            return "a control character in a string";
        }
        return null;
    }

    /** Bytes of a UTF-8 byte order mark at the answer's start, which Jackson's offsets leave out. */
    private int bom() {
        if (bom < 0 && headLen >= 3) {
            bom = head[0] == (byte) 0xEF && head[1] == (byte) 0xBB && head[2] == (byte) 0xBF ? 3 : 0;
        }
        return Math.max(bom, 0);
    }

    /** The current token's answer offset. */
    private long offset() {
        return answerOffset(parser.currentTokenLocation().getByteOffset());
    }

    /** The answer offset of a parser offset (looked up in order): the bytes left out before it and a BOM added. */
    private long answerOffset(long at) {
        while (!elisions.isEmpty() && elisions.peek()[0] <= at) {
            elidedBefore = elisions.poll()[1];
        }
        return at + elidedBefore + bom();
    }

    /**
     * Where the '{' of a START_OBJECT is: the non-blocking parser (2.21) gives the offset after it, so the byte
     * itself is checked ('{' never follows '{' in JSON, so either reading is unambiguous).
     */
    private long braceAt(long at) {
        long i = at - chunkStart;
        return i >= 0 && i < pos - chunkStart && chunk[chunkOff + (int) i] == '{' ? at : at - 1;
    }

    /**
     * The answer read up to here and no further, {@code why} naming the reason (a deadline): entries read whole
     * are kept, an entry still open is cut off.
     */
    Result cut(String why) {
        if (!done && !stopped()) {
            error = why + " (at byte " + pos + ")";
        }
        return finish();
    }

    /** The end of the answer (or of what is read of it). */
    Result finish() {
        if (pos == 0 && !truncated && error == null) {
            return Result.EMPTY;
        }
        if (!done && !stopped()) {
            feeder.endOfInput(); // a number at the very end is only a token now
            try {
                drain();
            } catch (IOException e) {
                // the document is incomplete: said below
            }
            if (!done && error == null) {
                error = "the JSON ends early at byte " + pos;
            }
        }
        // entries still open were cut off: innermost first
        for (Frame f : stack) {
            if (f.entry() != null) {
                endEntry(f.entry(), false, pos);
            }
        }
        stack.clear();
        byte[] h = Arrays.copyOf(head, headLen);
        if (root.kind == null) {
            return new Result(null, error, truncated, false, pos, h);
        }
        List<Entry> found = null;
        if (root.kind.equals("array")) {
            found = root.bareList;
        } else if (root.kind.equals("object")) {
            if (!done && !dataSeen && (root.candidate == null || root.candidate.id() == null)) {
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

    /** The role of a value about to start under the current top frame. */
    private Role roleOfNext() {
        Frame parent = stack.peek();
        if (parent == null) {
            return Role.ROOT;
        }
        String key = parent.key()[0];
        if (parent.role() == Role.ROOT && "data".equals(key)) {
            return Role.DATA;
        }
        if ((parent.role() == Role.ROOT || parent.role() == Role.DATA) && isListKey(key)) {
            return Role.LIST;
        }
        return parent.role() == Role.LIST ? Role.ENTRY : Role.OTHER;
    }

    private void openContainer(boolean object, long at) {
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
                    entry = open(at, null, h);
                } else {
                    list = h.bareList = new ArrayList<>();
                    role = Role.LIST;
                }
            }
            case LIST -> {
                Holder h = parent.role() == Role.ROOT ? root : data;
                h.listKinds.put(parent.key()[0], kind);
                if (object) {
                    role = Role.OTHER;
                } else {
                    list = new ArrayList<>();
                    h.lists.put(parent.key()[0], list);
                }
            }
            case ENTRY -> {
                if (!countEntry()) {
                    return;
                }
                if (object) {
                    entry = open(at, parent.list(), null);
                } else {
                    parent.list().add(new Entry(null, 0, kind, null, List.of(), true, Skip.NONE));
                    role = Role.OTHER;
                }
            }
            default -> {
            }
        }
        stack.push(new Frame(role, entry, list));
    }

    /** A string, number or literal value. */
    private void scalar(String kind) throws IOException {
        Frame parent = stack.peek();
        Open o = parent == null ? null : parent.entry();
        if (o != null && o.captureId != null) {
            noteIdValue(parent, kind.equals("null") ? "" : idText(kind));
        }
        Role role = roleOfNext();
        if (role == Role.ROOT || role == Role.DATA) {
            (role == Role.ROOT ? root : data).kind = kind;
            dataSeen |= role == Role.DATA;
            done = parent == null;
        } else if (role == Role.LIST) {
            (parent.role() == Role.ROOT ? root : data).listKinds.put(parent.key()[0], kind);
        } else if (role == Role.ENTRY && countEntry()) {
            parent.list().add(new Entry(null, 0, kind, null, List.of(), true, Skip.NONE));
        }
    }

    /** An id value's text as {@code JsonNode.asText} gives it; null when too long to be an id. */
    private String idText(String kind) throws IOException {
        return switch (kind) {
            case "string" -> taintedStrings.containsKey(stringTokens) ? decode(taintedStrings.get(stringTokens))
                    : parser.getTextLength() > MAX_TOKEN_CHARS ? null : parser.getText();
            case "number" -> parser.currentToken() == JsonToken.VALUE_NUMBER_INT
                    ? parser.getNumberValue().toString() : Double.toString(parser.getDoubleValue());
            default -> kind;
        };
    }

    /** A string with invalid UTF-8 as the hand-written scanner read it: U+FFFD for each bad sequence, escapes resolved. */
    private static String decode(byte[] original) {
        if (original == null) {
            return null;
        }
        String s = new String(original, StandardCharsets.UTF_8);
        try {
            return s.indexOf('\\') < 0 ? s : Json.mapper().readTree("\"" + s + "\"").asText();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private boolean countEntry() {
        if (entries >= MAX_ENTRIES) {
            fail("the answer holds more than " + MAX_ENTRIES + " entries at byte " + offset());
            return false;
        }
        entries++;
        return true;
    }

    private Open open(long at, List<Entry> target, Holder holder) {
        Open o = new Open(at, target, holder);
        keeper = o;
        keepFrom = at;
        return o;
    }

    private static boolean isListKey(String key) {
        return "tasks".equals(key) || "items".equals(key);
    }

    private void key(String name) {
        Frame top = stack.peek();
        String k = name.length() > MAX_TOKEN_CHARS ? null : name;
        top.key()[0] = k;
        Open o = top.entry();
        if (o != null) {
            if (o.fields.size() <= MAX_SHAPE_FIELDS) {
                o.fields.add(k == null ? "(a long name)" : k);
            }
            o.captureId = k != null && ID_KEYS.contains(k) ? k : null;
            if ((top.role() == Role.ROOT && ("data".equals(k) || isListKey(k))) || (top.role() == Role.DATA && isListKey(k))) {
                drop(o); // a wrapper, not a task: its bytes are not kept (its id still tells whether it is a task)
            }
        }
    }

    /** The value of a depth-1 id field of the top frame's entry, when that is what starts or ends now. */
    private static void noteIdValue(Frame parent, String text) {
        if (parent != null && parent.entry() != null && parent.entry().captureId != null) {
            parent.entry().ids.put(parent.entry().captureId, text == null ? NO_TEXT : text);
            parent.entry().captureId = null;
        }
    }

    private void close(long at) {
        Frame f = stack.pop();
        if (f.entry() != null) {
            flush(at + 1);
            endEntry(f.entry(), true, at + 1);
        }
        done = stack.isEmpty();
    }

    private void endEntry(Open o, boolean complete, long end) {
        byte[] json = complete && o.buf != null ? Arrays.copyOf(o.buf.a, o.buf.n) : null;
        if (json != null) {
            o.buf = null; // its bytes stay counted against MAX_KEPT_BYTES
        }
        drop(o);
        List<String> fields = o.fields;
        if (fields.size() > MAX_SHAPE_FIELDS) {
            fields = new ArrayList<>(fields.subList(0, MAX_SHAPE_FIELDS));
            fields.add("…");
        }
        Entry e = new Entry(json, end - o.start, "object", idOf(o), List.copyOf(fields), complete, o.skip);
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

    /** Copies the kept entry's bytes of this chunk up to answer offset {@code to}, or drops it over a cap. */
    private void flush(long to) {
        Open o = keeper;
        if (o == null || o.buf == null || chunk == null || to <= keepFrom) {
            return;
        }
        long from = Math.max(keepFrom, chunkStart);
        int len = (int) (to - from);
        if ((long) o.buf.n + len > MAX_TASK_BYTES) {
            o.skip = Skip.TOO_LARGE;
            drop(o);
        } else if (kept + len > MAX_KEPT_BYTES) {
            o.skip = Skip.OVER_BUDGET;
            drop(o);
        } else {
            o.buf.add(chunk, chunkOff + (int) (from - chunkStart), len);
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

    private void fail(String why) {
        if (error == null) {
            error = why;
        }
    }

    private void fail(JsonProcessingException e) {
        long at = e.getLocation() == null ? pos : answerOffset(e.getLocation().getByteOffset());
        fail(e.getOriginalMessage() + " at byte " + at);
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

package dev.aireview.runner.source;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What a self-contained checkout holds (head, the branch tip and the base at a depth, with the shallow boundary), read
 * from a cache entry by the runner's own git ({@code git upload-pack}, protocol v2, the very server side a local
 * {@code git fetch --depth} of the entry talks to) and handed on as one stream for {@link CachedCheckout#SCRIPT} with
 * {@code GIT_PACK_STDIN=1}: the shallow commits, one SHA a line, an empty line, then the pack. The trusted side only
 * reads the entry and writes this stream; the untrusted side (the executor image's git, in a container that never sees
 * the cache) indexes it in its own workspace.
 *
 * <p>Bounded: the shallow list is at most {@link #MAX_HEADER_BYTES}, git's error output is kept up to
 * {@link GitRunner#OUTPUT_LIMIT} characters; the stream fails (an {@link IOException} naming git's error) when git
 * answers with an error or ends before the pack's end. {@link #close} ends the git process.
 */
public final class PackStream extends InputStream {
    /** The shallow list's size limit (a SHA and a newline per boundary commit). */
    static final int MAX_HEADER_BYTES = 1024 * 1024;

    private final Process process;
    private final InputStream in;
    private final StringBuilder errors = new StringBuilder();
    private final Thread errorReader;
    private byte[] chunk = new byte[0];
    private int pos;
    private boolean inPack;
    private boolean ended;
    private volatile String failure;

    private PackStream(Process process) {
        this.process = process;
        this.in = process.getInputStream();
        this.errorReader = new Thread(this::readErrors, "pack-stream-stderr");
        errorReader.setDaemon(true);
        errorReader.start();
    }

    /**
     * Starts git's {@code upload-pack} in the cache entry {@code entry} (through {@code git}) and asks it for
     * {@code head}, the branch tip {@code branchSha} (may be null) and the base {@code baseSha} (may be null; left out
     * when the entry does not hold it) at {@code depth} (0: all the entry holds). Null when {@code git} cannot stream (a
     * helper container): the caller then needs another way.
     */
    static PackStream open(GitRunner git, java.nio.file.Path entry, String head, String branchSha, String baseSha, int depth,
                           java.time.Instant deadline, dev.aireview.runner.execution.CancelSignal cancel) throws IOException {
        Process p = git.start(entry, List.of("-c", "uploadpack.allowAnySHA1InWant=true", "upload-pack", "--stateless-rpc", "."),
                java.util.Map.of("GIT_PROTOCOL", "version=2"));
        if (p == null) {
            return null;
        }
        PackStream s = new PackStream(p);
        try {
            String base = null;
            if (baseSha != null && !baseSha.isEmpty()) {
                GitRunner.Result r = git.run(entry, null, List.of("rev-parse", "-q", "--verify", baseSha + "^{commit}"),
                        java.util.Map.of(), deadline, cancel);
                base = r.ok() ? r.output().strip() : null;
            }
            try (OutputStream out = p.getOutputStream()) {
                out.write(request(wants(head, branchSha, base), depth));
            }
            return s;
        } catch (IOException | RuntimeException e) {
            s.close();
            throw new IOException("cannot ask git for the task's commits: " + e.getMessage(), e);
        }
    }

    /** The protocol v2 fetch request: no progress, no thin pack, every want, the depth, done. */
    static byte[] request(List<String> wants, int depth) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        pkt(b, "command=fetch\n");
        b.writeBytes("0001".getBytes(StandardCharsets.US_ASCII));
        pkt(b, "no-progress\n");
        pkt(b, "ofs-delta\n");
        for (String w : wants) {
            pkt(b, "want " + w + "\n");
        }
        if (depth > 0) {
            pkt(b, "deepen " + depth + "\n");
        }
        pkt(b, "done\n");
        b.writeBytes("0000".getBytes(StandardCharsets.US_ASCII));
        return b.toByteArray();
    }

    private static void pkt(ByteArrayOutputStream b, String line) {
        byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
        b.writeBytes(String.format("%04x", bytes.length + 4).getBytes(StandardCharsets.US_ASCII));
        b.writeBytes(bytes);
    }

    /** Why the stream failed (git's error, a protocol error), or null. */
    public String failure() {
        return failure;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
            return 0;
        }
        while (pos >= chunk.length) {
            if (ended) {
                return -1;
            }
            try {
                next();
            } catch (IOException e) {
                if (failure == null) {
                    failure = e.getMessage();
                }
                ended = true;
                throw e;
            }
        }
        int n = Math.min(len, chunk.length - pos);
        System.arraycopy(chunk, pos, b, off, n);
        pos += n;
        return n;
    }

    /** Reads the next chunk: the whole shallow list (with its empty line) first, then the pack, piece by piece. */
    private void next() throws IOException {
        pos = 0;
        if (!inPack) {
            chunk = header();
            inPack = true;
            return;
        }
        while (true) {
            byte[] p = packet();
            if (p == null) {
                // the flush after the packfile section: the pack is complete
                ended = true;
                chunk = new byte[0];
                return;
            }
            if (p.length == 0) {
                continue;
            }
            switch (p[0]) {
                case 1 -> {
                    chunk = java.util.Arrays.copyOfRange(p, 1, p.length);
                    return;
                }
                case 2 -> {
                    // progress: not asked for, skipped
                }
                case 3 -> throw new IOException("git upload-pack: " + new String(p, 1, p.length - 1, StandardCharsets.UTF_8).strip());
                default -> throw new IOException("git upload-pack sent an unknown side band " + p[0]);
            }
        }
    }

    /** Reads the sections before the pack: the shallow list (when there is one), then the packfile section's header. */
    private byte[] header() throws IOException {
        ByteArrayOutputStream shallow = new ByteArrayOutputStream();
        java.util.Set<String> seen = new java.util.HashSet<>();
        String section = line(packet());
        if ("shallow-info".equals(section)) {
            for (byte[] p = packet(); p != null && p != DELIM; p = packet()) {
                String l = line(p);
                if (l.startsWith("shallow ") && !seen.add(l)) {
                    continue; // git names a boundary commit once per want that reaches it
                }
                if (l.startsWith("shallow ")) {
                    shallow.writeBytes((l.substring(8) + "\n").getBytes(StandardCharsets.US_ASCII));
                    if (shallow.size() > MAX_HEADER_BYTES) {
                        throw new IOException("the shallow list is over " + MAX_HEADER_BYTES + " bytes");
                    }
                } else if (!l.startsWith("unshallow ")) {
                    throw new IOException("git upload-pack sent an unexpected shallow line: " + clip(l));
                }
            }
            section = line(packet());
        }
        if (!"packfile".equals(section)) {
            throw new IOException("git upload-pack sent " + (section == null ? "no pack" : "an unexpected section: " + clip(section)));
        }
        shallow.write('\n');
        return shallow.toByteArray();
    }

    private static final byte[] DELIM = new byte[0];

    /** One pkt-line's payload: null at a flush packet, {@link #DELIM} at a delimiter; an error at an {@code ERR} line or the end. */
    private byte[] packet() throws IOException {
        byte[] len = in.readNBytes(4);
        if (len.length < 4) {
            throw new IOException(ended());
        }
        int n;
        try {
            n = Integer.parseInt(new String(len, StandardCharsets.US_ASCII), 16);
        } catch (NumberFormatException e) {
            throw new IOException("git upload-pack sent a malformed packet length");
        }
        if (n == 0) {
            return null;
        }
        if (n == 1 || n == 2) {
            return DELIM;
        }
        if (n < 4) {
            throw new IOException("git upload-pack sent a malformed packet length " + n);
        }
        byte[] payload = in.readNBytes(n - 4);
        if (payload.length < n - 4) {
            throw new IOException(ended());
        }
        if (payload.length >= 4 && new String(payload, 0, 4, StandardCharsets.US_ASCII).equals("ERR ")) {
            throw new IOException("git upload-pack: " + new String(payload, 4, payload.length - 4, StandardCharsets.UTF_8).strip());
        }
        return payload;
    }

    private String ended() {
        try {
            process.waitFor(2, java.util.concurrent.TimeUnit.SECONDS);
            errorReader.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String err;
        synchronized (errors) {
            err = errors.toString().strip();
        }
        return "git upload-pack ended before the pack's end" + (process.isAlive() ? "" : " (exit " + process.exitValue() + ")")
                + (err.isEmpty() ? "" : ": " + err);
    }

    private static String line(byte[] p) {
        if (p == null || p == DELIM) {
            return null;
        }
        String s = new String(p, StandardCharsets.UTF_8);
        return s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
    }

    private static String clip(String s) {
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }

    private void readErrors() {
        byte[] buf = new byte[4096];
        try (InputStream err = process.getErrorStream()) {
            int n;
            while ((n = err.read(buf)) >= 0) {
                synchronized (errors) {
                    errors.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                    if (errors.length() > GitRunner.OUTPUT_LIMIT) {
                        errors.delete(0, errors.length() - GitRunner.OUTPUT_LIMIT);
                    }
                }
            }
        } catch (IOException ignored) {
            // the process ended or was killed
        }
    }

    /** Ends the git process (and its children) and its streams. */
    @Override
    public void close() {
        ended = true;
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            in.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    /** The wants of a checkout: head, the branch tip when it differs, the base when the entry holds it. */
    static List<String> wants(String head, String branchSha, String baseHeld) {
        List<String> w = new ArrayList<>(List.of(head));
        if (branchSha != null && !branchSha.equals(head)) {
            w.add(branchSha);
        }
        if (baseHeld != null && !w.contains(baseHeld)) {
            w.add(baseHeld);
        }
        return w;
    }
}

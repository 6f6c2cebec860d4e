package dev.aireview.runner.execution;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;

/** The one bounded read of a file another party may swap: the workspace's result and task files, the claim journal. */
public final class NoFollowFiles {
    private NoFollowFiles() {
    }

    /**
     * At most {@code limit} bytes of {@code file}, opened without following a link; null when it holds more. The
     * buffer grows with what is really there (a file may grow after its size was checked), never past limit + 1.
     */
    public static byte[] readBounded(Path file, long limit) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(64 * 1024, limit + 1));
        try (SeekableByteChannel ch = Files.newByteChannel(file, Set.<OpenOption>of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS))) {
            while (out.size() <= limit && ch.read(buf) >= 0) {
                buf.flip();
                out.write(buf.array(), 0, (int) Math.min(buf.remaining(), limit + 1 - out.size()));
                buf.clear();
            }
        }
        return out.size() > limit ? null : out.toByteArray();
    }
}

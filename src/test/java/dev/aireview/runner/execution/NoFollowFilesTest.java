package dev.aireview.runner.execution;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.*;

/** {@link NoFollowFiles#createNew}: the mode asked for is the mode the file gets, whatever the process umask. */
class NoFollowFilesTest {
    @TempDir
    Path dir;

    @Test
    void shouldGiveANewFileExactlyTheModeAskedForWhateverTheUmask() throws Exception {
        // the JVM's umask (0022 or systemd's 0027) removes group/other write from a mode given at creation only
        for (String mode : new String[]{"rw-rw-rw-", "rw-r--r--", "rw-------"}) {
            Path f = dir.resolve("f-" + mode);
            NoFollowFiles.createNew(f, "x".getBytes(), mode, false);
            assertEquals(mode, PosixFilePermissions.toString(Files.getPosixFilePermissions(f, LinkOption.NOFOLLOW_LINKS)));
            assertEquals("x", Files.readString(f));
        }
    }

    @Test
    void shouldNeverCreateOrChmodThroughALink() throws Exception {
        Path target = Files.writeString(dir.resolve("host-file"), "keep");
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-------"));
        Path link = Files.createSymbolicLink(dir.resolve("planted"), target);
        assertThrows(IOException.class, () -> NoFollowFiles.createNew(link, "x".getBytes(), "rw-rw-rw-", false));
        assertEquals("keep", Files.readString(target));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(target)));
    }
}

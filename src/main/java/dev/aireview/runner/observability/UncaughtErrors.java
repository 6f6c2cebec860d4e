package dev.aireview.runner.observability;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * Where an exception that ends a thread goes: into the runner's log (masked and formatted as every other line), not as a
 * raw stack trace on standard error. A thread of the Docker client that copies a standard input to a container or an
 * exec ends with an exception when that process ended before its input did (the connection was closed under it, e.g. a
 * pre-warmed container's waiting checkout the container killed): an expected end, logged at debug.
 */
public final class UncaughtErrors implements Thread.UncaughtExceptionHandler {
    private static final Logger LOG = LoggerFactory.getLogger(UncaughtErrors.class);
    /** The name docker-java's httpclient5 transport gives the thread copying a hijacked connection's input. */
    static final String INPUT_COPY_THREAD = "docker-java-httpclient5-hijacking-stream-";

    /** Makes this the handler of every thread that has none of its own. */
    public static void install() {
        Thread.setDefaultUncaughtExceptionHandler(new UncaughtErrors());
    }

    @Override
    public void uncaughtException(Thread thread, Throwable e) {
        if (isInputCopyEnd(thread, e)) {
            LOG.debug("the standard input of a container or exec was not copied to its end ({}): its process had ended", e.toString());
        } else {
            LOG.error("uncaught error in thread {}", thread.getName(), e);
        }
    }

    /** A Docker input copy that failed on I/O: its connection was gone. */
    static boolean isInputCopyEnd(Thread thread, Throwable e) {
        if (!thread.getName().startsWith(INPUT_COPY_THREAD)) {
            return false;
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof IOException) {
                return true;
            }
        }
        return false;
    }
}

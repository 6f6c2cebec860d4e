package dev.aireview.runner.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A loopback TCP proxy in front of a server (a {@code git daemon}) that the test can stall mid-answer: once {@link #arm}ed,
 * the first connection whose server → client bytes reach the threshold stops forwarding the server's answer there
 * (the client keeps its connection and waits, as for a slow server) until {@link #release}; every other connection
 * passes through. So a fetch is caught with the first part of its pack written, deterministically, without timing.
 */
final class HoldingProxy implements AutoCloseable {
    private final ServerSocket server;
    private final int target;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicBoolean armed = new AtomicBoolean();
    private volatile long threshold;
    private volatile CountDownLatch held = new CountDownLatch(1);
    private final Object gate = new Object();
    private boolean released;

    private HoldingProxy(ServerSocket server, int target) {
        this.server = server;
        this.target = target;
    }

    static HoldingProxy start(int targetPort) throws IOException {
        HoldingProxy p = new HoldingProxy(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), targetPort);
        Thread t = new Thread(p::acceptLoop, "holding-proxy-accept");
        t.setDaemon(true);
        t.start();
        return p;
    }

    int port() {
        return server.getLocalPort();
    }

    /** The next connection to forward {@code bytes} of the server's answer is held there (once). */
    void arm(long bytes) {
        synchronized (gate) {
            released = false;
        }
        threshold = bytes;
        held = new CountDownLatch(1);
        armed.set(true);
    }

    /** Waits until a connection is held. */
    boolean awaitHeld(long seconds) throws InterruptedException {
        return held.await(seconds, TimeUnit.SECONDS);
    }

    /** The held connection forwards the rest of the server's answer. */
    void release() {
        synchronized (gate) {
            released = true;
            gate.notifyAll();
        }
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket(InetAddress.getLoopbackAddress(), target);
                sockets.add(client);
                sockets.add(upstream);
                pump(client, upstream, false);
                pump(upstream, client, true);
            } catch (IOException e) {
                // closed
            }
        }
    }

    private void pump(Socket from, Socket to, boolean answer) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[8192];
            long forwarded = 0;
            boolean holder = false;
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    out.write(buf, 0, n);
                    out.flush();
                    forwarded += n;
                    if (answer && !holder && forwarded >= threshold && armed.compareAndSet(true, false)) {
                        holder = true;
                        held.countDown();
                        synchronized (gate) {
                            while (!released) {
                                gate.wait();
                            }
                        }
                    }
                }
                to.shutdownOutput();
            } catch (IOException e) {
                closeQuietly(from);
                closeQuietly(to);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "holding-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    @Override
    public void close() throws IOException {
        release();
        server.close();
        for (Socket s : sockets) {
            closeQuietly(s);
        }
    }
}

package dev.aireview.runner.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A raw HTTP server on loopback that answers every request with a 200 status line and headers promising a body,
 * writes the body's first bytes and then stalls for ever (until closed): the proxy or server the whole-call
 * deadline exists for. Counts the requests it saw.
 */
public final class StallingServer implements AutoCloseable {
    private final ServerSocket socket;
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final AtomicInteger requests = new AtomicInteger();
    private final AtomicInteger closedByClient = new AtomicInteger();
    private final Thread acceptor;

    private final byte[] prefix;

    public StallingServer() throws IOException {
        this("{\"data\":");
    }

    /** A server whose every answer is {@code prefix}, then a stall. */
    public StallingServer(String prefix) throws IOException {
        this.prefix = prefix.getBytes(StandardCharsets.UTF_8);
        socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = new Thread(this::accept, "stalling-server");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + socket.getLocalPort();
    }

    public int port() {
        return socket.getLocalPort();
    }

    public int requests() {
        return requests.get();
    }

    /** Connections the client closed (an exchange cancelled at its deadline closes its connection). */
    public int closedByClient() {
        return closedByClient.get();
    }

    private void accept() {
        while (!socket.isClosed()) {
            try {
                Socket s = socket.accept();
                open.add(s);
                Thread t = new Thread(() -> serve(s), "stalling-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try {
            InputStream in = s.getInputStream();
            // read the request head; the body (if any) is left unread, which is fine for a stall
            int matched = 0;
            byte[] end = {'\r', '\n', '\r', '\n'};
            int b;
            while (matched < 4 && (b = in.read()) >= 0) {
                matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
            }
            requests.incrementAndGet();
            OutputStream out = s.getOutputStream();
            out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + (prefix.length + 100000)
                    + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(prefix);
            out.flush();
            // stall: hold the connection open until the client gives up or the server is closed
            while (in.read() >= 0) {
                // discard
            }
            closedByClient.incrementAndGet();
        } catch (IOException e) {
            if (!socket.isClosed()) {
                closedByClient.incrementAndGet(); // reset by the client
            }
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
        for (Socket s : open) {
            s.close();
        }
    }
}

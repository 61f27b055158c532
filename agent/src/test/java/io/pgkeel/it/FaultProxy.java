package io.pgkeel.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy on a free loopback port forwarding to one target, whose network fault can be switched at run time:
 * the ITs put it between one agent and etcd to cut that agent off while everything else keeps the DCS.
 * <ul>
 *   <li>{@link #pass()}: bytes flow both ways (after {@link #latency(Duration)}, if set, per chunk and direction);</li>
 *   <li>{@link #cut()}: a partition. No byte is forwarded either way and new connections are accepted but go
 *       nowhere, so the client sees timeouts (never a reset or refusal, which a client would retry elsewhere at
 *       once). Bytes sent meanwhile are held, not dropped: after {@link #pass()} they arrive, as TCP delivers
 *       retransmitted segments after a partition heals, and a held connection then reaches the target;</li>
 *   <li>{@link #reset()}: every open connection is closed with a TCP reset, and so is every new one until
 *       {@link #pass()} or {@link #cut()}.</li>
 * </ul>
 * Each connection gets two daemon pump threads; {@link #close()} ends them all. Thread-safe: the mode and latency are
 * guarded by {@code this}; a pump waits on {@code this} while the proxy is cut.
 */
final class FaultProxy implements AutoCloseable {
    /** What the proxy does to traffic now. */
    enum Mode { PASS, CUT, RESET }

    private final InetSocketAddress target;
    private final ServerSocket server;
    private final Thread acceptor;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private Mode mode = Mode.PASS;
    private long latencyMillis;
    private boolean closed;

    private FaultProxy(InetSocketAddress target, ServerSocket server) {
        this.target = target;
        this.server = server;
        this.acceptor = new Thread(this::acceptLoop, "fault-proxy-" + server.getLocalPort());
        acceptor.setDaemon(true);
    }

    /** A proxy to {@code host:port}, passing traffic, listening on a free loopback port. */
    static FaultProxy start(String host, int port) {
        try {
            ServerSocket s = new ServerSocket();
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), Host.freePort()));
            FaultProxy p = new FaultProxy(new InetSocketAddress(host, port), s);
            p.acceptor.start();
            return p;
        } catch (IOException e) {
            throw new AssertionError("cannot start a proxy to " + host + ":" + port, e);
        }
    }

    /** A proxy to an endpoint written {@code host:port} (IPv4 or a name). */
    static FaultProxy start(String endpoint) {
        int colon = endpoint.lastIndexOf(':');
        return start(endpoint.substring(0, colon), Integer.parseInt(endpoint.substring(colon + 1)));
    }

    int port() {
        return server.getLocalPort();
    }

    /** Where clients connect: {@code 127.0.0.1:port}. */
    String endpoint() {
        return "127.0.0.1:" + port();
    }

    synchronized Mode mode() {
        return mode;
    }

    synchronized void pass() {
        mode = Mode.PASS;
        notifyAll();
    }

    synchronized void cut() {
        mode = Mode.CUT;
        notifyAll();
    }

    /** Closes every connection with a reset now, and every new one until the mode changes again. */
    void reset() {
        synchronized (this) {
            mode = Mode.RESET;
            notifyAll();
        }
        List.copyOf(sockets).forEach(this::abort);
    }

    /** Delay added before each chunk is forwarded, in either direction (0: none). */
    synchronized void latency(Duration delay) {
        latencyMillis = delay.toMillis();
        notifyAll();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            sockets.add(client);
            Thread t = new Thread(() -> connect(client), "fault-proxy-conn-" + client.getPort());
            t.setDaemon(true);
            t.start();
        }
    }

    /** Connects a client to the target once traffic may pass, then pumps both ways. */
    private void connect(Socket client) {
        if (!awaitPassable()) {
            abort(client);
            return;
        }
        Socket upstream = new Socket();
        sockets.add(upstream);
        try {
            upstream.connect(target, 5_000);
            client.setTcpNoDelay(true);
            upstream.setTcpNoDelay(true);
        } catch (IOException e) {
            abort(client);
            abort(upstream);
            return;
        }
        AtomicInteger open = new AtomicInteger(2);
        Thread back = new Thread(() -> pump(upstream, client, open), "fault-proxy-back-" + client.getPort());
        back.setDaemon(true);
        back.start();
        pump(client, upstream, open);
    }

    /**
     * Copies {@code from} to {@code to} chunk by chunk, holding each chunk while the proxy is cut. A clean end is
     * passed on as a half-close; the last of the two directions to end closes both sockets.
     */
    private void pump(Socket from, Socket to, AtomicInteger open) {
        byte[] buf = new byte[16 * 1024];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buf)) >= 0) {
                if (!awaitPassable()) {
                    throw new SocketException("reset by the proxy");
                }
                out.write(buf, 0, n);
                out.flush();
            }
            to.shutdownOutput();
            if (open.decrementAndGet() == 0) {
                close(from);
                close(to);
            }
        } catch (IOException e) {
            // one side went away or the proxy resets: take both down, as a reset would
            abort(from);
            abort(to);
        }
    }

    /** Waits while the proxy is cut, then sleeps the latency; false when the connection must end (reset, closed). */
    private boolean awaitPassable() {
        long delay;
        synchronized (this) {
            while (mode == Mode.CUT && !closed) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            if (mode == Mode.RESET || closed) {
                return false;
            }
            delay = latencyMillis;
        }
        if (delay > 0) {
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    private void close(Socket s) {
        sockets.remove(s);
        try {
            s.close();
        } catch (IOException e) {
            // already gone
        }
    }

    /** Closes {@code s} with a TCP reset (SO_LINGER 0), not a FIN. */
    private void abort(Socket s) {
        sockets.remove(s);
        try {
            if (!s.isClosed()) {
                s.setSoLinger(true, 0);
            }
        } catch (SocketException e) {
            // already gone
        }
        try {
            s.close();
        } catch (IOException e) {
            // already gone
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        try {
            server.close();
        } catch (IOException e) {
            // best effort
        }
        List.copyOf(sockets).forEach(this::abort);
        try {
            acceptor.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public synchronized String toString() {
        return "proxy " + endpoint() + " -> " + target.getHostString() + ":" + target.getPort() + " (" + mode + ")";
    }
}

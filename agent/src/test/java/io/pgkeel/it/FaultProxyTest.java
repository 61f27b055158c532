package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The fault proxy on plain sockets: an echo server behind it, a client in front. */
@Timeout(30)
class FaultProxyTest {
    private ServerSocket echo;
    private FaultProxy proxy;

    @BeforeEach
    void start() throws IOException {
        echo = new ServerSocket();
        echo.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        Thread t = new Thread(this::echoLoop, "echo");
        t.setDaemon(true);
        t.start();
        proxy = FaultProxy.start("127.0.0.1", echo.getLocalPort());
    }

    @AfterEach
    void stop() throws IOException {
        proxy.close();
        echo.close();
    }

    private void echoLoop() {
        while (!echo.isClosed()) {
            try {
                Socket s = echo.accept();
                Thread t = new Thread(() -> {
                    try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                        in.transferTo(out);
                    } catch (IOException e) {
                        // the client or the proxy went away
                    }
                }, "echo-conn");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private Socket connect() throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", proxy.port()), 2_000);
        s.setSoTimeout(10_000); // a read meant to succeed may wait for a loaded machine; see assertHeldUntilPass
        return s;
    }

    private static void send(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
        s.getOutputStream().flush();
    }

    /** Reads exactly {@code length} bytes (the socket's read timeout applies to each read). */
    private static String receive(Socket s, int length) throws IOException {
        byte[] buf = s.getInputStream().readNBytes(length);
        if (buf.length < length) {
            throw new EOFException("end of stream after " + buf.length + " bytes");
        }
        return new String(buf, StandardCharsets.UTF_8);
    }

    @Test
    void passForwardsBothWays() throws IOException {
        try (Socket s = connect()) {
            send(s, "hello");
            assertThat(receive(s, 5)).isEqualTo("hello");
            assertThat(proxy.mode()).isEqualTo(FaultProxy.Mode.PASS);
            assertThat(proxy.endpoint()).isEqualTo("127.0.0.1:" + proxy.port());
        }
    }

    @Test
    void cutTimesOutAnOpenConnectionWithoutAResetAndDeliversTheHeldBytesWhenItPassesAgain() throws IOException {
        try (Socket s = connect()) {
            send(s, "before");
            assertThat(receive(s, 6)).isEqualTo("before");
            proxy.cut();
            assertHeldUntilPass(s, "during");
        }
    }

    @Test
    void cutAcceptsNewConnectionsButForwardsNothingUntilItPassesAgain() throws IOException {
        proxy.cut();
        try (Socket s = connect()) {
            assertHeldUntilPass(s, "held");
        }
    }

    /** On a cut proxy: {@code text} sent on {@code s} times out (no reset, no end), and arrives after pass(). */
    private void assertHeldUntilPass(Socket s, String text) throws IOException {
        send(s, text);
        s.setSoTimeout(500);
        assertThatThrownBy(() -> receive(s, text.length())).as("a partition is a timeout, not a reset or an end")
                .isInstanceOf(SocketTimeoutException.class);
        s.setSoTimeout(10_000);
        proxy.pass();
        assertThat(receive(s, text.length())).as("the held bytes arrive after the heal").isEqualTo(text);
    }

    @Test
    void resetClosesOpenConnectionsAndEveryNewOneUntilItPassesAgain() throws IOException {
        try (Socket open = connect()) {
            send(open, "x");
            assertThat(receive(open, 1)).isEqualTo("x");
            proxy.reset();
            assertReset("the open connection", () -> {
                send(open, "y");
                receive(open, 1);
            });
        }
        assertReset("a new connection", () -> {
            try (Socket fresh = connect()) {
                send(fresh, "z");
                receive(fresh, 1);
            }
        });
        proxy.pass();
        try (Socket again = connect()) {
            send(again, "ok");
            assertThat(receive(again, 2)).isEqualTo("ok");
        }
    }

    /** {@code exchange} ends in a reset: a socket error at once, neither a timeout nor a clean end of stream. */
    private static void assertReset(String what, ThrowingCallable exchange) {
        assertThatThrownBy(exchange).as(what + " is reset").isInstanceOf(SocketException.class)
                .isNotInstanceOf(SocketTimeoutException.class);
    }

    @Test
    void latencyDelaysEachDirection() throws IOException {
        proxy.latency(Duration.ofMillis(400));
        try (Socket s = connect()) {
            long t0 = System.nanoTime();
            send(s, "slow");
            assertThat(receive(s, 4)).isEqualTo("slow");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("400 ms there and 400 ms back")
                    .isGreaterThanOrEqualTo(Duration.ofMillis(800));
            proxy.latency(Duration.ZERO);
            t0 = System.nanoTime();
            send(s, "fast");
            assertThat(receive(s, 4)).isEqualTo("fast");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("no latency added any more")
                    .isLessThan(Duration.ofMillis(800));
        }
    }

    @Test
    void aCleanCloseIsPassedOnAsAnEndOfStream() throws IOException {
        try (Socket s = connect()) {
            send(s, "bye");
            s.shutdownOutput();
            assertThat(receive(s, 3)).isEqualTo("bye");
            assertThat(s.getInputStream().read()).as("the echo server closed after our half-close").isEqualTo(-1);
        }
    }

    @Test
    void closeFreesThePortAndEndsOpenConnections() throws IOException {
        Socket s = connect();
        send(s, "a");
        assertThat(receive(s, 1)).isEqualTo("a");
        int port = proxy.port();
        proxy.close();
        assertThatThrownBy(() -> receive(s, 1)).isInstanceOf(IOException.class)
                .isNotInstanceOf(SocketTimeoutException.class);
        s.close();
        try (ServerSocket again = new ServerSocket()) {
            again.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            assertThat(again.getLocalPort()).isEqualTo(port);
        }
    }
}

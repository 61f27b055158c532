package io.pgkeel.agent.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.config.Credentials;
import io.pgkeel.testing.FakeClock;
import io.pgkeel.testing.FakeDcs;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The real server on a loopback socket, fed raw bytes: bad input gets 4xx and never stops it serving. */
class RestApiServerSocketTest {
    private RestApiServer server;
    private int port;
    private final AtomicReference<NodeSnapshot> snapshot = new AtomicReference<>(Snapshots.primary());

    @BeforeEach
    void start() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        FakeClock clock = new FakeClock();
        FakeDcs.Session session = new FakeDcs(clock).session("n1");
        AdminActions admin = new AdminActions(session, snapshot::get, new AdminActions.Hooks(() -> { }, () -> { }, members -> java.util.List.of(), new FakeOperator(), clock));
        server = RestApiServer.start("127.0.0.1", port, snapshot::get, clock,
                new Metrics("demo", "n1", "0.1.0", snapshot::get), admin,
                Optional.of(new Credentials("admin", "s3cret")), List.of("127.0.0.0/8"), Optional.empty());
    }

    @AfterEach
    void stop() {
        server.close();
    }

    /** Sends raw bytes, returns what comes back until the server closes or goes quiet. */
    private String raw(byte[] request) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            s.setSoTimeout(2000);
            OutputStream out = s.getOutputStream();
            try {
                out.write(request);
                out.flush();
            } catch (IOException e) {
                // the server may close before reading everything (oversized input): read what it answered
            }
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[8192];
            try {
                int n;
                while ((n = in.read(buf)) > 0) {
                    got.write(buf, 0, n);
                }
            } catch (SocketTimeoutException | java.net.SocketException e) {
                // keep-alive connection stayed open, or was reset after the answer
            }
            return got.toString(StandardCharsets.ISO_8859_1);
        }
    }

    private String raw(String request) throws IOException {
        return raw(request.getBytes(StandardCharsets.ISO_8859_1));
    }

    private void stillServing() throws IOException {
        assertThat(raw("GET /health HTTP/1.0\r\n\r\n")).startsWith("HTTP/1.1 200");
    }

    @Test
    void garbageBytesGet400() throws IOException {
        assertThat(raw(new byte[] {0, 1, 2, 3, '\r', '\n', '\r', '\n'})).startsWith("HTTP/1.1 400");
        stillServing();
    }

    @Test
    void oversizedHeadersAndBodiesAreRefused() throws IOException {
        assertThat(raw("GET /primary HTTP/1.1\r\nX-Big: " + "x".repeat(64_000) + "\r\n\r\n")).matches("(?s)HTTP/1.1 4\\d\\d.*");
        String big = "{\"a\":\"" + "y".repeat(200_000) + "\"}";
        assertThat(raw("PATCH /config HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " + auth() + "\r\nContent-Length: "
                + big.length() + "\r\n\r\n" + big)).startsWith("HTTP/1.1 413");
        stillServing();
    }

    @Test
    void unknownMethodsAndPathsAreAnsweredNotDropped() throws IOException {
        assertThat(raw("GET /no/such/path HTTP/1.0\r\n\r\n")).startsWith("HTTP/1.1 503");
        assertThat(raw("BREW /coffee HTTP/1.0\r\nAuthorization: Basic " + auth() + "\r\n\r\n")).startsWith("HTTP/1.1 501");
        stillServing();
    }

    @Test
    void writesNeedCredentialsOverTheWire() throws IOException {
        String noAuth = raw("POST /reload HTTP/1.0\r\nContent-Length: 0\r\n\r\n");
        assertThat(noAuth).startsWith("HTTP/1.1 401").containsIgnoringCase("www-authenticate: Basic");
        assertThat(raw("POST /reload HTTP/1.0\r\nAuthorization: Basic " + auth() + "\r\nContent-Length: 0\r\n\r\n"))
                .startsWith("HTTP/1.1 202");
        assertThat(raw("GET /patroni HTTP/1.0\r\n\r\n")).as("reads stay open").startsWith("HTTP/1.1 200");
    }

    private static String auth() {
        return Base64.getEncoder().encodeToString("admin:s3cret".getBytes(StandardCharsets.UTF_8));
    }
}

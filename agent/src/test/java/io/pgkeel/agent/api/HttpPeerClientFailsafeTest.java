package io.pgkeel.agent.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.pgkeel.common.Clock;
import io.pgkeel.common.peer.FailsafeAnswer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** A primary's POST /failsafe to one member, as Patroni's call_failsafe_member reads the answer. */
class HttpPeerClientFailsafeTest {
    private HttpServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    static Stream<Arguments> answers() {
        return Stream.of(
                Arguments.of("200 Accepted with an lsn header -> accepted", 200, "Accepted", "12345", true,
                        OptionalLong.of(12345)),
                Arguments.of("200 Accepted without lsn -> accepted", 200, "Accepted", null, true, OptionalLong.empty()),
                Arguments.of("200 Accepted, lsn header garbage -> accepted, no lsn", 200, "Accepted", "0/3000", true,
                        OptionalLong.empty()),
                Arguments.of("500 Running as a leader -> refused", 500, "Running as a leader", null, false,
                        OptionalLong.empty()),
                Arguments.of("502 failsafe_mode off -> refused", 502, "", null, false, OptionalLong.empty()),
                Arguments.of("200 with another body -> refused", 200, "accepted", null, false, OptionalLong.empty()),
                Arguments.of("200 with trailing newline -> refused", 200, "Accepted\n", null, false,
                        OptionalLong.empty()),
                Arguments.of("401 -> refused", 401, "no auth", null, false, OptionalLong.empty()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("answers")
    void onlyA200AcceptedIsAnAcceptance(String name, int status, String body, String lsn, boolean accepted,
                                        OptionalLong wantLsn) throws IOException {
        serve(status, body, lsn, new AtomicReference<>(), new AtomicReference<>(), Duration.ZERO);
        FailsafeAnswer a = client(Optional.empty()).postFailsafe(url(), "{\"name\":\"a\"}", Duration.ofSeconds(2));
        assertThat(a.accepted()).isEqualTo(accepted);
        assertThat(a.lsn()).isEqualTo(wantLsn);
    }

    @Test
    void postsTheBodyToFailsafeWithTheCredentials() throws IOException {
        AtomicReference<String> got = new AtomicReference<>();
        AtomicReference<String> auth = new AtomicReference<>();
        serve(200, "Accepted", null, got, auth, Duration.ZERO);
        String body = "{\"name\":\"a\",\"conn_url\":\"postgres://a:5432/postgres\",\"api_url\":\"http://a:8008/patroni\"}";
        assertThat(client(Optional.of(HttpPeerClient.basicAuthorization("u", "p")))
                .postFailsafe(url(), body, Duration.ofSeconds(2)).accepted()).isTrue();
        assertThat(got.get()).isEqualTo("POST /failsafe " + body);
        assertThat(auth.get()).isEqualTo("Basic dTpw");
    }

    @Test
    void sighupChangesTheCredentialsOfTheNextRequest() throws IOException {
        AtomicReference<String> auth = new AtomicReference<>();
        serve(200, "Accepted", null, new AtomicReference<>(), auth, Duration.ZERO);
        HttpPeerClient c = client(Optional.of(HttpPeerClient.basicAuthorization("u", "p")));
        assertThat(c.postFailsafe(url(), "{}", Duration.ofSeconds(2)).accepted()).isTrue();
        assertThat(auth.get()).isEqualTo("Basic dTpw");
        c.reconfigure(Optional.empty(), Optional.of(HttpPeerClient.basicAuthorization("u", "q")));
        assertThat(c.postFailsafe(url(), "{}", Duration.ofSeconds(2)).accepted()).isTrue();
        assertThat(auth.get()).isEqualTo("Basic dTpx");
    }

    @Test
    void noAnswerWithinTheTimeoutIsARefusal() throws IOException {
        serve(200, "Accepted", null, new AtomicReference<>(), new AtomicReference<>(), Duration.ofSeconds(3));
        long start = System.nanoTime();
        FailsafeAnswer a = client(Optional.empty()).postFailsafe(url(), "{}", Duration.ofMillis(300));
        assertThat(a.accepted()).isFalse();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    }

    @Test
    void nobodyListeningOrABadUrlIsARefusal() {
        assertThat(client(Optional.empty()).postFailsafe("http://127.0.0.1:1/patroni", "{}", Duration.ofSeconds(1))
                .accepted()).isFalse();
        assertThat(client(Optional.empty()).postFailsafe("not a url", "{}", Duration.ofSeconds(1)).accepted())
                .isFalse();
    }

    private static HttpPeerClient client(Optional<String> auth) {
        return new HttpPeerClient(Duration.ofSeconds(2), Clock.system(), Optional.empty(), auth);
    }

    private String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/patroni";
    }

    private void serve(int status, String body, String lsn, AtomicReference<String> got, AtomicReference<String> auth,
                       Duration delay) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", ex -> {
            got.set(ex.getRequestMethod() + " " + ex.getRequestURI().getPath() + " "
                    + new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            auth.set(ex.getRequestHeaders().getFirst("Authorization"));
            try {
                Thread.sleep(delay.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] b = body.getBytes(StandardCharsets.UTF_8);
            if (lsn != null) {
                ex.getResponseHeaders().add("lsn", lsn);
            }
            ex.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(b);
            }
        });
        server.start();
    }
}

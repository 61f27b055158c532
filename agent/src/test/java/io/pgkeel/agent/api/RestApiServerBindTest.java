package io.pgkeel.agent.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.testing.FakeClock;
import io.pgkeel.testing.FakeDcs;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** restapi.listen's host forms, bound for real: {@code *} answers on IPv4 and IPv6 loopback, as Patroni's does. */
class RestApiServerBindTest {
    private final AtomicReference<NodeSnapshot> snapshot = new AtomicReference<>(Snapshots.primary());

    static Stream<Arguments> forms() {
        return Stream.of(
                Arguments.of("*", List.of("127.0.0.1", "::1")),
                Arguments.of("::", List.of("127.0.0.1", "::1")),
                Arguments.of("0.0.0.0", List.of("127.0.0.1")),
                Arguments.of("127.0.0.1", List.of("127.0.0.1")),
                Arguments.of("::1", List.of("::1")),
                Arguments.of("localhost", List.of("127.0.0.1")));
    }

    @ParameterizedTest(name = "listen {0} answers on {1}")
    @MethodSource("forms")
    void bindsEveryFormOfTheListenHost(String host, List<String> reachableOn) throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        FakeClock clock = new FakeClock();
        AdminActions admin = new AdminActions(new FakeDcs(clock).session("n1"), snapshot::get,
                new AdminActions.Hooks(() -> { }, () -> { }, members -> List.of(), new FakeOperator(), clock));
        try (RestApiServer server = RestApiServer.start(host, port, snapshot::get, clock,
                new Metrics("demo", "n1", "0.1.0", snapshot::get), admin, Optional.empty(), List.of(),
                Optional.empty())) {
            for (String address : reachableOn) {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(InetAddress.getByName(address), port), 2000);
                    s.setSoTimeout(2000);
                    s.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                            .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
                    String answer = new String(s.getInputStream().readAllBytes(),
                            java.nio.charset.StandardCharsets.ISO_8859_1);
                    assertThat(answer).as("on " + address).startsWith("HTTP/1.1 200");
                }
            }
        }
    }
}

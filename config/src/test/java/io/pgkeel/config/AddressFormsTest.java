package io.pgkeel.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every address form Patroni accepts in {@code restapi.listen/connect_address} and {@code
 * postgresql.listen/connect_address} (its utils.split_host_port and uri), and what each becomes; the forms the agent
 * could not bind are refused here, naming the key and the line.
 */
class AddressFormsTest {
    @TempDir
    Path dir;

    private static final String YAML = """
            scope: batman
            name: pg0
            restapi:
              listen: API_LISTEN
            API_CONNECT
            etcd3:
              hosts: 127.0.0.1:2379
            postgresql:
              listen: PG_LISTEN
            PG_CONNECT
              data_dir: data/pg0
              authentication:
                superuser:
                  username: postgres
                replication:
                  username: replicator
            """;

    private PgkeelConfig load(String apiListen, String apiConnect, String pgListen, String pgConnect)
            throws IOException {
        String yaml = YAML.replace("API_LISTEN", "'" + apiListen + "'")
                .replace("API_CONNECT", apiConnect == null ? "" : "  connect_address: '" + apiConnect + "'")
                .replace("PG_LISTEN", "'" + pgListen + "'")
                .replace("PG_CONNECT", pgConnect == null ? "" : "  connect_address: '" + pgConnect + "'");
        Path f = dir.resolve("patroni.yml");
        Files.writeString(f, yaml);
        return ConfigLoader.load(f, Map.of()).config();
    }

    static Stream<Arguments> restapiListen() {
        return Stream.of(
                Arguments.of("IPv4", "127.0.0.1:8008", "127.0.0.1"),
                Arguments.of("star: every address, IPv4 and IPv6", "*:8008", "*"),
                Arguments.of("empty host: every address", ":8008", "*"),
                Arguments.of("IPv4 any", "0.0.0.0:8008", "0.0.0.0"),
                Arguments.of("IPv6 any in brackets", "[::]:8008", "::"),
                Arguments.of("IPv6 any without brackets", ":::8008", "::"),
                Arguments.of("IPv6 in brackets", "[::1]:8008", "::1"),
                Arguments.of("IPv6 without brackets", "::1:8008", "::1"),
                Arguments.of("host name", "localhost:8008", "localhost"),
                Arguments.of("spaces around", " 127.0.0.1:8008 ", "127.0.0.1"));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("restapiListen")
    void restapiListenForms(String form, String listen, String host) throws IOException {
        PgkeelConfig c = load(listen, "10.0.0.5:8008", "127.0.0.1:5432", null);
        assertThat(c.restapi().listen()).isEqualTo(new HostPort(host, 8008));
    }

    @ParameterizedTest(name = "{0} {1}: {2}")
    @CsvSource(delimiter = '|', textBlock = """
            restapi    | IPv4                    | 10.0.0.5:8008          | http://10.0.0.5:8008/patroni
            restapi    | host name               | node1.example.com:8008 | http://node1.example.com:8008/patroni
            restapi    | IPv6 in brackets        | [fd00::5]:8008         | http://[fd00::5]:8008/patroni
            restapi    | IPv6 without brackets   | fd00::5:8008           | http://[fd00::5]:8008/patroni
            restapi    | IPv6 loopback           | [::1]:8008             | http://[::1]:8008/patroni
            postgresql | IPv4                    | 10.0.0.5:5432          | postgres://10.0.0.5:5432/postgres
            postgresql | host name               | db1.example.com:5433   | postgres://db1.example.com:5433/postgres
            postgresql | IPv6 in brackets        | [fd00::5]:5432         | postgres://[fd00::5]:5432/postgres
            postgresql | IPv6 without brackets   | fd00::5:5432           | postgres://[fd00::5]:5432/postgres
            postgresql | IPv6 loopback           | [::1]:5432             | postgres://[::1]:5432/postgres
            postgresql | no port: 5432, as libpq | 10.0.0.5               | postgres://10.0.0.5:5432/postgres
            """)
    void connectAddressFormsGiveApiUrlAndConnUrl(String section, String form, String connect, String url)
            throws IOException {
        boolean api = section.equals("restapi");
        PgkeelConfig c = load("127.0.0.1:8008", api ? connect : null, "127.0.0.1:5432", api ? null : connect);
        assertThat(api ? c.restapi().apiUrl() : c.postgresql().connUrl()).isEqualTo(url);
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("restapiListen")
    void withoutConnectAddressTheApiUrlIsReachable(String form, String listen, String host) throws IOException {
        PgkeelConfig c = load(listen, null, "127.0.0.1:5432", null);
        String expected = switch (host) {
            case "*", "0.0.0.0" -> "127.0.0.1";
            case "::" -> "[::1]";
            case "::1" -> "[::1]";
            default -> host;
        };
        assertThat(c.restapi().apiUrl()).isEqualTo("http://" + expected + ":8008/patroni");
    }

    static Stream<Arguments> postgresqlListen() {
        return Stream.of(
                Arguments.of("IPv4", "127.0.0.1:5432", "127.0.0.1", 5432, "127.0.0.1"),
                Arguments.of("IPv6 in brackets", "[::1]:5432", "::1", 5432, "::1"),
                Arguments.of("IPv6 without brackets", "::1:5433", "::1", 5433, "::1"),
                Arguments.of("list, IPv6 in brackets", "127.0.0.1,[::1]:5433", "127.0.0.1,::1", 5433, "127.0.0.1"),
                Arguments.of("list, IPv6 first", "[::1], 127.0.0.1:5433", "::1,127.0.0.1", 5433, "::1"),
                Arguments.of("list, spaces, IPv6 without brackets", "127.0.0.1, ::1:5433", "127.0.0.1,::1", 5433,
                        "127.0.0.1"),
                Arguments.of("star", "*:5432", "*", 5432, "127.0.0.1"),
                Arguments.of("IPv4 any", "0.0.0.0:5432", "0.0.0.0", 5432, "127.0.0.1"),
                Arguments.of("IPv6 any", "[::]:5432", "::", 5432, "::1"),
                Arguments.of("IPv6 any without brackets", ":::5432", "::", 5432, "::1"),
                Arguments.of("host name", "localhost:5432", "localhost", 5432, "localhost"),
                Arguments.of("no port: PostgreSQL's 5432, as Patroni", "127.0.0.1", "127.0.0.1", 5432, "127.0.0.1"),
                Arguments.of("list without port", "127.0.0.1,localhost", "127.0.0.1,localhost", 5432, "127.0.0.1"));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("postgresqlListen")
    void postgresqlListenForms(String form, String listen, String listenAddresses, int port, String local)
            throws IOException {
        PgkeelConfig.Postgresql pg = load("127.0.0.1:8008", null, listen, "10.0.0.5:5432").postgresql();
        assertThat(pg.listenHosts()).isEqualTo(listenAddresses);
        assertThat(pg.port()).isEqualTo(port);
        assertThat(pg.localHost()).isEqualTo(local);
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("postgresqlListen")
    void withoutConnectAddressTheConnUrlIsReachable(String form, String listen, String listenAddresses, int port,
                                                    String local) throws IOException {
        PgkeelConfig c = load("127.0.0.1:8008", null, listen, null);
        String host = local.contains(":") ? "[" + local + "]" : local;
        assertThat(c.postgresql().connUrl()).isEqualTo("postgres://" + host + ":" + port + "/postgres");
    }

    static Stream<Arguments> refused() {
        return Stream.of(
                Arguments.of("restapi.listen", "127.0.0.1", null, "127.0.0.1:5432", null, "line 4", "port"),
                Arguments.of("restapi.listen", "127.0.0.1,::1:8008", null, "127.0.0.1:5432", null, "line 4",
                        "one address"),
                Arguments.of("restapi.listen", "[::1:8008", null, "127.0.0.1:5432", null, "line 4", "bracket"),
                Arguments.of("restapi.listen", "::1", null, "127.0.0.1:5432", null, "line 4", "[::1]"),
                Arguments.of("restapi.listen", "*:0", null, "127.0.0.1:5432", null, "line 4", "out of range"),
                Arguments.of("restapi.listen", "*:http", null, "127.0.0.1:5432", null, "line 4", "port"),
                Arguments.of("restapi.listen", "192.0.2.77:8008", null, "127.0.0.1:5432", null, "line 4",
                        "not an address of this host"),
                Arguments.of("restapi.listen", "no-such-host.invalid:8008", null, "127.0.0.1:5432", null, "line 4",
                        "does not resolve"),
                Arguments.of("restapi.connect_address", "*:8008", "*:8008", "127.0.0.1:5432", null, "line 5",
                        "other members"),
                Arguments.of("restapi.connect_address", "*:8008", "0.0.0.0:8008", "127.0.0.1:5432", null, "line 5",
                        "other members"),
                Arguments.of("restapi.connect_address", "*:8008", "[::]:8008", "127.0.0.1:5432", null, "line 5",
                        "other members"),
                Arguments.of("restapi.connect_address", "*:8008", "10.0.0.5", "127.0.0.1:5432", null, "line 5",
                        "port"),
                Arguments.of("postgresql.listen", "127.0.0.1:8008", null, "*,127.0.0.1:5432", null, "line 9",
                        "'*' alone"),
                Arguments.of("postgresql.listen", "127.0.0.1:8008", null, "127.0.0.1,:5432", null, "line 9",
                        "empty"),
                Arguments.of("postgresql.listen", "127.0.0.1:8008", null, "[::1:5432", null, "line 9", "bracket"),
                Arguments.of("postgresql.listen", "127.0.0.1:8008", null, "::1", null, "line 9", "[::1]"),
                Arguments.of("postgresql.listen", "127.0.0.1:8008", null, "127.0.0.1:99999", null, "line 9",
                        "out of range"),
                Arguments.of("postgresql.listen", "127.0.0.1:8008", null, "192.0.2.77,192.0.2.78:5432", null,
                        "line 9", "not an address of this host"),
                Arguments.of("postgresql.connect_address", "127.0.0.1:8008", null, "*:5432", "*:5432", "line 10",
                        "other members"),
                Arguments.of("postgresql.connect_address", "127.0.0.1:8008", null, "*:5432", "[::]:5432", "line 10",
                        "other members"),
                Arguments.of("postgresql.connect_address", "127.0.0.1:8008", null, "*:5432", "10.0.0.5,10.0.0.6:5432",
                        "line 10", "one address"));
    }

    @ParameterizedTest(name = "{0}: {1} {2} {3} {4}")
    @MethodSource("refused")
    void formsTheAgentCouldNotUseAreRefusedWithKeyAndLine(String key, String apiListen, String apiConnect,
                                                           String pgListen, String pgConnect, String line,
                                                           String why) {
        assertThatThrownBy(() -> load(apiListen, apiConnect, pgListen, pgConnect))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(key).hasMessageContaining(line).hasMessageContaining(why);
    }
}

package io.pgkeel.agent.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.pgkeel.config.Credentials;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Every libpq connection option of a role, as the JDBC driver's property, over TCP and over a unix socket. */
class JdbcSettingsTest {
    private static Map<String, String> props(Properties p) {
        Map<String, String> out = new LinkedHashMap<>();
        p.stringPropertyNames().forEach(k -> out.put(k, p.getProperty(k)));
        return out;
    }

    private static Properties tcp(String option, String value) {
        return JdbcSettings.properties(new Credentials("postgres", "pw", Map.of(option, value)), null,
                key -> "converted:" + key);
    }

    /** libpq option, its value, the driver's property, the value the driver is given. */
    private static final String[][] OPTIONS = {
        {"sslmode", "verify-full", "sslmode", "verify-full"},
        {"sslcert", "/etc/pg/c.crt", "sslcert", "/etc/pg/c.crt"},
        {"sslkey", "/etc/pg/c.key", "sslkey", "converted:/etc/pg/c.key"},
        {"sslpassword", "secret", "sslpassword", "secret"},
        {"sslrootcert", "/etc/pg/root.crt", "sslrootcert", "/etc/pg/root.crt"},
        {"sslnegotiation", "direct", "sslNegotiation", "direct"},
        {"gssencmode", "require", "gssEncMode", "require"},
        {"channel_binding", "require", "channelBinding", "require"},
    };

    static Stream<Arguments> optionRows() {
        return Arrays.stream(OPTIONS).map(row -> arguments((Object[]) row));
    }

    @ParameterizedTest(name = "{0} -> {2}")
    @MethodSource("optionRows")
    void eachOptionBecomesTheDriversProperty(String option, String value, String property, String expected) {
        Map<String, String> p = props(tcp(option, value));
        assertThat(p).containsEntry(property, expected).containsEntry("user", "postgres")
                .containsEntry("password", "pw");
        if (!option.equals("sslmode")) {
            assertThat(p).containsEntry("sslmode", "prefer"); // libpq's default, not the driver's
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"sslcrl", "sslcrldir"})
    void aCrlTheDriverCannotCheckIsAnErrorNamingIt(String option) {
        assertThatThrownBy(() -> tcp(option, "/etc/pg/x")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(option).hasMessageContaining("postgres");
    }

    @ParameterizedTest(name = "{0} over a unix socket")
    @MethodSource("optionRows")
    void overAUnixSocketNoSslIsTriedAsInLibpq(String option, String value, String property, String expected) {
        Properties p = JdbcSettings.properties(new Credentials("postgres", null, Map.of(option, value)),
                "/run/pg/.s.PGSQL.5432", key -> {
                    throw new AssertionError("no key is read for a unix socket");
                });
        assertThat(props(p)).containsExactlyInAnyOrderEntriesOf(Map.of("user", "postgres",
                "socketFactory", UnixSocketFactory.class.getName(), "socketFactoryArg", "/run/pg/.s.PGSQL.5432",
                "sslmode", "disable", "gssEncMode", "disable"));
    }

    static Stream<Arguments> socketFileRows() {
        return Stream.of(
                arguments("/var/run/postgresql", "/var/run/postgresql/.s.PGSQL.5433"),
                arguments("/tmp/", "/tmp/.s.PGSQL.5433"),
                arguments("@abstract, /run/pg , /tmp", "/run/pg/.s.PGSQL.5433"),
                arguments("relative, ", null),
                arguments("", null),
                arguments(null, null));
    }

    @ParameterizedTest(name = "unix_socket_directories = {0}")
    @MethodSource("socketFileRows")
    void theFirstAbsoluteSocketDirectoryIsUsed(String directories, String expected) {
        assertThat(LocalConnection.socketFile(directories, 5433)).isEqualTo(expected);
    }
}

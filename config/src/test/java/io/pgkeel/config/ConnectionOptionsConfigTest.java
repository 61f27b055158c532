package io.pgkeel.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code postgresql.authentication.<user>}'s libpq connection options and {@code postgresql.use_unix_socket(_repl)}
 * are read, not just accepted: every option for every user, as Patroni's YAML spells them.
 */
class ConnectionOptionsConfigTest {
    @TempDir
    Path dir;

    private PgkeelConfig.Postgresql load(String superuser, String replication, String rewind, String extra)
            throws IOException {
        Path f = dir.resolve("patroni.yml");
        Files.writeString(f, ConfigLoaderTest.PATRONI_YAML
                .replace("""
                              username: postgres
                              password: zalando
                        """, "      username: postgres\n      password: zalando\n" + superuser)
                .replace("""
                              username: replicator
                              password: rep-pass
                        """, "      username: replicator\n      password: rep-pass\n" + replication)
                .replace("""
                              username: rewind_user
                              password: rewind_password
                        """, "      username: rewind_user\n      password: rewind_password\n" + rewind)
                .replace("  pgpass: /tmp/pgpass0\n", "  pgpass: /tmp/pgpass0\n" + extra));
        ConfigLoader.Loaded loaded = ConfigLoader.load(f, Map.of());
        assertThat(loaded.warnings()).isEmpty();
        return loaded.config().postgresql();
    }

    static Stream<Arguments> options() {
        return Stream.of(
                arguments("sslmode", "verify-full"),
                arguments("sslcert", "/etc/pg/client.crt"),
                arguments("sslkey", "/etc/pg/client.key"),
                arguments("sslpassword", "key pass"),
                arguments("sslrootcert", "/etc/pg/root.crt"),
                arguments("sslnegotiation", "direct"),
                arguments("gssencmode", "disable"),
                arguments("channel_binding", "require"));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("options")
    void everyOptionOfEveryUserIsRead(String option, String value) throws IOException {
        String line = "      " + option + ": '" + value + "'\n";
        PgkeelConfig.Postgresql pg = load(line, line, line, "");
        assertThat(pg.superuser().options()).containsExactly(Map.entry(option, value));
        assertThat(pg.replication().options()).containsExactly(Map.entry(option, value));
        assertThat(pg.rewind().orElseThrow().options()).containsExactly(Map.entry(option, value));
    }

    @Test
    void theReplicationUsersCrlIsRead() throws IOException {
        PgkeelConfig.Postgresql pg = load("", "      sslcrl: /etc/pg/root.crl\n      sslcrldir: /etc/pg/crl.d\n", "",
                "");
        assertThat(pg.replication().options()).containsExactly(Map.entry("sslcrl", "/etc/pg/root.crl"),
                Map.entry("sslcrldir", "/etc/pg/crl.d"));
    }

    /** Refused: a CRL for a user the agent connects as with JDBC, and values libpq does not accept. */
    static Stream<Arguments> refusedRows() {
        return Stream.of(
                arguments("superuser", "sslcrl", "/etc/pg/x", "certificate revocation list"),
                arguments("superuser", "sslcrldir", "/etc/pg/x", "certificate revocation list"),
                arguments("rewind", "sslcrl", "/etc/pg/x", "certificate revocation list"),
                arguments("rewind", "sslcrldir", "/etc/pg/x", "certificate revocation list"),
                arguments("replication", "sslmode", "verify_full", "'verify_full' is not one of"),
                arguments("replication", "gssencmode", "allow", "'allow' is not one of"),
                arguments("superuser", "channel_binding", "on", "'on' is not one of"),
                arguments("rewind", "sslnegotiation", "tls", "'tls' is not one of"));
    }

    @ParameterizedTest(name = "{0}.{1}: {2}")
    @MethodSource("refusedRows")
    void refusedIsAnErrorNamingTheKeyAndLine(String user, String option, String value, String why) {
        String line = "      " + option + ": " + value + "\n";
        assertThatThrownBy(() -> load(user.equals("superuser") ? line : "", user.equals("replication") ? line : "",
                user.equals("rewind") ? line : "", ""))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("postgresql.authentication." + user + "." + option)
                .hasMessageContaining("patroni.yml line")
                .hasMessageContaining(why);
    }

    @Test
    void useUnixSocketAndUseUnixSocketReplAreRead() throws IOException {
        PgkeelConfig.Postgresql off = load("", "", "", "");
        assertThat(off.useUnixSocket()).isFalse();
        assertThat(off.useUnixSocketRepl()).isFalse();
        PgkeelConfig.Postgresql on = load("", "", "", "  use_unix_socket: true\n  use_unix_socket_repl: true\n");
        assertThat(on.useUnixSocket()).isTrue();
        assertThat(on.useUnixSocketRepl()).isTrue();
    }

    @Test
    void theSslPasswordIsNeverShown() throws IOException {
        PgkeelConfig.Postgresql pg = load("      sslpassword: hush\n      sslmode: require\n", "", "", "");
        assertThat(pg.superuser().toString()).doesNotContain("hush").contains("sslmode=require");
    }
}

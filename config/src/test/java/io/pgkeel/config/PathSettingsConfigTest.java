package io.pgkeel.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every path setting of the configuration goes through one check ({@link ConfigLoader#pathSetting}): a value no file
 * can be named by (a NUL, which YAML writes as {@code "\0"} in a double-quoted string) is refused naming the key, its
 * line and the value, where {@code Path.of} threw an InvalidPathException with a stack trace out of validate and the
 * agent's start (review13).
 */
class PathSettingsConfigTest {
    @TempDir
    Path dir;

    @BeforeEach
    void files() throws IOException {
        Files.writeString(dir.resolve("cert.pem"), Pem.CERTIFICATE);
        Files.writeString(dir.resolve("both.pem"), Pem.CERTIFICATE + Pem.KEY);
    }

    /**
     * @param field the key as the error names it
     * @param after the line of {@link ConfigLoaderTest#PATRONI_YAML} the setting goes after
     * @param yaml  the lines that set it, BAD standing for the path with a NUL, DIR for a directory of good files
     */
    record Setting(String field, String after, String yaml) {}

    static Stream<Arguments> pathSettings() {
        String hosts = "  hosts: 10.0.0.1:2379,10.0.0.2:2379\n";
        String restapi = "  connect_address: 127.0.0.1:8008\n";
        String pgpass = "  pgpass: /tmp/pgpass0\n";
        String superuser = "      password: zalando\n";
        String replication = "      password: rep-pass\n";
        return Stream.of(
                new Setting("etcd3.cacert", hosts, "  protocol: https\n  cacert: BAD\n"),
                new Setting("etcd3.cert", hosts, "  protocol: https\n  cert: BAD\n"),
                new Setting("etcd3.key", hosts, "  protocol: https\n  cert: DIR/cert.pem\n  key: BAD\n"),
                new Setting("restapi.certfile", restapi, "  certfile: BAD\n"),
                new Setting("restapi.keyfile", restapi, "  certfile: DIR/cert.pem\n  keyfile: BAD\n"),
                new Setting("restapi.cafile", restapi, "  certfile: DIR/both.pem\n  cafile: BAD\n"),
                new Setting("ctl.cacert", null, "ctl:\n  cacert: BAD\n"),
                new Setting("ctl.certfile", null, "ctl:\n  certfile: BAD\n"),
                new Setting("ctl.keyfile", null, "ctl:\n  certfile: DIR/cert.pem\n  keyfile: BAD\n"),
                new Setting("postgresql.data_dir", "  data_dir: data/postgresql0\n", "  data_dir: BAD\n"),
                new Setting("postgresql.bin_dir", "  bin_dir: /usr/lib/postgresql/16/bin\n", "  bin_dir: BAD\n"),
                new Setting("postgresql.pgpass", pgpass, "  pgpass: BAD\n"),
                new Setting("postgresql.authentication.superuser.sslcert", superuser, "      sslcert: BAD\n"),
                new Setting("postgresql.authentication.superuser.sslkey", superuser, "      sslkey: BAD\n"),
                new Setting("postgresql.authentication.superuser.sslrootcert", superuser,
                        "      sslrootcert: BAD\n"),
                new Setting("postgresql.authentication.replication.sslcrl", replication, "      sslcrl: BAD\n"),
                new Setting("postgresql.authentication.replication.sslcrldir", replication,
                        "      sslcrldir: BAD\n"))
                .flatMap(s -> Stream.of(arguments(s, "/etc/ssl/a\\0b"), arguments(s, "\\0")));
    }

    @ParameterizedTest(name = "{0} \"{1}\"")
    @MethodSource("pathSettings")
    void aPathWithANulIsRefusedNamingKeyLineAndValue(Setting s, String escaped) throws IOException {
        String setting = s.yaml().replace("DIR", dir.toString()).replace("BAD", "\"" + escaped + "\"");
        String yaml = ConfigLoaderTest.PATRONI_YAML;
        if (s.after() == null) {
            yaml = yaml + setting;
        } else if (List.of("data_dir", "bin_dir", "pgpass").stream().anyMatch(k -> s.after().startsWith("  " + k))) {
            yaml = yaml.replace(s.after(), setting); // the setting itself, written again
        } else {
            int at = yaml.indexOf(s.after()) + s.after().length();
            yaml = yaml.substring(0, at) + setting + yaml.substring(at);
        }
        assertThat(yaml).contains(escaped);
        Path file = dir.resolve("patroni.yml");
        Files.writeString(file, yaml);
        List<String> lines = Files.readAllLines(file);
        int line = 1 + lines.indexOf(lines.stream().filter(l -> l.contains(escaped)).findFirst().orElseThrow());

        assertThatThrownBy(() -> ConfigLoader.load(file, Map.of())).isInstanceOf(ConfigException.class)
                .hasMessageContaining("patroni.yml line " + line + ": " + s.field() + ": '" + escaped + "'")
                .hasMessageContaining("is not a path: Nul character not allowed");
    }
}

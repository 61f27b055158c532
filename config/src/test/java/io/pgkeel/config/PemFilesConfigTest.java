package io.pgkeel.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every certificate and key path of the configuration ({@code etcd3.cacert/cert/key}, {@code restapi.certfile/
 * keyfile/cafile}, {@code ctl.cacert/certfile/keyfile}) is checked the same way before the agent starts: a directory,
 * an empty file or a file without the PEM block it must hold is refused, naming the key, its line and why. Patroni
 * hands these paths to Python's ssl module, which reads PEM only.
 */
class PemFilesConfigTest {
    @TempDir
    Path dir;

    @BeforeEach
    void files() throws IOException {
        Files.writeString(dir.resolve("cert.pem"), Pem.CERTIFICATE);
        Files.writeString(dir.resolve("key.pem"), Pem.KEY);
        Files.writeString(dir.resolve("rsa.key"), Pem.RSA_KEY);
        Files.writeString(dir.resolve("both.pem"), Pem.CERTIFICATE + Pem.KEY);
        Files.createDirectory(dir.resolve("a-directory"));
        Files.writeString(dir.resolve("empty.pem"), "");
        Files.writeString(dir.resolve("blank.pem"), "\n  \n");
        Files.writeString(dir.resolve("text.pem"), "not a certificate\n");
    }

    /** Where a setting lives: its YAML (DIR/FILE for the path under test) and the path it is named by. */
    record Setting(String field, String section, String yaml, Kind kind) {}

    /** What the file must hold. */
    enum Kind { CERTIFICATE, KEY, CERTIFICATE_AND_KEY }

    static final List<Setting> SETTINGS = List.of(
            new Setting("etcd3.cacert", "etcd3", "  protocol: https\n  cacert: FILE\n", Kind.CERTIFICATE),
            new Setting("etcd3.cert", "etcd3", "  protocol: https\n  cert: FILE\n  key: DIR/key.pem\n",
                    Kind.CERTIFICATE),
            new Setting("etcd3.key", "etcd3", "  protocol: https\n  cert: DIR/cert.pem\n  key: FILE\n", Kind.KEY),
            new Setting("etcd3.cert", "etcd3", "  protocol: https\n  cert: FILE\n", Kind.CERTIFICATE_AND_KEY),
            new Setting("restapi.certfile", "restapi", "  certfile: FILE\n  keyfile: DIR/key.pem\n",
                    Kind.CERTIFICATE),
            new Setting("restapi.certfile", "restapi", "  certfile: FILE\n", Kind.CERTIFICATE_AND_KEY),
            new Setting("restapi.keyfile", "restapi", "  certfile: DIR/cert.pem\n  keyfile: FILE\n", Kind.KEY),
            new Setting("restapi.cafile", "restapi", "  certfile: DIR/both.pem\n  cafile: FILE\n", Kind.CERTIFICATE),
            new Setting("ctl.cacert", "ctl", "  cacert: FILE\n", Kind.CERTIFICATE),
            new Setting("ctl.certfile", "ctl", "  certfile: FILE\n  keyfile: DIR/key.pem\n", Kind.CERTIFICATE),
            new Setting("ctl.certfile", "ctl", "  certfile: FILE\n", Kind.CERTIFICATE_AND_KEY),
            new Setting("ctl.keyfile", "ctl", "  certfile: DIR/cert.pem\n  keyfile: FILE\n", Kind.KEY));

    private ConfigLoader.Loaded load(Setting s, String file) throws IOException {
        String yaml = ConfigLoaderTest.PATRONI_YAML;
        String extra = s.yaml().replace("FILE", dir.resolve(file).toString()).replace("DIR", dir.toString());
        yaml = switch (s.section()) {
            case "etcd3" -> yaml.replace("  hosts: 10.0.0.1:2379,10.0.0.2:2379\n",
                    "  hosts: 10.0.0.1:2379,10.0.0.2:2379\n" + extra);
            case "restapi" -> yaml.replace("  connect_address: 127.0.0.1:8008\n",
                    "  connect_address: 127.0.0.1:8008\n" + extra);
            default -> yaml + "ctl:\n" + extra;
        };
        Path f = dir.resolve("patroni.yml");
        Files.writeString(f, yaml);
        return ConfigLoader.load(f, Map.of());
    }

    /** The line of {@code patroni.yml} the setting's path is written on, as the error names it. */
    private int lineOf(Setting s, String file) throws IOException {
        List<String> lines = Files.readAllLines(dir.resolve("patroni.yml"));
        String key = s.field().substring(s.field().indexOf('.') + 1);
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).equals("  " + key + ": " + dir.resolve(file))) {
                return i + 1;
            }
        }
        throw new AssertionError(key + " not written");
    }

    static Stream<Arguments> badFiles() {
        List<Arguments> rows = new ArrayList<>();
        for (Setting s : SETTINGS) {
            String holds = switch (s.kind()) {
                case CERTIFICATE -> "is not a PEM certificate";
                case KEY -> "holds no PEM private key";
                case CERTIFICATE_AND_KEY -> "is not a PEM certificate";
            };
            rows.add(arguments(s, "a-directory", "is a directory"));
            rows.add(arguments(s, "empty.pem", "is empty"));
            rows.add(arguments(s, "blank.pem", "is empty"));
            rows.add(arguments(s, "text.pem", holds));
            switch (s.kind()) {
                case CERTIFICATE -> rows.add(arguments(s, "key.pem", "is not a PEM certificate"));
                case KEY -> rows.add(arguments(s, "cert.pem", "holds no PEM private key"));
                case CERTIFICATE_AND_KEY -> rows.add(arguments(s, "cert.pem", "holds no PEM private key"));
            }
        }
        return rows.stream();
    }

    @ParameterizedTest(name = "{0} {1}: {2}")
    @MethodSource("badFiles")
    void aFileThatCannotBeTheSettingIsRefusedNamingKeyLineAndWhy(Setting s, String file, String why)
            throws IOException {
        assertThatThrownBy(() -> load(s, file)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("patroni.yml line " + lineOf(s, file) + ": " + s.field() + ": ")
                .hasMessageContaining(dir.resolve(file).toString())
                .hasMessageContaining(why);
    }

    static Stream<Arguments> goodFiles() {
        List<Arguments> rows = new ArrayList<>();
        for (Setting s : SETTINGS) {
            switch (s.kind()) {
                case CERTIFICATE -> rows.add(arguments(s, "cert.pem"));
                case KEY -> {
                    rows.add(arguments(s, "key.pem"));
                    rows.add(arguments(s, "rsa.key"));
                }
                case CERTIFICATE_AND_KEY -> rows.add(arguments(s, "both.pem"));
            }
        }
        return rows.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("goodFiles")
    void aPemFileOfTheRightKindIsTaken(Setting s, String file) throws IOException {
        assertThat(load(s, file).config()).isNotNull();
    }
}

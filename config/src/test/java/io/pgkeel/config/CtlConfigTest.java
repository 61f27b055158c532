package io.pgkeel.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Patroni's {@code ctl} section is read, and how pgkeel ctl calls the REST API follows Patroni 4.1's
 * {@code PatroniRequest.reload_config}: {@code ctl.*} first, {@code restapi.*} only where Patroni falls back.
 */
class CtlConfigTest {
    @TempDir
    Path dir;

    @BeforeEach
    void files() throws IOException {
        for (String f : new String[] {"api.crt", "api.key", "api-ca.crt", "ctl.crt", "ctl.key", "ctl-ca.crt"}) {
            Files.writeString(dir.resolve(f), f.endsWith(".key") ? Pem.KEY : Pem.CERTIFICATE + Pem.KEY);
        }
    }

    private static final String RESTAPI_TLS = """
              certfile: DIR/api.crt
              keyfile: DIR/api.key
              keyfile_password: api-pass
              cafile: DIR/api-ca.crt
            """;
    private static final String RESTAPI_AUTH = """
              authentication:
                username: api-user
                password: api-secret
            """;

    private ConfigLoader.Loaded load(String restapiExtra, String ctl) throws IOException {
        Path f = dir.resolve("patroni.yml");
        String yaml = ConfigLoaderTest.PATRONI_YAML.replace("  connect_address: 127.0.0.1:8008\n",
                "  connect_address: 127.0.0.1:8008\n" + restapiExtra) + (ctl.isEmpty() ? "" : "ctl:\n" + ctl);
        Files.writeString(f, yaml.replace("DIR", dir.toString()));
        return ConfigLoader.load(f, Map.of());
    }

    private Path file(String name) {
        return dir.resolve(name);
    }

    /** One row of Patroni's precedence: what restapi and ctl hold, and what pgkeel ctl then uses. */
    record Row(String restapi, String ctl, Optional<String> cacert, Optional<String> certfile,
               Optional<String> keyfile, Optional<String> keyfilePassword, Optional<String> user, boolean insecure) {}

    static Stream<Arguments> precedence() {
        Optional<String> none = Optional.empty();
        return Stream.of(
                arguments("neither section", new Row("", "", none, none, none, none, none, false)),
                // cacert: ctl.cacert, else restapi.cafile
                arguments("cacert from restapi.cafile", new Row(RESTAPI_TLS, "", Optional.of("api-ca.crt"), none,
                        none, none, none, false)),
                arguments("ctl.cacert over restapi.cafile", new Row(RESTAPI_TLS, "  cacert: DIR/ctl-ca.crt\n",
                        Optional.of("ctl-ca.crt"), none, none, none, none, false)),
                arguments("ctl.cacert alone", new Row("", "  cacert: DIR/ctl-ca.crt\n", Optional.of("ctl-ca.crt"),
                        none, none, none, none, false)),
                // client certificate, key and key password: ctl only; restapi's are never presented (Patroni 4.1)
                arguments("restapi's certificate is not a client certificate", new Row(RESTAPI_TLS, "",
                        Optional.of("api-ca.crt"), none, none, none, none, false)),
                arguments("ctl.certfile with ctl.keyfile and password", new Row(RESTAPI_TLS, """
                          certfile: DIR/ctl.crt
                          keyfile: DIR/ctl.key
                          keyfile_password: ctl-pass
                        """, Optional.of("api-ca.crt"), Optional.of("ctl.crt"), Optional.of("ctl.key"),
                        Optional.of("ctl-pass"), none, false)),
                arguments("ctl.certfile holding its key", new Row(RESTAPI_TLS, "  certfile: DIR/ctl.crt\n",
                        Optional.of("api-ca.crt"), Optional.of("ctl.crt"), Optional.of("ctl.crt"), none, none, false)),
                // basic auth: ctl.authentication, else restapi.authentication
                arguments("auth from restapi.authentication", new Row(RESTAPI_AUTH, "", none, none, none, none,
                        Optional.of("api-user:api-secret"), false)),
                arguments("ctl.authentication over restapi.authentication", new Row(RESTAPI_AUTH, """
                          authentication:
                            username: ctl-user
                            password: ctl-secret
                        """, none, none, none, none, Optional.of("ctl-user:ctl-secret"), false)),
                arguments("ctl.authentication alone", new Row("", """
                          authentication:
                            username: ctl-user
                            password: ctl-secret
                        """, none, none, none, none, Optional.of("ctl-user:ctl-secret"), false)),
                // insecure: ctl only, false unless written
                arguments("ctl.insecure true", new Row(RESTAPI_TLS, "  insecure: true\n", Optional.of("api-ca.crt"),
                        none, none, none, none, true)),
                arguments("ctl.insecure on (YAML 1.1)", new Row("", "  insecure: on\n", none, none, none, none, none,
                        true)),
                arguments("ctl.insecure false", new Row("", "  insecure: false\n", none, none, none, none, none,
                        false)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("precedence")
    void ctlFirstThenRestapiAsPatroniDoes(String name, Row row) throws IOException {
        ConfigLoader.Loaded loaded = load(row.restapi(), row.ctl());
        assertThat(loaded.warnings()).as("every ctl key is acted on").isEmpty();
        PgkeelConfig.Ctl c = loaded.config().ctlConnection();
        assertThat(c.cacert()).isEqualTo(row.cacert().map(this::file));
        assertThat(c.certfile()).isEqualTo(row.certfile().map(this::file));
        assertThat(c.keyfile()).isEqualTo(row.keyfile().map(this::file));
        assertThat(c.keyfilePassword()).isEqualTo(row.keyfilePassword());
        assertThat(c.authentication().map(a -> a.username() + ":" + a.password())).isEqualTo(row.user());
        assertThat(c.insecure()).isEqualTo(row.insecure());
    }

    @Test
    void theSectionItselfIsKeptAsWritten() throws IOException {
        PgkeelConfig config = load(RESTAPI_TLS + RESTAPI_AUTH, "  cacert: DIR/ctl-ca.crt\n").config();
        assertThat(config.ctl().cacert()).contains(file("ctl-ca.crt"));
        assertThat(config.ctl().authentication()).isEmpty();
        assertThat(config.ctl().certfile()).isEmpty();
    }

    @Test
    void theEnvironmentSetsTheSameKeys() throws IOException {
        Path f = dir.resolve("patroni.yml");
        Files.writeString(f, ConfigLoaderTest.PATRONI_YAML);
        PgkeelConfig.Ctl c = ConfigLoader.load(f, Map.of("PATRONI_CTL_INSECURE", "on",
                "PATRONI_CTL_CACERT", file("ctl-ca.crt").toString(), "PATRONI_CTL_CERTFILE", file("ctl.crt").toString(),
                "PATRONI_CTL_KEYFILE", file("ctl.key").toString(), "PATRONI_CTL_KEYFILE_PASSWORD", "k",
                "PATRONI_CTL_USERNAME", "u", "PATRONI_CTL_PASSWORD", "p")).config().ctlConnection();
        assertThat(c).isEqualTo(new PgkeelConfig.Ctl(true, Optional.of(file("ctl-ca.crt")),
                Optional.of(file("ctl.crt")), Optional.of(file("ctl.key")), Optional.of("k"),
                Optional.of(new Credentials("u", "p", Map.of()))));
    }

    static Stream<Arguments> refusals() {
        return Stream.of(
                arguments("  cacert: DIR/missing.crt\n", "ctl.cacert: cannot read"),
                arguments("  certfile: DIR/missing.crt\n", "ctl.certfile: cannot read"),
                arguments("  certfile: DIR/ctl.crt\n  keyfile: DIR/missing.key\n", "ctl.keyfile: cannot read"),
                arguments("  keyfile: DIR/ctl.key\n", "ctl.keyfile: needs ctl.certfile"),
                arguments("  keyfile_password: x\n", "ctl.keyfile_password: needs ctl.certfile"),
                arguments("  insecure: maybe\n", "ctl.insecure: expected true or false, got 'maybe'"),
                arguments("  authentication:\n    username: u\n", "ctl.authentication.password is required"),
                arguments("  authentication:\n    password: p\n", "ctl.authentication.username is required"),
                arguments("  cacert: [a, b]\n", "ctl.cacert: must be a single value"),
                arguments("  cacert: DIR\n", "ctl.cacert: DIR is a directory; pgkeel reads one CA bundle file"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusals")
    void badValuesNameTheKeyAndLine(String ctl, String message) {
        assertThatThrownBy(() -> load("", ctl)).isInstanceOf(ConfigException.class)
                .hasMessageContaining(message.replace("DIR", dir.toString()))
                .hasMessageContaining("patroni.yml line ");
    }
}

package io.pgkeel.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** restapi.allowlist (addresses, networks, host names), allowlist_include_members and the extra headers. */
class RestApiSecurityConfigTest {
    @TempDir
    Path dir;

    private PgkeelConfig.RestApi load(String restapiExtra) throws IOException {
        return loaded(restapiExtra).config().restapi();
    }

    private ConfigLoader.Loaded loaded(String restapiExtra) throws IOException {
        String yaml = ConfigLoaderTest.PATRONI_YAML.replace("  connect_address: 127.0.0.1:8008\n",
                "  connect_address: 127.0.0.1:8008\n" + restapiExtra);
        Path f = dir.resolve("patroni.yml");
        Files.writeString(f, yaml);
        return ConfigLoader.load(f, Map.of());
    }

    static Stream<Arguments> allowlistEntries() {
        return Stream.of(
                Arguments.of("an IPv4 address", "10.1.2.3", null),
                Arguments.of("an IPv4 network", "10.0.0.0/8", null),
                Arguments.of("host bits set in a network (Python's strict=False)", "10.1.2.3/8", null),
                Arguments.of("an IPv6 address", "'fd00::1'", null),
                Arguments.of("an IPv6 network", "'fd00::/8'", null),
                Arguments.of("a host name", "db1.example.com", null),
                Arguments.of("a short host name", "localhost", null),
                Arguments.of("a fully qualified name with the root dot", "db1.example.com.", null),
                Arguments.of("an octet over 255", "10.0.0.300", "not an IP address"),
                Arguments.of("three octets", "10.0.1", "not an IP address"),
                Arguments.of("an IPv6 that is not one", "'fd00:::1:::'", "not an IP address"),
                Arguments.of("a prefix too long", "10.0.0.0/33", "prefix length between 0 and 32"),
                Arguments.of("an IPv6 prefix too long", "'fd00::/129'", "prefix length between 0 and 128"),
                Arguments.of("a prefix that is not a number", "10.0.0.0/eight", "prefix length"),
                Arguments.of("a host name with a prefix", "db.example.com/24", "is not a network"),
                Arguments.of("a space", "'db example'", "not an IP address, CIDR range or host name"),
                Arguments.of("a URL", "'http://db1:8008'", "not an IP address, CIDR range or host name"),
                Arguments.of("empty", "''", "not an IP address, CIDR range or host name"));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("allowlistEntries")
    void allowlistTakesAddressesNetworksAndHostNames(String what, String entry, String error) throws IOException {
        String yaml = "  allowlist:\n  - 127.0.0.1\n  - " + entry + "\n";
        if (error == null) {
            assertThat(load(yaml).allowlist()).containsExactly("127.0.0.1", entry.replace("'", ""));
        } else {
            assertThatThrownBy(() -> load(yaml)).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("restapi.allowlist[1]").hasMessageContaining("line 9")
                    .hasMessageContaining(error);
        }
    }

    @Test
    void allowlistMustBeAList() {
        assertThatThrownBy(() -> load("  allowlist: 10.0.0.0/8\n")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("restapi.allowlist").hasMessageContaining("must be a list");
    }

    @Test
    void allowlistIncludeMembersIsABoolean() throws IOException {
        assertThat(load("").allowlistIncludeMembers()).isFalse();
        assertThat(load("  allowlist_include_members: true\n").allowlistIncludeMembers()).isTrue();
        assertThat(load("  allowlist_include_members: on\n").allowlistIncludeMembers()).isTrue();
        assertThat(load("  allowlist_include_members: false\n").allowlistIncludeMembers()).isFalse();
        assertThatThrownBy(() -> load("  allowlist_include_members: maybe\n")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("restapi.allowlist_include_members").hasMessageContaining("true or false");
    }

    @Test
    void theNewKeysAreActedOnNotWarnedAbout() throws IOException {
        ConfigLoader.Loaded l = loaded("  allowlist_include_members: true\n  http_extra_headers:\n"
                + "    X-Frame-Options: SAMEORIGIN\n  https_extra_headers:\n"
                + "    Strict-Transport-Security: max-age=1\n");
        assertThat(l.warnings()).isEmpty();
    }

    @Test
    void extraHeadersKeepTheirOrderAndHttpsOnesApplyOnlyWithTls() throws IOException {
        Path cert = Files.writeString(dir.resolve("cert.pem"), Pem.CERTIFICATE + Pem.KEY);
        String headers = """
                  http_extra_headers:
                    X-Frame-Options: SAMEORIGIN
                    X-Content-Type-Options: nosniff
                    X-Flag: true
                  https_extra_headers:
                    Strict-Transport-Security: max-age=31536000
                    X-Frame-Options: DENY
                """;
        PgkeelConfig.RestApi plain = load(headers);
        assertThat(plain.httpExtraHeaders()).containsExactly(Map.entry("X-Frame-Options", "SAMEORIGIN"),
                Map.entry("X-Content-Type-Options", "nosniff"), Map.entry("X-Flag", "True"));
        assertThat(plain.extraHeaders()).as("no TLS: the https ones are not sent")
                .containsExactlyEntriesOf(plain.httpExtraHeaders());
        PgkeelConfig.RestApi tls = load(headers + "  certfile: " + cert + "\n");
        assertThat(List.copyOf(tls.extraHeaders().entrySet())).as("Patroni's dict update: https wins, in place")
                .containsExactly(Map.entry("X-Frame-Options", "DENY"), Map.entry("X-Content-Type-Options", "nosniff"),
                        Map.entry("X-Flag", "True"), Map.entry("Strict-Transport-Security", "max-age=31536000"));
    }

    @Test
    void theEnvironmentSetsThemAsPatronisDoes() throws IOException {
        Path f = dir.resolve("patroni.yml");
        Files.writeString(f, ConfigLoaderTest.PATRONI_YAML);
        PgkeelConfig.RestApi api = ConfigLoader.load(f, Map.of("PATRONI_RESTAPI_ALLOWLIST", "db1.example,10.0.0.0/8",
                "PATRONI_RESTAPI_ALLOWLIST_INCLUDE_MEMBERS", "on",
                "PATRONI_RESTAPI_HTTP_EXTRA_HEADERS", "{X-Frame-Options: DENY, X-Content-Type-Options: nosniff}"))
                .config().restapi();
        assertThat(api.allowlist()).containsExactly("db1.example", "10.0.0.0/8");
        assertThat(api.allowlistIncludeMembers()).isTrue();
        assertThat(api.httpExtraHeaders()).containsExactly(Map.entry("X-Frame-Options", "DENY"),
                Map.entry("X-Content-Type-Options", "nosniff"));
    }

    static Stream<Arguments> badHeaders() {
        return Stream.of(
                Arguments.of("not a mapping", "  http_extra_headers: X-Frame-Options\n",
                        "restapi.http_extra_headers", "must be a mapping"),
                Arguments.of("a name with a space", "  http_extra_headers:\n    'X Frame': DENY\n",
                        "restapi.http_extra_headers", "not an HTTP header name"),
                Arguments.of("a framing header", "  https_extra_headers:\n    Content-Length: 5\n",
                        "restapi.https_extra_headers", "sets Content-Length itself"),
                Arguments.of("a hop-by-hop header", "  http_extra_headers:\n    connection: close\n",
                        "restapi.http_extra_headers", "sets connection itself"),
                Arguments.of("a value with a line break", "  http_extra_headers:\n    X-A: \"a\\r\\nX-B: b\"\n",
                        "restapi.http_extra_headers.X-A", "line break"),
                Arguments.of("a list value", "  http_extra_headers:\n    X-A: [a, b]\n",
                        "restapi.http_extra_headers.X-A", "single value"),
                Arguments.of("an empty value", "  http_extra_headers:\n    X-A:\n",
                        "restapi.http_extra_headers.X-A", "single value"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badHeaders")
    void badExtraHeadersAreRefusedNamingTheKey(String what, String yaml, String path, String error) {
        assertThatThrownBy(() -> load(yaml)).isInstanceOf(ConfigException.class)
                .hasMessageContaining(path).hasMessageContaining("line").hasMessageContaining(error);
    }
}

package io.pgkeel.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgkeel.config.PatroniKeys.Finding;
import io.pgkeel.config.PatroniKeys.Verdict;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The {@code etcd3} section in every form Patroni's {@code AbstractEtcd.get_etcd_client} takes (patroni/dcs/etcd.py):
 * url over hosts over host, the url's scheme as the protocol and its user info as the credentials, a default port,
 * TLS files and etcd's user; and their {@code PATRONI_ETCD3_*} variables.
 */
class EtcdConfigTest {
    @TempDir
    Path dir;
    private Path ca;
    private Path cert;
    private Path key;

    @BeforeEach
    void files() throws IOException {
        ca = Files.writeString(dir.resolve("ca.crt"), Pem.CERTIFICATE);
        // holds its key too, as Patroni's etcd3.cert may when etcd3.key is absent
        cert = Files.writeString(dir.resolve("client.crt"), Pem.CERTIFICATE + Pem.KEY);
        key = Files.writeString(dir.resolve("client.key"), Pem.KEY);
    }

    private static final String BASE = """
            scope: batman
            name: pg0
            restapi:
              listen: 127.0.0.1:8008
            postgresql:
              listen: 127.0.0.1:5432
              data_dir: /tmp/data
              authentication:
                superuser: {username: postgres, password: x}
                replication: {username: rep, password: y}
            """;

    private ConfigLoader.Loaded load(String etcd3, Map<String, String> env) throws IOException {
        Path f = dir.resolve("patroni.yml");
        Files.writeString(f, BASE + etcd3.replace("$CA", ca.toString()).replace("$CERT", cert.toString())
                .replace("$KEY", key.toString()));
        return ConfigLoader.load(f, env);
    }

    static Stream<Arguments> endpointForms() {
        return Stream.of(
                Arguments.of("hosts as a comma string", "etcd3:\n  hosts: a:1,b:2\n", Map.of(),
                        List.of("http://a:1", "http://b:2")),
                Arguments.of("hosts as a list", "etcd3:\n  hosts: [a:1, b:2]\n", Map.of(),
                        List.of("http://a:1", "http://b:2")),
                Arguments.of("host", "etcd3:\n  host: a:1\n", Map.of(), List.of("http://a:1")),
                Arguments.of("hosts without a port take 2379", "etcd3:\n  hosts: a, b:2\n", Map.of(),
                        List.of("http://a:2379", "http://b:2")),
                Arguments.of("hosts without a port take etcd3.port", "etcd3:\n  hosts: a\n  port: 2390\n", Map.of(),
                        List.of("http://a:2390")),
                Arguments.of("host without a port takes 2379", "etcd3:\n  host: a\n", Map.of(),
                        List.of("http://a:2379")),
                Arguments.of("an IPv6 host", "etcd3:\n  hosts: '[::1]:2379'\n", Map.of(), List.of("http://[::1]:2379")),
                Arguments.of("an IPv6 host without a port", "etcd3:\n  hosts: '[::1], [fe80::1%eth0]'\n", Map.of(),
                        List.of("http://[::1]:2379", "http://[fe80::1%eth0]:2379")),
                Arguments.of("a bare IPv6 host", "etcd3:\n  host: '::ffff:10.0.0.1'\n", Map.of(),
                        List.of("http://[::ffff:10.0.0.1]:2379")),
                Arguments.of("an IPv6 url", "etcd3:\n  url: 'https://u:p@[::1]:2380/'\n", Map.of(),
                        List.of("https://[::1]:2380")),
                Arguments.of("protocol https", "etcd3:\n  hosts: a:1,b:2\n  protocol: https\n", Map.of(),
                        List.of("https://a:1", "https://b:2")),
                Arguments.of("url sets the protocol", "etcd3:\n  url: https://a:1\n  protocol: http\n", Map.of(),
                        List.of("https://a:1")),
                Arguments.of("url wins over hosts", "etcd3:\n  url: http://c:3\n  hosts: a:1\n", Map.of(),
                        List.of("http://c:3")),
                Arguments.of("url without a port takes 2379", "etcd3:\n  url: https://etcd.example.org\n", Map.of(),
                        List.of("https://etcd.example.org:2379")),
                Arguments.of("PATRONI_ETCD3_HOSTS", "etcd3:\n  host: x:9\n",
                        Map.of("PATRONI_ETCD3_HOSTS", "'a:1','b:2'"), List.of("http://a:1", "http://b:2")),
                Arguments.of("PATRONI_ETCD3_PROTOCOL", "etcd3:\n  hosts: a:1\n",
                        Map.of("PATRONI_ETCD3_PROTOCOL", "https"), List.of("https://a:1")),
                Arguments.of("PATRONI_ETCD3_URL", "etcd3:\n  hosts: a:1\n",
                        Map.of("PATRONI_ETCD3_URL", "https://c:3"), List.of("https://c:3")),
                Arguments.of("PATRONI_ETCD3_HOST and _PORT", "etcd3:\n  protocol: http\n",
                        Map.of("PATRONI_ETCD3_HOST", "c", "PATRONI_ETCD3_PORT", "2391"), List.of("http://c:2391")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("endpointForms")
    void everyEndpointFormBecomesTheUrlsPatroniConnectsTo(String form, String etcd3, Map<String, String> env,
                                                         List<String> urls) throws IOException {
        assertThat(load(etcd3, env).config().etcd().urls()).containsExactlyElementsOf(urls);
    }

    @Test
    void tlsFilesAndUserAreRead() throws IOException {
        PgkeelConfig.Etcd etcd = load("""
                etcd3:
                  hosts: a:1
                  protocol: https
                  cacert: $CA
                  cert: $CERT
                  key: $KEY
                  username: pgkeel
                  password: 's3cret'
                """, Map.of()).config().etcd();
        assertThat(etcd.cacert()).hasValue(ca);
        assertThat(etcd.cert()).hasValue(cert);
        assertThat(etcd.key()).hasValue(key);
        assertThat(etcd.username()).hasValue("pgkeel");
        assertThat(etcd.password()).hasValue("s3cret");
        assertThat(etcd.toString()).doesNotContain("s3cret");
    }

    /** Patroni hands {@code cert} alone to its client as a file holding the certificate and the key. */
    @Test
    void certWithoutKeyIsACertificateAndKeyInOneFile() throws IOException {
        PgkeelConfig.Etcd etcd = load("etcd3:\n  hosts: a:1\n  protocol: https\n  cert: $CERT\n", Map.of())
                .config().etcd();
        assertThat(etcd.cert()).hasValue(cert);
        assertThat(etcd.key()).isEmpty();
    }

    private Map<String, Optional<?>> fields(PgkeelConfig.Etcd e) {
        return Map.of("cacert", e.cacert(), "cert", e.cert(), "key", e.key(), "username", e.username(),
                "password", e.password());
    }

    @ParameterizedTest(name = "PATRONI_ETCD3_{0}")
    @ValueSource(strings = {"cacert", "cert", "key", "username", "password"})
    void securitySettingsComeFromTheirPatroniVariables(String field) throws IOException {
        Map<String, Object> values = Map.of("cacert", ca, "cert", cert, "key", key, "username", "u", "password", "p");
        // a key needs its certificate, a user its password and back: give the partner in the file
        String partner = switch (field) {
            case "key" -> "  cert: $CERT\n";
            case "password" -> "  username: u\n";
            case "username" -> "  password: p\n";
            default -> "";
        };
        PgkeelConfig.Etcd etcd = load("etcd3:\n  hosts: a:1\n  protocol: https\n" + partner,
                Map.of("PATRONI_ETCD3_" + field.toUpperCase(java.util.Locale.ROOT), values.get(field).toString()))
                .config().etcd();
        assertThat(fields(etcd).get(field).map(Object.class::cast)).hasValue(values.get(field));
    }

    /**
     * The url's user info is the etcd user, as Patroni's get_etcd_client takes it from urlparse: before the last '@',
     * split at the first ':', and as written: urlparse decodes no percent escape, so {@code p%40ss} is sent to etcd as
     * {@code p%40ss} (this row said {@code p@ss} before review13; Python 3's
     * {@code urlparse('https://u:p%40ss@a:1').password} is {@code 'p%40ss'}).
     */
    static Stream<Arguments> urlUserInfos() {
        return Stream.of(
                Arguments.of("https://u:p%40ss@a:1", "u", "p%40ss"),
                Arguments.of("https://u%41:p@a:1", "u%41", "p"),
                Arguments.of("https://u:p+s@a:1", "u", "p+s"),
                Arguments.of("https://u:p@ss@a:1", "u", "p@ss"),
                Arguments.of("https://u:a:b@a:1", "u", "a:b"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("urlUserInfos")
    void urlUserInfoIsTheEtcdUser(String url, String user, String password) throws IOException {
        PgkeelConfig.Etcd etcd = load("etcd3:\n  url: '" + url + "'\n", Map.of()).config().etcd();
        assertThat(etcd.urls()).containsExactly("https://a:1");
        assertThat(etcd.username()).hasValue(user);
        assertThat(etcd.password()).hasValue(password);
    }

    /**
     * A '%' in the url's password that starts no percent escape: Patroni's urlparse hands the password over as
     * written, pgkeel's validate and the agent's start died with URLDecoder's IllegalArgumentException and a stack
     * trace (review13). Patroni decodes nothing at all (it sends {@code p%40ss} as is), as the rows above assert.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"50%off", "100%", "p%zz", "%"})
    void aPercentInTheUrlPasswordThatIsNoEscapeIsThePassword(String password) throws IOException {
        PgkeelConfig.Etcd etcd = load("etcd3:\n  url: 'http://u:" + password + "@a:1'\n", Map.of()).config().etcd();
        assertThat(etcd.password()).hasValue(password);
    }

    static Stream<Arguments> badSettings() {
        return Stream.of(
                Arguments.of("etcd3:\n  hosts: a:1\n  protocol: ftp\n", "patroni.yml line 13", "etcd3.protocol",
                        "'ftp' is not one of [http, https]"),
                Arguments.of("etcd3:\n  url: ftp://a:1\n", "patroni.yml line 12", "etcd3.url",
                        "must be http://host:port or https://host:port"),
                Arguments.of("etcd3:\n  url: 'https://'\n", "patroni.yml line 12", "etcd3.url",
                        "must be http://host:port or https://host:port"),
                Arguments.of("etcd3:\n  hosts: a:1\n  protocol: https\n  cacert: /nonexistent/ca.crt\n",
                        "patroni.yml line 14", "etcd3.cacert", "cannot read /nonexistent/ca.crt"),
                Arguments.of("etcd3:\n  hosts: a:1\n  protocol: https\n  cert: /nonexistent/c.crt\n",
                        "patroni.yml line 14", "etcd3.cert", "cannot read /nonexistent/c.crt"),
                Arguments.of("etcd3:\n  hosts: a:1\n  protocol: https\n  cert: $CERT\n  key: /nonexistent/c.key\n",
                        "patroni.yml line 15", "etcd3.key", "cannot read /nonexistent/c.key"),
                Arguments.of("etcd3:\n  hosts: a:1\n  protocol: https\n  key: $KEY\n", "patroni.yml line 14",
                        "etcd3.key", "needs etcd3.cert"),
                Arguments.of("etcd3:\n  hosts: a:1\n  port: x\n", "patroni.yml line 13", "etcd3.port", "x"));
    }

    @ParameterizedTest(name = "{2}: {3}")
    @MethodSource("badSettings")
    void aBadSettingIsAnErrorNamingTheFieldAndLine(String etcd3, String where, String field, String message) {
        assertThatThrownBy(() -> load(etcd3, Map.of())).isInstanceOf(ConfigException.class)
                .hasMessageContaining(where).hasMessageContaining(field).hasMessageContaining(message);
    }

    /**
     * Patroni's get_etcd_client puts {@code etcd3.protocol} (default http) in front of every {@code hosts} entry and
     * reads {@code host} as a host name: a scheme written there ends up inside the host name
     * ({@code http://[https://a]:1}) and Patroni cannot connect. pgkeel refuses it, naming the key, rather than
     * dropping the scheme and quietly connecting with another protocol than the one written.
     */
    static Stream<Arguments> schemesInHosts() {
        return Stream.of(
                Arguments.of("hosts as a comma string", "etcd3:\n  hosts: https://a:1,https://b:2\n", Map.of(),
                        "patroni.yml line 12: etcd3.hosts", "https://a:1"),
                Arguments.of("hosts as a comma string, second entry", "etcd3:\n  hosts: a:1, http://b:2\n",
                        Map.of(), "patroni.yml line 12: etcd3.hosts", "http://b:2"),
                Arguments.of("hosts as a list", "etcd3:\n  hosts:\n  - https://a:1\n  - https://b:2\n", Map.of(),
                        "patroni.yml line 13: etcd3.hosts[0]", "https://a:1"),
                Arguments.of("hosts as a flow list", "etcd3:\n  hosts: [a:1, 'https://b']\n", Map.of(),
                        "etcd3.hosts[1]", "https://b"),
                Arguments.of("the scheme etcd3.protocol names", "etcd3:\n  hosts: http://a:1\n  protocol: http\n",
                        Map.of(), "patroni.yml line 12: etcd3.hosts", "http://a:1"),
                Arguments.of("host", "etcd3:\n  host: https://a:1\n", Map.of(), "patroni.yml line 12: etcd3.host",
                        "https://a:1"),
                Arguments.of("host without a port", "etcd3:\n  host: HTTPS://a\n", Map.of(),
                        "patroni.yml line 12: etcd3.host", "HTTPS://a"),
                Arguments.of("PATRONI_ETCD3_HOSTS", "etcd3:\n  host: x:9\n",
                        Map.of("PATRONI_ETCD3_HOSTS", "'https://a:1','https://b:2'"),
                        "environment variable PATRONI_ETCD3_HOSTS", "https://a:1"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("schemesInHosts")
    void aSchemeInHostsIsRefusedNotDropped(String form, String etcd3, Map<String, String> env, String where,
                                           String entry) {
        assertThatThrownBy(() -> load(etcd3, env)).isInstanceOf(ConfigException.class)
                .hasMessageContaining(where).hasMessageContaining("'" + entry + "'")
                .hasMessageContaining("without a scheme").hasMessageContaining("etcd3.protocol: https")
                .hasMessageContaining("etcd3.url");
    }

    /**
     * A name java.net.URI does not take as a host name (an underscore, as Docker Compose's {@code etcd_1}; a label
     * that starts or ends with '-'; a last label that starts with a digit): jetcd cannot connect to it, so it is
     * refused in every form, naming the key, the value and that cause.
     */
    static Stream<Arguments> hostNamesTheClientCannotUse() {
        return Stream.of(
                Arguments.of("url", "etcd3:\n  url: https://etcd_1:2379\n", "patroni.yml line 12: etcd3.url",
                        "'https://etcd_1:2379'", "'etcd_1'", "'_'"),
                Arguments.of("url with user info", "etcd3:\n  url: http://u:p@etcd_1\n",
                        "patroni.yml line 12: etcd3.url", "'http://u:p@etcd_1'", "'etcd_1'", "'_'"),
                Arguments.of("hosts", "etcd3:\n  hosts: etcd-0:2379,etcd_1:2379\n",
                        "patroni.yml line 12: etcd3.hosts", "'etcd_1:2379'", "'etcd_1'", "'_'"),
                Arguments.of("hosts as a list", "etcd3:\n  hosts:\n  - etcd_1\n",
                        "patroni.yml line 13: etcd3.hosts[0]", "'etcd_1'", "'etcd_1'", "'_'"),
                Arguments.of("host", "etcd3:\n  host: etcd_1:2379\n", "patroni.yml line 12: etcd3.host",
                        "'etcd_1:2379'", "'etcd_1'", "'_'"),
                Arguments.of("a label ending in '-'", "etcd3:\n  hosts: etcd-.example:2379\n",
                        "patroni.yml line 12: etcd3.hosts", "'etcd-.example:2379'", "'etcd-.example'",
                        "not a host name"),
                Arguments.of("a last label starting with a digit", "etcd3:\n  url: http://etcd.1a:2379\n",
                        "patroni.yml line 12: etcd3.url", "'http://etcd.1a:2379'", "'etcd.1a'", "not a host name"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostNamesTheClientCannotUse")
    void aHostNameTheEtcdClientCannotUseIsRefusedWithTheCause(String form, String etcd3, String where, String value,
                                                              String host, String cause) {
        assertThatThrownBy(() -> load(etcd3, Map.of())).isInstanceOf(ConfigException.class)
                .hasMessageContaining(where).hasMessageContaining(value).hasMessageContaining(host)
                .hasMessageContaining(cause).hasMessageNotContaining("must be http://host:port");
    }

    /**
     * An IPv6 literal that is not one (a bracket left open, a group that is not hex): jetcd builds each endpoint with
     * java.net.URI.create and the agent died at start with a URISyntaxException stack trace (exit 1) on a file
     * {@code pgkeel validate} had called valid. Refused in every form, naming the key and the value.
     */
    static Stream<Arguments> ipv6LiteralsThatAreNotOne() {
        return Stream.of(
                Arguments.of("url, bracket left open", "etcd3:\n  url: http://[::1\n", "patroni.yml line 12: etcd3.url",
                        "[::1"),
                Arguments.of("url, not hex", "etcd3:\n  url: 'http://[fe80::zz]:2379'\n",
                        "patroni.yml line 12: etcd3.url", "fe80::zz"),
                Arguments.of("hosts, bracket left open", "etcd3:\n  hosts: '[::1'\n",
                        "patroni.yml line 12: etcd3.hosts", "[::1"),
                Arguments.of("hosts, not hex", "etcd3:\n  hosts: '[fe80::zz]:2379'\n",
                        "patroni.yml line 12: etcd3.hosts", "fe80::zz"),
                Arguments.of("host, bare and not hex", "etcd3:\n  host: 'fe80::zz'\n",
                        "patroni.yml line 12: etcd3.host", "fe80::zz"),
                // the same kind in more forms (not in review13's rows)
                Arguments.of("url, bare", "etcd3:\n  url: 'http://fe80::1:2379'\n", "patroni.yml line 12: etcd3.url",
                        "goes in brackets"),
                Arguments.of("url, too many groups", "etcd3:\n  url: 'http://[1:2:3:4:5:6:7:8:9]'\n",
                        "patroni.yml line 12: etcd3.url", "IPv6 address too long"),
                Arguments.of("hosts list, not hex", "etcd3:\n  hosts: ['a:1', '[::g]:2']\n",
                        "patroni.yml line 12: etcd3.hosts", "'::g' is not an IPv6 address"),
                Arguments.of("hosts, text after the bracket", "etcd3:\n  hosts: '[::1]2379'\n",
                        "patroni.yml line 12: etcd3.hosts", "only ':port' may follow"),
                Arguments.of("host, too short", "etcd3:\n  host: '[a:b]:1'\n", "patroni.yml line 12: etcd3.host",
                        "IPv6 address too short"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ipv6LiteralsThatAreNotOne")
    void anIpv6LiteralThatIsNotOneIsRefused(String form, String etcd3, String where, String value) {
        assertThatThrownBy(() -> {
            // what the agent does with each endpoint at start (jetcd's ClientBuilder.endpoints)
            load(etcd3, Map.of()).config().etcd().urls().forEach(java.net.URI::create);
        }).isInstanceOf(ConfigException.class).hasMessageContaining(where).hasMessageContaining(value);
    }

    @Test
    void aMissingFileNamedByAVariableIsAnErrorNamingTheVariable() {
        assertThatThrownBy(() -> load("etcd3:\n  hosts: a:1\n  protocol: https\n",
                Map.of("PATRONI_ETCD3_CACERT", "/nonexistent/ca.crt")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("PATRONI_ETCD3_CACERT")
                .hasMessageContaining("cannot read /nonexistent/ca.crt");
    }

    static Stream<Arguments> doubtfulSettings() {
        return Stream.of(
                Arguments.of("etcd3:\n  hosts: a:1\n  username: u\n", "etcd3.username",
                        "without etcd3.password: pgkeel connects without authenticating, as Patroni does"),
                Arguments.of("etcd3:\n  hosts: a:1\n  cacert: $CA\n", "etcd3.cacert",
                        "etcd3.protocol is http: the TLS files are not used"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("doubtfulSettings")
    void aDoubtfulSettingIsAWarningNamingTheField(String etcd3, String field, String message) throws IOException {
        assertThat(load(etcd3, Map.of()).warnings()).anyMatch(w -> w.contains(field) && w.contains(message));
    }

    /** What the agent connects with is acted on; what pgkeel does not do is named, with why. */
    @Test
    void theCatalogueSaysWhichEtcd3KeysAreActedOn() {
        for (String k : List.of("host", "hosts", "url", "port", "protocol", "cacert", "cert", "key", "username",
                "password")) {
            assertThat(PatroniKeys.checkLocal(Map.of("etcd3", Map.of(k, "x")))).as(k).isEmpty();
        }
        for (String k : List.of("proxy", "srv", "srv_suffix", "use_proxies")) {
            List<Finding> findings = PatroniKeys.checkLocal(Map.of("etcd3", Map.of(k, "x")));
            assertThat(findings).as(k).singleElement().satisfies(f -> {
                assertThat(f.verdict()).isEqualTo(Verdict.IGNORED);
                assertThat(f.message()).doesNotContain("plain http").doesNotContain("without authentication");
            });
        }
        assertThat(Optional.of(PatroniKeys.checkLocal(Map.of("etcd3", Map.of("srv", "x"))).get(0).message()))
                .hasValueSatisfying(m -> assertThat(m).contains("DNS SRV"));
    }
}

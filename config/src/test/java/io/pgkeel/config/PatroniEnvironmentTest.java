package io.pgkeel.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** PATRONI_* variables, each in the forms Patroni's config loader accepts, and the key each one sets. */
class PatroniEnvironmentTest {
    @TempDir
    Path dir;

    private static final List<String> TWO_HOSTS = List.of("10.0.0.1:2379", "10.0.0.2:2379");

    static Stream<Arguments> variables() {
        return Stream.of(
                Arguments.of("PATRONI_ETCD3_HOSTS", "'10.0.0.1:2379','10.0.0.2:2379'", "etcd3.hosts", TWO_HOSTS),
                Arguments.of("PATRONI_ETCD3_HOSTS", "\"10.0.0.1:2379\", \"10.0.0.2:2379\"", "etcd3.hosts", TWO_HOSTS),
                Arguments.of("PATRONI_ETCD3_HOSTS", "10.0.0.1:2379,10.0.0.2:2379", "etcd3.hosts", TWO_HOSTS),
                Arguments.of("PATRONI_ETCD3_HOSTS", "[10.0.0.1:2379, 10.0.0.2:2379]", "etcd3.hosts", TWO_HOSTS),
                Arguments.of("PATRONI_ETCD3_HOSTS", "- 10.0.0.1:2379\n- 10.0.0.2:2379", "etcd3.hosts", TWO_HOSTS),
                Arguments.of("PATRONI_ETCD3_HOSTS", "'10.0.0.1:2379'", "etcd3.hosts", List.of("10.0.0.1:2379")),
                Arguments.of("PATRONI_ETCD3_HOST", "10.0.0.1:2379", "etcd3.host", "10.0.0.1:2379"),
                Arguments.of("PATRONI_ETCD3_PROTOCOL", "https", "etcd3.protocol", "https"),
                Arguments.of("PATRONI_ETCD3_CACERT", "/etc/ca.pem", "etcd3.cacert", "/etc/ca.pem"),
                Arguments.of("PATRONI_ETCD3_CERT", "/etc/c.pem", "etcd3.cert", "/etc/c.pem"),
                Arguments.of("PATRONI_ETCD3_KEY", "/etc/k.pem", "etcd3.key", "/etc/k.pem"),
                Arguments.of("PATRONI_ETCD3_USERNAME", "root", "etcd3.username", "root"),
                Arguments.of("PATRONI_ETCD3_PASSWORD", "s3cret", "etcd3.password", "s3cret"),
                Arguments.of("PATRONI_ETCD3_URL", "http://10.0.0.1:2379", "etcd3.url", "http://10.0.0.1:2379"),
                Arguments.of("PATRONI_ETCD3_SRV", "example.org", "etcd3.srv", "example.org"),
                Arguments.of("PATRONI_ETCD3_PORT", "2379", "etcd3.port", 2379L),
                Arguments.of("PATRONI_ETCD3_USE_PROXIES", "true", "etcd3.use_proxies", true),
                Arguments.of("PATRONI_RESTAPI_USERNAME", "admin", "restapi.authentication.username", "admin"),
                Arguments.of("PATRONI_RESTAPI_PASSWORD", "pw", "restapi.authentication.password", "pw"),
                Arguments.of("PATRONI_RESTAPI_CERTFILE", "/c.pem", "restapi.certfile", "/c.pem"),
                Arguments.of("PATRONI_RESTAPI_KEYFILE", "/k.pem", "restapi.keyfile", "/k.pem"),
                Arguments.of("PATRONI_RESTAPI_KEYFILE_PASSWORD", "kp", "restapi.keyfile_password", "kp"),
                Arguments.of("PATRONI_RESTAPI_CAFILE", "/ca.pem", "restapi.cafile", "/ca.pem"),
                Arguments.of("PATRONI_RESTAPI_CIPHERS", "HIGH", "restapi.ciphers", "HIGH"),
                Arguments.of("PATRONI_RESTAPI_VERIFY_CLIENT", "required", "restapi.verify_client", "required"),
                Arguments.of("PATRONI_RESTAPI_ALLOWLIST", "'10.0.0.0/8','127.0.0.1'", "restapi.allowlist",
                        List.of("10.0.0.0/8", "127.0.0.1")),
                Arguments.of("PATRONI_RESTAPI_ALLOWLIST", "10.0.0.0/8,127.0.0.1", "restapi.allowlist",
                        List.of("10.0.0.0/8", "127.0.0.1")),
                Arguments.of("PATRONI_RESTAPI_ALLOWLIST_INCLUDE_MEMBERS", "on", "restapi.allowlist_include_members",
                        true),
                Arguments.of("PATRONI_RESTAPI_HTTP_EXTRA_HEADERS", "X-Frame-Options: SAMEORIGIN",
                        "restapi.http_extra_headers", Map.of("X-Frame-Options", "SAMEORIGIN")),
                Arguments.of("PATRONI_RESTAPI_REQUEST_QUEUE_SIZE", "10", "restapi.request_queue_size", 10L),
                Arguments.of("PATRONI_RESTAPI_SERVER_TOKENS", "Minimal", "restapi.server_tokens", "Minimal"),
                Arguments.of("PATRONI_POSTGRESQL_PROXY_ADDRESS", "10.0.0.1:6432", "postgresql.proxy_address",
                        "10.0.0.1:6432"),
                Arguments.of("PATRONI_POSTGRESQL_CONFIG_DIR", "/etc/pg", "postgresql.config_dir", "/etc/pg"),
                Arguments.of("PATRONI_POSTGRESQL_BIN_PG_CTL", "pg_ctl16", "postgresql.bin_name.pg_ctl", "pg_ctl16"),
                Arguments.of("PATRONI_SUPERUSER_SSLMODE", "verify-full", "postgresql.authentication.superuser.sslmode",
                        "verify-full"),
                Arguments.of("PATRONI_REPLICATION_SSLCERT", "/r.crt", "postgresql.authentication.replication.sslcert",
                        "/r.crt"),
                Arguments.of("PATRONI_REWIND_CHANNEL_BINDING", "require",
                        "postgresql.authentication.rewind.channel_binding", "require"),
                Arguments.of("PATRONI_LOG_LEVEL", "DEBUG", "log.level", "DEBUG"),
                Arguments.of("PATRONI_LOGLEVEL", "DEBUG", "log.level", "DEBUG"),
                Arguments.of("PATRONI_LOG_TYPE", "json", "log.type", "json"),
                Arguments.of("PATRONI_LOG_FORMAT", "%(asctime)s %(message)s", "log.format", "%(asctime)s %(message)s"),
                Arguments.of("PATRONI_LOG_FORMAT", "['message', 'module']", "log.format", List.of("message", "module")),
                Arguments.of("PATRONI_LOG_DIR", "/var/log/patroni", "log.dir", "/var/log/patroni"),
                Arguments.of("PATRONI_LOG_FILE_NUM", "4", "log.file_num", 4L),
                Arguments.of("PATRONI_LOG_LOGGERS", "patroni.postmaster: WARNING, urllib3: DEBUG", "log.loggers",
                        Map.of("patroni.postmaster", "WARNING", "urllib3", "DEBUG")),
                Arguments.of("PATRONI_LOG_DEDUPLICATE_HEARTBEAT_LOGS", "true", "log.deduplicate_heartbeat_logs", true),
                Arguments.of("PATRONI_CTL_INSECURE", "true", "ctl.insecure", true),
                Arguments.of("PATRONI_CTL_USERNAME", "ctl", "ctl.authentication.username", "ctl"),
                Arguments.of("PATRONI_THREAD_POOL_SIZE", "5", "thread_pool_size", 5L),
                Arguments.of("PATRONI_CITUS_GROUP", "1", "citus.group", 1L),
                Arguments.of("PATRONI_admin_PASSWORD", "pw", "bootstrap.users.admin.password", "pw"));
    }

    @ParameterizedTest(name = "{0}={1}")
    @MethodSource("variables")
    void eachVariableSetsItsKeyInEachForm(String variable, String value, String path, Object expected) {
        List<String> warnings = new ArrayList<>();
        ConfigNode.MapNode root = PatroniEnvironment.apply(new ConfigNode.MapNode("", "file", Map.of()),
                Map.of(variable, value), warnings);
        Object plain = root.toPlain();
        for (String key : path.split("\\.")) {
            assertThat(plain).as(path).isInstanceOf(Map.class);
            plain = ((Map<?, ?>) plain).get(key);
        }
        assertThat(plain).as(variable + " -> " + path).isEqualTo(expected);
    }

    @Test
    void userOptionsComeWithTheirPassword() {
        List<String> warnings = new ArrayList<>();
        ConfigNode.MapNode root = PatroniEnvironment.apply(new ConfigNode.MapNode("", "file", Map.of()),
                Map.of("PATRONI_admin_PASSWORD", "pw", "PATRONI_admin_OPTIONS", "createdb,createrole"), warnings);
        assertThat(root.toPlain().toString()).contains("admin={password=pw, options=[createdb, createrole]}");
        assertThat(warnings).singleElement().asString().contains("PATRONI_admin_PASSWORD").contains("bootstrap.users");
    }

    private Path config() throws IOException {
        Path f = dir.resolve("patroni.yml");
        Files.writeString(f, ConfigLoaderTest.PATRONI_YAML);
        return f;
    }

    @Test
    void dockerExampleEtcdHostsGiveTwoHostsAndRestApiCredentialsApply() throws IOException {
        PgkeelConfig c = ConfigLoader.load(config(), Map.of(
                "PATRONI_ETCD3_HOSTS", "'10.0.0.1:2379','10.0.0.2:2379'",
                "PATRONI_RESTAPI_USERNAME", "admin", "PATRONI_RESTAPI_PASSWORD", "s3cret",
                "PATRONI_SUPERUSER_PASSWORD", "")).config();
        assertThat(c.etcd().hosts()).containsExactly(new HostPort("10.0.0.1", 2379), new HostPort("10.0.0.2", 2379));
        assertThat(c.restapi().authentication()).contains(new Credentials("admin", "s3cret"));
        assertThat(c.postgresql().superuser().password()).as("an empty variable sets nothing").isEqualTo("zalando");
    }

    @Test
    void wholeConfigurationInPatroniConfigurationWhenThereIsNoFile() {
        PgkeelConfig c = ConfigLoader.load(dir.resolve("absent.yml"), Map.of(
                "PATRONI_CONFIGURATION", ConfigLoaderTest.PATRONI_YAML, "PATRONI_NAME", "ignored")).config();
        assertThat(c.name()).as("no other variable is considered").isEqualTo("postgresql0");
        assertThat(c.scope()).isEqualTo("batman");
    }

    @Test
    void aListThatIsNotYamlNamesTheVariable() throws IOException {
        Path f = config();
        assertThatThrownBy(() -> ConfigLoader.load(f, Map.of("PATRONI_ETCD3_HOSTS", "['a:1', 'b:2'")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("PATRONI_ETCD3_HOSTS");
    }
}

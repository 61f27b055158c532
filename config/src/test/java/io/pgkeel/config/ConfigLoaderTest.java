package io.pgkeel.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgkeel.common.cluster.SyncMode;
import io.pgkeel.common.cluster.SyncSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    static final String PATRONI_YAML = """
            scope: batman
            namespace: /service/
            name: postgresql0
            restapi:
              listen: 127.0.0.1:8008
              connect_address: 127.0.0.1:8008
            etcd3:
              hosts: 10.0.0.1:2379,10.0.0.2:2379
            bootstrap:
              dcs:
                ttl: 30
                loop_wait: 10
                retry_timeout: 10
                maximum_lag_on_failover: 1048576
                postgresql:
                  use_pg_rewind: true
                  use_slots: true
                  parameters:
                    wal_level: replica
                    max_wal_senders: 10
              initdb:
              - encoding: UTF8
              - data-checksums
            postgresql:
              listen: 127.0.0.1:5432
              connect_address: 127.0.0.1:5432
              data_dir: data/postgresql0
              bin_dir: /usr/lib/postgresql/16/bin
              pgpass: /tmp/pgpass0
              authentication:
                superuser:
                  username: postgres
                  password: zalando
                replication:
                  username: replicator
                  password: rep-pass
                rewind:
                  username: rewind_user
                  password: rewind_password
              parameters:
                unix_socket_directories: '..'
              pg_hba:
              - host replication replicator 127.0.0.1/32 md5
              - host all all 0.0.0.0/0 md5
            tags:
              nofailover: false
              failover_priority: 1
              noloadbalance: false
            """;

    private Path write(String yaml) throws IOException {
        Path f = dir.resolve("patroni.yml");
        Files.writeString(f, yaml);
        return f;
    }

    private ConfigLoader.Loaded load(String yaml) throws IOException {
        return ConfigLoader.load(write(yaml), Map.of());
    }

    @Test
    void readsPatronisOwnSampleConfiguration() throws IOException {
        ConfigLoader.Loaded loaded = load(PATRONI_YAML);
        PgkeelConfig c = loaded.config();
        assertThat(loaded.warnings()).isEmpty();
        assertThat(c.scope()).isEqualTo("batman");
        assertThat(c.name()).isEqualTo("postgresql0");
        assertThat(c.clusterPrefix()).isEqualTo("/service/batman/");
        assertThat(c.restapi().listen()).isEqualTo(new HostPort("127.0.0.1", 8008));
        assertThat(c.restapi().apiUrl()).isEqualTo("http://127.0.0.1:8008/patroni");
        assertThat(c.etcd().hosts()).containsExactly(new HostPort("10.0.0.1", 2379), new HostPort("10.0.0.2", 2379));
        assertThat(c.bootstrapDynamic().ttl()).isEqualTo(30);
        assertThat(c.bootstrapDynamic().usePgRewind()).isTrue();
        assertThat(c.bootstrapDynamic().pgParameters()).containsEntry("max_wal_senders", "10");
        assertThat(c.initdbArgs()).containsExactly("--encoding=UTF8", "--data-checksums");
        assertThat(c.postgresql().port()).isEqualTo(5432);
        assertThat(c.postgresql().superuser()).isEqualTo(new Credentials("postgres", "zalando"));
        assertThat(c.postgresql().rewind()).hasValue(new Credentials("rewind_user", "rewind_password"));
        assertThat(c.postgresql().pgHba()).hasSize(2);
        assertThat(c.tags()).containsEntry("failover_priority", 1L).containsEntry("nofailover", false);
        assertThat(c.postgresql().superuser().toString()).doesNotContain("zalando");
    }

    @Test
    void environmentOverridesTheFileAsPatronisDoes() throws IOException {
        ConfigLoader.Loaded loaded = ConfigLoader.load(write(PATRONI_YAML), Map.of("PATRONI_NAME", "pg9",
                "PATRONI_ETCD3_HOSTS", "127.0.0.1:2379", "PATRONI_SUPERUSER_PASSWORD", "from-env"));
        assertThat(loaded.config().name()).isEqualTo("pg9");
        assertThat(loaded.config().etcd().hosts()).containsExactly(new HostPort("127.0.0.1", 2379));
        assertThat(loaded.config().postgresql().superuser().password()).isEqualTo("from-env");
    }

    @Test
    void unknownKeysAreWarningsNamingPathAndLine() throws IOException {
        ConfigLoader.Loaded loaded = load(PATRONI_YAML.replace("  connect_address: 127.0.0.1:8008",
                "  connect_address: 127.0.0.1:8008\n  conect_timeout: 5") + "watchdog:\n  mode: automatic\n");
        assertThat(loaded.warnings()).anyMatch(w -> w.contains("patroni.yml line 7")
                && w.contains("restapi.conect_timeout") && w.contains("not a known key"));
        assertThat(loaded.warnings()).anyMatch(w -> w.contains("watchdog") && w.contains("does not use yet"));
    }

    @Test
    void wrongTypeIsAnErrorNamingPathAndLine() throws IOException {
        assertThatThrownBy(() -> load(PATRONI_YAML.replace("ttl: 30", "ttl: thirty")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("patroni.yml line 11")
                .hasMessageContaining("bootstrap.dcs.ttl")
                .hasMessageContaining("thirty");
    }

    /** Patroni 4.1 accepts any timing and adjusts it with a warning (config.py _validate_and_adjust_timeouts). */
    @Test
    void oddTimingIsAdjustedAsPatroniDoesWithAWarningNamingTheLine() throws IOException {
        ConfigLoader.Loaded loaded = load(PATRONI_YAML.replace("retry_timeout: 10", "retry_timeout: 15"));
        assertThat(loaded.config().bootstrapDynamic().loopWait()).isEqualTo(1);
        assertThat(loaded.config().bootstrapDynamic().retryTimeout()).isEqualTo(14);
        assertThat(loaded.config().bootstrapDynamic().ttl()).isEqualTo(30);
        assertThat(loaded.warnings()).anyMatch(w -> w.contains("line 11") && w.contains("bootstrap.dcs")
                && w.contains("adjusting loop_wait from 10 to 1 and retry_timeout from 15 to 14"));
        ConfigLoader.Loaded ttl20 = load(PATRONI_YAML.replace("ttl: 30", "ttl: 20"));
        assertThat(ttl20.config().bootstrapDynamic().loopWait()).isEqualTo(1);
        assertThat(ttl20.config().bootstrapDynamic().retryTimeout()).isEqualTo(9);
        assertThat(ttl20.config().bootstrapDynamic().ttl()).isEqualTo(20);
        assertThat(ttl20.config().bootstrapDcs()).as("the config key is written as the operator wrote it")
                .containsEntry("ttl", 20L).containsEntry("retry_timeout", 10L).containsEntry("loop_wait", 10L);
    }

    @Test
    void aRefusedSafetySettingStopsTheAgentNamingTheKeyAndLine() {
        assertThatThrownBy(() -> load(PATRONI_YAML.replace("    ttl: 30", "    ttl: 30\n    standby_cluster:\n"
                + "      host: 10.0.0.9")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("patroni.yml line 13: bootstrap.dcs.standby_cluster = {host=10.0.0.9}")
                .hasMessageContaining("standby clusters are not implemented yet");
    }

    /** Issue 13: failsafe_mode is acted on, in each of Patroni's spellings; off unless set. */
    @Test
    void failsafeModeLoadsInEachSpelling() throws IOException {
        assertThat(load(PATRONI_YAML).config().bootstrapDynamic().failsafeMode()).isFalse();
        for (String on : java.util.List.of("true", "on", "yes", "'1'", "True")) {
            assertThat(load(PATRONI_YAML.replace("    ttl: 30", "    ttl: 30\n    failsafe_mode: " + on)).config()
                    .bootstrapDynamic().failsafeMode()).as(on).isTrue();
        }
        for (String off : java.util.List.of("false", "off", "no", "0")) {
            assertThat(load(PATRONI_YAML.replace("    ttl: 30", "    ttl: 30\n    failsafe_mode: " + off)).config()
                    .bootstrapDynamic().failsafeMode()).as(off).isFalse();
        }
    }

    /**
     * A value of {@code bootstrap.dcs} that Patroni's parsing would not take is refused when the file is read (the
     * agent exits 2, {@code pgkeel validate} says invalid), before it could be written into the config key at
     * bootstrap: the message says so, and does not claim a fallback ("using false") that is never used. The same value
     * typed into etcd's config key later is a warning and the fallback does apply (DynamicConfigParserTest).
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"failsafe_mode: maybe", "failsafe_mode: 2",
            "synchronous_mode: sometimes", "synchronous_mode_strict: perhaps", "pause: kinda",
            "member_slots_ttl: forever", "synchronous_node_count: 0", "synchronous_node_count: many",
            "maximum_lag_on_syncnode: -5",
            "primary_start_timeout: later"})
    void aBadBootstrapDcsValueIsRefusedAndTheMessageSaysSo(String line) {
        String key = line.substring(0, line.indexOf(':'));
        assertThatThrownBy(() -> load(PATRONI_YAML.replace("    ttl: 30", "    ttl: 30\n    " + line)))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("patroni.yml line 12: bootstrap.dcs." + key + ": ")
                .hasMessageContaining(line.substring(line.indexOf(' ') + 1))
                .hasMessageNotContaining("; using");
    }

    /** Issue 12: synchronous replication's settings load; a bad value is named with its path and its own line. */
    @Test
    void synchronousReplicationSettingsLoad_aBadValueIsNamedWithItsPathAndLine() throws IOException {
        ConfigLoader.Loaded loaded = load(PATRONI_YAML.replace("    ttl: 30", "    ttl: 30"
                + "\n    synchronous_mode: quorum\n    synchronous_mode_strict: true\n    synchronous_node_count: 2"
                + "\n    maximum_lag_on_syncnode: 1048576")
                .replace("  noloadbalance: false\n", "  noloadbalance: false\n  nosync: false\n  sync_priority: 2\n"));
        assertThat(loaded.config().bootstrapDynamic().sync()).isEqualTo(new SyncSettings(SyncMode.QUORUM, true, 2,
                1048576));
        assertThat(loaded.config().tags()).containsEntry("sync_priority", 2L);
        assertThat(loaded.warnings()).noneMatch(w -> w.contains("sync"));
        for (String[] bad : List.of(
                new String[] {"synchronous_mode: sometimes",
                        "bootstrap.dcs.synchronous_mode: expected on, off or quorum"},
                new String[] {"synchronous_mode_strict: maybe",
                        "bootstrap.dcs.synchronous_mode_strict: expected true or false"},
                new String[] {"synchronous_node_count: 0", "bootstrap.dcs.synchronous_node_count: must be at least 1"},
                new String[] {"maximum_lag_on_syncnode: 16MB", "bootstrap.dcs.maximum_lag_on_syncnode: expected a whole"
                        + " number, got '16MB'"})) {
            assertThatThrownBy(() -> load(PATRONI_YAML.replace("    ttl: 30", "    ttl: 30\n    " + bad[0])))
                    .as(bad[0]).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("patroni.yml line 12: " + bad[1]);
        }
    }

    @Test
    void portOutOfRangeIsAnError() throws IOException {
        assertThatThrownBy(() -> load(PATRONI_YAML.replace("listen: 127.0.0.1:8008", "listen: 127.0.0.1:80080")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("line 5").hasMessageContaining("restapi.listen")
                .hasMessageContaining("port 80080 is out of range");
    }

    @Test
    void missingRequiredKeyIsAnError() throws IOException {
        assertThatThrownBy(() -> load(PATRONI_YAML.replace("  data_dir: data/postgresql0\n", "")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("postgresql.data_dir is required");
        assertThatThrownBy(() -> load(PATRONI_YAML.replace("scope: batman\n", "")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("scope is required");
    }

    @Test
    void etcdV2SectionIsRefusedWithTheFix() throws IOException {
        assertThatThrownBy(() -> load(PATRONI_YAML.replace("etcd3:", "etcd:")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("write the same hosts under 'etcd3:'");
    }

    @Test
    void brokenYamlNamesTheLine() throws IOException {
        assertThatThrownBy(() -> load("scope: a\nname: [unclosed\nrestapi: {}\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("not valid YAML")
                .hasMessageContaining("line");
        assertThatThrownBy(() -> load("scope: a\nscope: b\n"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("line 2");
        assertThatThrownBy(() -> load(""))
                .isInstanceOf(ConfigException.class).hasMessageContaining("empty");
    }

    @Test
    void restApiAuthenticationAndAllowlist() throws IOException {
        String yaml = PATRONI_YAML.replace("  connect_address: 127.0.0.1:8008\n", """
                  connect_address: 127.0.0.1:8008
                  authentication:
                    username: admin
                    password: s3cret
                  allowlist: [127.0.0.1, 10.0.0.0/8]
                """);
        PgkeelConfig.RestApi api = load(yaml).config().restapi();
        assertThat(api.authentication()).hasValue(new Credentials("admin", "s3cret"));
        assertThat(api.allowlist()).containsExactly("127.0.0.1", "10.0.0.0/8");
        assertThatThrownBy(() -> load(yaml.replace("10.0.0.0/8", "10.0.0.300")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("line 10")
                .hasMessageContaining("restapi.allowlist[1]").hasMessageContaining("not an IP address");
    }

    @Test
    void restApiTls() throws IOException {
        Path cert = Files.writeString(dir.resolve("cert.pem"), Pem.CERTIFICATE + Pem.KEY);
        String base = PATRONI_YAML.replace("  connect_address: 127.0.0.1:8008\n",
                "  connect_address: 127.0.0.1:8008\n  certfile: " + cert + "\n");
        PgkeelConfig.RestApi api = load(base).config().restapi();
        assertThat(api.tls()).hasValueSatisfying(t -> {
            assertThat(t.keyfile()).isEqualTo(cert);
            assertThat(t.verifyClient()).isEqualTo("none");
        });
        assertThat(api.apiUrl()).isEqualTo("https://127.0.0.1:8008/patroni");
        assertThatThrownBy(() -> load(base.replace("  certfile:", "  verify_client: required\n  certfile:")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("restapi.verify_client")
                .hasMessageContaining("cafile");
        assertThatThrownBy(() -> load(base.replace(cert.toString(), "/nonexistent/cert.pem")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("restapi.certfile")
                .hasMessageContaining("cannot read");
        assertThatThrownBy(() -> load(PATRONI_YAML.replace("  connect_address: 127.0.0.1:8008\n",
                "  connect_address: 127.0.0.1:8008\n  keyfile: /x.key\n")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("needs restapi.certfile");
    }

    @Test
    void missingFileIsAClearError() {
        assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("nope.yml"), Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("cannot read configuration file");
    }
}

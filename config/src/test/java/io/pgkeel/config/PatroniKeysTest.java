package io.pgkeel.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgkeel.config.PatroniKeys.Finding;
import io.pgkeel.config.PatroniKeys.Key;
import io.pgkeel.config.PatroniKeys.Status;
import io.pgkeel.config.PatroniKeys.Verdict;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

class PatroniKeysTest {
    @TempDir
    Path dir;

    /**
     * Every key path of Patroni 4.1's configuration schema, copied from {@code patroni/validator.py} ({@code schema},
     * {@code validate_etcd}, {@code userattributes}) at patroni/patroni de6b22c (4.1.4), plus the dynamic keys of
     * {@code docs/dynamic_configuration.rst} and the local ones of {@code docs/yaml_configuration.rst} that the
     * validator does not list. {@code bootstrap.dcs.} keys are looked up as config key entries.
     */
    static final List<String> PATRONI_41_KEYS = List.of(
            "name", "scope", "namespace", "thread_pool_size", "thread_stack_size",
            "log.type", "log.level", "log.traceback_level", "log.format", "log.dateformat", "log.static_fields",
            "log.max_queue_size", "log.dir", "log.file_num", "log.file_size", "log.mode", "log.loggers",
            "log.deduplicate_heartbeat_logs",
            "ctl.insecure", "ctl.cacert", "ctl.certfile", "ctl.keyfile", "ctl.keyfile_password", "ctl.authentication",
            "restapi.thread_pool_size", "restapi.listen", "restapi.connect_address", "restapi.authentication.username",
            "restapi.authentication.password", "restapi.certfile", "restapi.keyfile", "restapi.keyfile_password",
            "restapi.cafile", "restapi.ciphers", "restapi.verify_client", "restapi.allowlist",
            "restapi.allowlist_include_members", "restapi.http_extra_headers", "restapi.https_extra_headers",
            "restapi.request_queue_size", "restapi.server_tokens",
            "bootstrap.dcs.ttl", "bootstrap.dcs.loop_wait", "bootstrap.dcs.retry_timeout",
            "bootstrap.dcs.maximum_lag_on_failover", "bootstrap.dcs.maximum_lag_on_syncnode",
            "bootstrap.dcs.member_slots_ttl", "bootstrap.dcs.postgresql.parameters.max_connections",
            "bootstrap.dcs.postgresql.parameters.max_locks_per_transaction",
            "bootstrap.dcs.postgresql.parameters.max_prepared_transactions",
            "bootstrap.dcs.postgresql.parameters.max_replication_slots",
            "bootstrap.dcs.postgresql.parameters.max_wal_senders",
            "bootstrap.dcs.postgresql.parameters.max_worker_processes",
            "bootstrap.dcs.postgresql.use_pg_rewind", "bootstrap.dcs.postgresql.rewind",
            "bootstrap.dcs.postgresql.basebackup", "bootstrap.dcs.postgresql.pg_hba", "bootstrap.dcs.postgresql.pg_ident",
            "bootstrap.dcs.postgresql.pg_ctl_timeout", "bootstrap.dcs.postgresql.use_slots",
            "bootstrap.dcs.primary_start_timeout", "bootstrap.dcs.primary_stop_timeout",
            "bootstrap.dcs.standby_cluster.host", "bootstrap.dcs.standby_cluster.port",
            "bootstrap.dcs.standby_cluster.restore_command", "bootstrap.dcs.standby_cluster.primary_slot_name",
            "bootstrap.dcs.standby_cluster.create_replica_methods",
            "bootstrap.dcs.standby_cluster.archive_cleanup_command",
            "bootstrap.dcs.standby_cluster.recovery_min_apply_delay",
            "bootstrap.dcs.synchronous_mode", "bootstrap.dcs.synchronous_mode_strict",
            "bootstrap.dcs.synchronous_node_count", "bootstrap.initdb", "bootstrap.method",
            "consul.host", "consul.url", "consul.port", "consul.scheme", "consul.token", "consul.verify",
            "consul.cacert", "consul.cert", "consul.key", "consul.dc", "consul.checks", "consul.register_service",
            "consul.service_tags", "consul.service_check_interval", "consul.service_check_tls_server_name",
            "consul.consistency",
            "etcd.host", "etcd.hosts", "etcd.srv", "etcd.srv_suffix", "etcd.url", "etcd.proxy", "etcd.protocol",
            "etcd.username", "etcd.password", "etcd.cacert", "etcd.cert", "etcd.key",
            "etcd3.host", "etcd3.hosts", "etcd3.srv", "etcd3.srv_suffix", "etcd3.url", "etcd3.proxy", "etcd3.protocol",
            "etcd3.username", "etcd3.password", "etcd3.cacert", "etcd3.cert", "etcd3.key",
            "exhibitor.hosts", "exhibitor.port", "exhibitor.poll_interval",
            "raft.self_addr", "raft.bind_addr", "raft.partner_addrs", "raft.data_dir", "raft.password",
            "raft.min_timeout", "raft.max_timeout", "raft.connection_timeout", "raft.append_entries_period",
            "raft.connection_retry_time", "raft.leader_fallback_timeout",
            "zookeeper.hosts", "zookeeper.use_ssl", "zookeeper.cacert", "zookeeper.cert", "zookeeper.key",
            "zookeeper.key_password", "zookeeper.verify", "zookeeper.set_acls", "zookeeper.auth_data",
            "kubernetes.labels", "kubernetes.bypass_api_service", "kubernetes.namespace", "kubernetes.scope_label",
            "kubernetes.role_label", "kubernetes.leader_label_value", "kubernetes.follower_label_value",
            "kubernetes.standby_leader_label_value", "kubernetes.tmp_role_label", "kubernetes.use_endpoints",
            "kubernetes.pod_ip", "kubernetes.ports", "kubernetes.cacert", "kubernetes.retriable_http_codes",
            "kubernetes.bootstrap_labels",
            "citus.database", "citus.group",
            "postgresql.listen", "postgresql.connect_address", "postgresql.proxy_address",
            "postgresql.authentication.replication.username", "postgresql.authentication.replication.password",
            "postgresql.authentication.superuser.username", "postgresql.authentication.superuser.password",
            "postgresql.authentication.rewind.username", "postgresql.authentication.rewind.password",
            "postgresql.data_dir", "postgresql.bin_name.pg_ctl", "postgresql.bin_name.initdb",
            "postgresql.bin_name.pg_controldata", "postgresql.bin_name.pg_basebackup", "postgresql.bin_name.postgres",
            "postgresql.bin_name.pg_isready", "postgresql.bin_name.pg_rewind", "postgresql.bin_dir",
            "postgresql.parameters.unix_socket_directories", "postgresql.pg_hba", "postgresql.pg_ident",
            "postgresql.pg_ctl_timeout", "postgresql.use_pg_rewind", "postgresql.rewind", "postgresql.basebackup",
            "watchdog.mode", "watchdog.device", "watchdog.safety_margin",
            "tags.nofailover", "tags.failover_priority", "tags.clonefrom", "tags.noloadbalance", "tags.replicatefrom",
            "tags.nosync", "tags.sync_priority", "tags.nostream",
            // docs/dynamic_configuration.rst
            "bootstrap.dcs.primary_race_backoff", "bootstrap.dcs.max_timelines_history", "bootstrap.dcs.failsafe_mode",
            "bootstrap.dcs.postgresql.recovery_conf.restore_command", "bootstrap.dcs.postgresql.parameters_primary.x",
            "bootstrap.dcs.postgresql.parameters_replica.x", "bootstrap.dcs.postgresql.parameters_standby_leader.x",
            "bootstrap.dcs.postgresql.pg_hba_primary", "bootstrap.dcs.postgresql.pg_hba_replica",
            "bootstrap.dcs.postgresql.pg_hba_standby_leader", "bootstrap.dcs.postgresql.pg_ident_primary",
            "bootstrap.dcs.postgresql.pg_ident_replica", "bootstrap.dcs.postgresql.pg_ident_standby_leader",
            "bootstrap.dcs.slots.my_slot", "bootstrap.dcs.ignore_slots", "bootstrap.dcs.check_timeline",
            "bootstrap.dcs.pause",
            // docs/yaml_configuration.rst
            "bootstrap.post_bootstrap", "bootstrap.post_init", "etcd3.use_proxies",
            "postgresql.authentication.superuser.sslmode", "postgresql.authentication.superuser.sslkey",
            "postgresql.authentication.superuser.sslpassword", "postgresql.authentication.superuser.sslcert",
            "postgresql.authentication.superuser.sslrootcert", "postgresql.authentication.superuser.sslcrl",
            "postgresql.authentication.superuser.sslcrldir", "postgresql.authentication.superuser.sslnegotiation",
            "postgresql.authentication.superuser.gssencmode", "postgresql.authentication.superuser.channel_binding",
            "postgresql.callbacks.on_reload", "postgresql.callbacks.on_restart", "postgresql.callbacks.on_role_change",
            "postgresql.callbacks.on_start", "postgresql.callbacks.on_stop", "postgresql.create_replica_methods",
            "postgresql.config_dir", "postgresql.use_unix_socket", "postgresql.use_unix_socket_repl",
            "postgresql.pgpass", "postgresql.recovery_conf.restore_command", "postgresql.custom_conf",
            "postgresql.parameters_primary.x", "postgresql.pg_hba_replica", "postgresql.pg_ident_standby_leader",
            "postgresql.remove_data_directory_on_rewind_failure",
            "postgresql.remove_data_directory_on_diverged_timelines", "postgresql.pre_promote",
            "postgresql.before_stop");

    @Test
    void theCatalogueCoversEveryKeyOfPatroni41() {
        List<String> missing = PATRONI_41_KEYS.stream().filter(p -> PatroniKeys.local(p).isEmpty()).toList();
        assertThat(missing).isEmpty();
        // and the config key itself: every bootstrap.dcs key is known there too
        assertThat(PATRONI_41_KEYS.stream().filter(p -> p.startsWith("bootstrap.dcs."))
                .filter(p -> PatroniKeys.dynamic(p.substring("bootstrap.dcs.".length())).isEmpty()).toList()).isEmpty();
    }

    /** A value that switches a catalogue key's feature on. */
    private static Object on(Key k) {
        return k.path().startsWith("standby_cluster") ? Map.of("host", "10.0.0.9", "port", 5432) : Boolean.TRUE;
    }

    /** The concrete path written for a catalogue key ({@code *} becomes a made-up name). */
    private static String concrete(String path) {
        return path.endsWith(".*") ? path.substring(0, path.length() - 2) + ".custom_x" : path;
    }

    /** The catalogue key as written in the local YAML and as the config key names it. */
    private static List<String[]> placements(Key k) {
        List<String[]> out = new ArrayList<>();
        String written = k.path().startsWith("standby_cluster") ? "standby_cluster" : concrete(k.path());
        if (k.scope() == PatroniKeys.Scope.DYNAMIC) {
            out.add(new String[] {"bootstrap.dcs." + written, written});
        } else {
            out.add(new String[] {written, null});
        }
        return out;
    }

    /** A "section.*" key is judged once for the whole section: the finding names the section. */
    private static String section(String written, Key k) {
        return k.path().endsWith(".*") && written.endsWith(".custom_x")
                ? written.substring(0, written.length() - ".custom_x".length()) : written;
    }

    @Test
    void everyKeyOfTheCatalogueGetsItsVerdict_inTheLocalYamlAndTheConfigKey() {
        for (Key k : PatroniKeys.all()) {
            for (String[] where : placements(k)) {
                Object value = k.status() == Status.REFUSED_SAFETY ? on(k) : "x";
                Map<String, Object> tree = tree(where[0], value);
                List<Finding> local = PatroniKeys.checkLocal(tree);
                List<Finding> dynamic = where[1] == null ? null : PatroniKeys.checkDynamic(tree(where[1], value), "");
                Verdict expected = switch (k.status()) {
                    case ACTED_ON -> null;
                    case IGNORED_WARN -> Verdict.IGNORED;
                    case REFUSED_SAFETY -> Verdict.REFUSED;
                };
                String as = k.path() + " at " + where[0];
                if (expected == null) {
                    assertThat(local).as(as).isEmpty();
                    if (dynamic != null) {
                        assertThat(dynamic).as(as).isEmpty();
                    }
                } else {
                    assertThat(local).as(as).singleElement().satisfies(f -> {
                        assertThat(f.path()).isIn(where[0], section(where[0], k));
                        assertThat(f.verdict()).isEqualTo(expected);
                        assertThat(f.message()).contains(k.reason());
                    });
                    if (dynamic != null) {
                        assertThat(dynamic).as(as).singleElement().satisfies(f -> {
                            assertThat(f.path()).isIn(where[1], section(where[1], k));
                            assertThat(f.verdict()).isEqualTo(expected);
                        });
                    }
                }
                if (k.status() == Status.REFUSED_SAFETY) {
                    Object off = k.path().startsWith("standby_cluster") ? Map.of("primary_slot_name", "x") : false;
                    assertThat(PatroniKeys.checkLocal(tree(where[0], off))).as(as + " switched off").isEmpty();
                }
            }
        }
    }

    /**
     * Each safety setting, in every form Patroni reads as "on", refuses; every form of "off" is fine. failsafe_mode
     * is acted on since issue 13, in every form.
     */
    @Test
    void safetySettingsRefuseInEveryFormOfOn() {
        for (Object any : List.of(true, "on", "true", "ON", "yes", 1, false, "off", "false", "no", 0)) {
            assertThat(PatroniKeys.checkDynamic(Map.of("failsafe_mode", any), "config")).as("failsafe_mode=" + any)
                    .isEmpty();
        }
        for (String key : List.of("host", "port", "restore_command")) {
            assertThat(PatroniKeys.checkDynamic(Map.of("standby_cluster", Map.of(key, "x")), "config")).as(key)
                    .singleElement().satisfies(f -> {
                        assertThat(f.verdict()).isEqualTo(Verdict.REFUSED);
                        assertThat(f.path()).isEqualTo("config.standby_cluster");
                    });
        }
        assertThat(PatroniKeys.checkDynamic(Map.of("standby_cluster", Map.of("host", "")), "")).isEmpty();
        // at the top of the local file, where older configurations wrote it, it refuses too
        assertThat(PatroniKeys.checkLocal(Map.of("standby_cluster", Map.of("host", "10.0.0.9"))))
                .extracting(Finding::verdict).contains(Verdict.REFUSED);
        assertThat(PatroniKeys.checkLocal(Map.of("ttl", 30))).singleElement()
                .extracting(Finding::verdict).isEqualTo(Verdict.IGNORED);
    }

    /**
     * Synchronous replication is acted on (issue 12): its four settings in every form Patroni takes, in the config
     * key, bootstrap.dcs and through the loader, and the nosync and sync_priority tags, draw no finding; at the top
     * of the local file, where pgkeel does not read them, they are named as ignored there.
     */
    @Test
    void synchronousReplicationSettingsAreActedOn() {
        for (Object mode : List.of(true, "on", "true", "quorum", "ON", "yes", 1, false, "off", 0)) {
            Map<String, Object> sync = Map.of("synchronous_mode", mode, "synchronous_mode_strict", true,
                    "synchronous_node_count", 2, "maximum_lag_on_syncnode", 1048576);
            assertThat(PatroniKeys.checkDynamic(sync, "config")).as("synchronous_mode=" + mode).isEmpty();
            assertThat(PatroniKeys.checkLocal(Map.of("bootstrap", Map.of("dcs", sync)))).as("bootstrap.dcs").isEmpty();
            assertThat(PatroniKeys.checkEdit(Map.of(), sync).refused()).isEmpty();
            assertThat(PatroniKeys.checkEdit(Map.of(), sync).warnings()).isEmpty();
        }
        assertThat(PatroniKeys.checkLocal(Map.of("tags", Map.of("nosync", true, "sync_priority", 0)))).isEmpty();
        assertThat(PatroniKeys.checkLocal(Map.of("synchronous_mode", true))).singleElement().satisfies(f -> {
            assertThat(f.verdict()).isEqualTo(Verdict.IGNORED);
            assertThat(f.message()).startsWith("is ignored here (a dynamic setting");
        });
    }

    /** postgres0.yml has {@code clonefrom: false} and {@code nostream: false}: off, they ask for nothing to ignore. */
    @Test
    void aBooleanTagThatIsOffIsNoWarning_onIsOne() {
        for (String tag : List.of("clonefrom", "nostream")) {
            for (Object off : java.util.Arrays.asList(false, 0, "", null)) {
                Map<String, Object> tags = new java.util.HashMap<>();
                tags.put(tag, off);
                assertThat(PatroniKeys.checkLocal(Map.of("tags", tags))).as(tag + ": " + off).isEmpty();
            }
            assertThat(PatroniKeys.checkLocal(Map.of("tags", Map.of(tag, true)))).as(tag + ": true").singleElement()
                    .extracting(Finding::verdict).isEqualTo(Verdict.IGNORED);
        }
    }

    @Test
    void aCustomReplicaMethodsSectionIsNamedAsIgnored_notAsATypo() {
        Map<String, Object> pg = new LinkedHashMap<>();
        pg.put("create_replica_methods", List.of("wal_e", "basebackup"));
        pg.put("wal_e", Map.of("command", "patroni_wale_restore"));
        assertThat(PatroniKeys.checkLocal(Map.of("postgresql", pg))).extracting(Finding::path, Finding::verdict)
                .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple("postgresql.create_replica_methods",
                        Verdict.IGNORED), org.assertj.core.groups.Tuple.tuple("postgresql.wal_e", Verdict.IGNORED));
        assertThat(PatroniKeys.checkLocal(Map.of("postgresql", Map.of("wal_e", Map.of()))))
                .singleElement().extracting(Finding::verdict).isEqualTo(Verdict.UNKNOWN);
    }

    /** Through the loader: each ignored key is a warning with its path and line, each refusal an error. */
    @Test
    void theLoaderWarnsOrRefusesEveryKeyWithItsLine() throws IOException {
        for (Key k : PatroniKeys.all()) {
            if (k.status() == Status.ACTED_ON) {
                continue;
            }
            String path = placements(k).get(0)[0];
            Object value = k.status() == Status.REFUSED_SAFETY ? on(k) : "x";
            Map<String, Object> yaml = new Yaml().load(ConfigLoaderTest.PATRONI_YAML);
            merge(yaml, tree(path, value));
            Path file = dir.resolve("patroni.yml");
            org.yaml.snakeyaml.DumperOptions block = new org.yaml.snakeyaml.DumperOptions();
            block.setDefaultFlowStyle(org.yaml.snakeyaml.DumperOptions.FlowStyle.BLOCK);
            Files.writeString(file, new Yaml(block).dump(yaml));
            List<String> lines = Files.readAllLines(file);
            String named = PatroniKeys.checkLocal(tree(path, value)).get(0).path();
            if (k.status() == Status.IGNORED_WARN) {
                assertThat(ConfigLoader.load(file, Map.of()).warnings()).as(path)
                        .anyMatch(w -> w.contains(": " + named + " is a Patroni setting")
                                && w.contains("patroni.yml line " + lineOf(lines, named, !named.equals(path) || value instanceof Map) + ": "));
            } else {
                assertThatThrownBy(() -> ConfigLoader.load(file, Map.of())).as(path)
                        .isInstanceOf(ConfigException.class)
                        .hasMessageContaining("patroni.yml line " + lineOf(lines, named, !named.equals(path) || value instanceof Map) + ": " + named + " = ")
                        .hasMessageContaining("pgkeel will not run without it");
            }
        }
    }

    /** A section's node starts at its first entry, on the line below its name. */
    private static int lineOf(List<String> lines, String named, boolean section) {
        return lineOf(lines, named) + (section ? 1 : 0);
    }

    private static int lineOf(List<String> lines, String path) {
        String[] parts = path.split("\\.");
        int depth = 0;
        for (int i = 0; i < lines.size(); i++) {
            String l = lines.get(i);
            if (l.startsWith("  ".repeat(depth) + parts[depth] + ":")) {
                if (++depth == parts.length) {
                    return i + 1;
                }
            }
        }
        throw new AssertionError(path + " not found in\n" + String.join("\n", lines));
    }

    @SuppressWarnings("unchecked")
    private static void merge(Map<String, Object> into, Map<String, Object> from) {
        from.forEach((k, v) -> {
            if (v instanceof Map<?, ?> m && into.get(k) instanceof Map<?, ?> existing) {
                merge((Map<String, Object>) existing, (Map<String, Object>) m);
            } else {
                into.put(k, v);
            }
        });
    }

    private static Map<String, Object> tree(String path, Object value) {
        String[] parts = path.split("\\.");
        Object v = value;
        for (int i = parts.length - 1; i >= 0; i--) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put(parts[i], v);
            v = m;
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> out = (Map<String, Object>) v;
        return out;
    }
}

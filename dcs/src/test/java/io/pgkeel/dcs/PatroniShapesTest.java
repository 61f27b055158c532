package io.pgkeel.dcs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgkeel.common.cluster.ConfigPatch;
import io.pgkeel.common.cluster.FailoverKey;
import io.pgkeel.common.cluster.Member;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Values as Patroni 2.x, 3.x and 4.x write them (shapes from Patroni's source: 2.1.6 {@code bad15804}, Debian's
 * 3.0.2, 4.1.4 {@code de6b22c8}; {@code json.dumps(..., separators=(',', ':'))}), read by pgkeel and, where
 * pgkeel rewrites the key, written back unchanged when pgkeel has nothing to change.
 */
class PatroniShapesTest {

    static Stream<Arguments> history() {
        return Stream.of(
                Arguments.of("Patroni before 1.6: 3 fields", "[[1,25165984,\"no recovery target specified\"]]"),
                Arguments.of("Patroni before 2.0: a timestamp",
                        "[[1,25165984,\"no recovery target specified\",\"2020-12-10T18:37:06.718112+08:00\"]]"),
                Arguments.of("Patroni 2.0 and later: the new leader",
                        "[[1,25165984,\"no recovery target specified\",\"2020-12-10T18:37:06.718112+08:00\",\"pg1\"],"
                                + "[2,83886240,\"no recovery target specified\",\"2024-03-01T09:00:00+00:00\",\"pg2\"]]"),
                Arguments.of("all shapes in one key, as an upgraded cluster has them",
                        "[[1,25165984,\"no recovery target specified\"],"
                                + "[2,50331808,\"no recovery target specified\",\"2020-12-10T18:37:06.718112+08:00\"],"
                                + "[3,83886240,\"no recovery target specified\",\"2024-03-01T09:00:00+00:00\",\"pg2\"]]"),
                Arguments.of("a reason PostgreSQL wrote with a stop point",
                        "[[4,100663456,\"before 2024-03-01 09:00:00.123456+00\",\"2024-03-01T09:00:01-05:00\",\"a\"]]"),
                Arguments.of("no switch yet (timeline 1 after a reset)", "[]"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void history(String version, String text) {
        ValueCodec.Decoded<List<List<Object>>> d = ValueCodec.history(text);
        assertThat(d.problem()).isNull();
        assertThat(ValueCodec.json(d.value())).isEqualTo(text);
    }

    static Stream<Arguments> config() {
        return Stream.of(
                Arguments.of("Patroni 2.1 bootstrap.dcs",
                        "{\"ttl\":30,\"loop_wait\":10,\"retry_timeout\":10,\"maximum_lag_on_failover\":1048576,"
                                + "\"master_start_timeout\":300,\"synchronous_mode\":false,\"postgresql\":{\"use_pg_rewind\":true,"
                                + "\"use_slots\":true,\"parameters\":{\"wal_level\":\"hot_standby\",\"hot_standby\":\"on\","
                                + "\"max_connections\":100,\"max_wal_senders\":10,\"wal_keep_segments\":8,"
                                + "\"archive_mode\":\"on\",\"archive_timeout\":\"1800s\",\"archive_command\":\"mkdir -p ../wal_archive && test ! -f ../wal_archive/%f && cp %p ../wal_archive/%f\"},"
                                + "\"recovery_conf\":{\"restore_command\":\"cp ../wal_archive/%f %p\"}}}"),
                Arguments.of("Patroni 3.0: permanent slots, pg_hba, a standby_cluster set to null by a patch",
                        "{\"ttl\":30,\"loop_wait\":10,\"retry_timeout\":10,\"maximum_lag_on_failover\":1048576,"
                                + "\"check_timeline\":true,\"max_timelines_history\":0,\"slots\":{\"standby_dc2\":{\"type\":\"physical\"},"
                                + "\"cdc\":{\"type\":\"logical\",\"database\":\"app\",\"plugin\":\"pgoutput\"}},"
                                + "\"ignore_slots\":[{\"name\":\"ext\",\"type\":\"logical\"}],\"postgresql\":{\"use_pg_rewind\":true,"
                                + "\"pg_hba\":[\"host replication replicator 0.0.0.0/0 md5\",\"host all all 0.0.0.0/0 md5\"],"
                                + "\"parameters\":{\"max_connections\":100,\"wal_log_hints\":true,\"hot_standby\":\"on\","
                                + "\"checkpoint_completion_target\":0.9,\"shared_buffers\":\"128MB\"}},\"standby_cluster\":null}"),
                Arguments.of("Patroni 4.1: quorum, failsafe, member_slots_ttl, keys pgkeel does not know",
                        "{\"ttl\":30,\"loop_wait\":10,\"retry_timeout\":10,\"maximum_lag_on_failover\":1048576,"
                                + "\"primary_start_timeout\":300,\"primary_stop_timeout\":0,\"synchronous_mode\":\"quorum\","
                                + "\"synchronous_node_count\":1,\"failsafe_mode\":true,\"member_slots_ttl\":\"30min\","
                                + "\"permanent_slots\":{\"standby_dc2\":{\"type\":\"physical\"}},"
                                + "\"postgresql\":{\"use_pg_rewind\":false,\"use_slots\":true,\"parameters\":{\"max_connections\":200,"
                                + "\"track_commit_timestamp\":false,\"wal_keep_size\":\"1GB\",\"jit\":\"off\"}},"
                                + "\"x_vendor\":{\"nested\":[1,2.5,\"three\",true,null,{}]},\"big\":18446744073709551616}"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void config(String version, String text) throws Exception {
        List<String> problems = new ArrayList<>();
        ValueCodec.Decoded<io.pgkeel.common.cluster.DynamicConfig> d = ValueCodec.config(text, 7, problems);
        assertThat(d.problem()).isNull();
        assertThat(ValueCodec.json(d.value().raw())).as("written back as read").isEqualTo(text);

        // a PATCH of one key leaves every other key, with its type, as it was
        Map<String, Object> patched = ConfigPatch.merge(d.value().raw(), Map.of("ttl", 20));
        JsonNode expected = ValueCodec.JSON.readTree(text);
        ((com.fasterxml.jackson.databind.node.ObjectNode) expected).put("ttl", 20);
        assertThat(ValueCodec.JSON.readTree(ValueCodec.json(patched))).isEqualTo(expected);
    }

    static Stream<Arguments> status() {
        return Stream.of(
                Arguments.of("Patroni 2.1", "{\"optime\":67395656}", 67395656L, Set.of()),
                Arguments.of("Patroni 3.0 with permanent slots", "{\"optime\":67395656,\"slots\":{\"standby_dc2\":67395600,"
                        + "\"cdc\":67390000}}", 67395656L, Set.of()),
                Arguments.of("Patroni 4.1", "{\"optime\":67395656,\"slots\":{\"pg2\":67395656},\"retain_slots\":[\"pg2\",\"pg3\"]}",
                        67395656L, Set.of("pg2", "pg3")),
                Arguments.of("Patroni 4.1 without permanent slots", "{\"optime\":67395656,\"slots\":null,\"retain_slots\":[\"pg2\"]}",
                        67395656L, Set.of("pg2")),
                Arguments.of("optime as a string (Patroni reads int(optime))", "{\"optime\":\"67395656\"}", 67395656L, Set.of()),
                Arguments.of("a field a later version adds", "{\"optime\":67395656,\"future\":{\"a\":1}}", 67395656L, Set.of()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void status(String version, String text, long optime, Set<String> retained) {
        ValueCodec.Decoded<ValueCodec.Status> d = ValueCodec.status(text);
        assertThat(d.problem()).isNull();
        assertThat(d.value()).isEqualTo(new ValueCodec.Status(optime, retained));
        String rewritten = ValueCodec.encodeStatus(text, optime, retained);
        assertThat(rewritten).as("the leader's rewrite keeps every field it does not own")
                .isEqualTo(text.replace("\"67395656\"", "67395656"));
        assertThat(ValueCodec.status(ValueCodec.encodeStatus(text, 99, Set.of("x"))).value())
                .isEqualTo(new ValueCodec.Status(99, Set.of("x")));
    }

    static Stream<Arguments> failover() {
        return Stream.of(
                Arguments.of("a switchover (Patroni 2.x-4.x)", "{\"leader\":\"pg1\",\"member\":\"pg2\"}",
                        new FailoverKey("pg1", "pg2", null, 3)),
                Arguments.of("scheduled, Python isoformat", "{\"leader\":\"pg1\",\"member\":\"pg2\","
                        + "\"scheduled_at\":\"2026-11-29T03:00:00+01:00\"}",
                        new FailoverKey("pg1", "pg2", "2026-11-29T03:00:00+01:00", 3)),
                Arguments.of("scheduled, Patroni's docstring form", "{\"leader\":\"pg1\",\"member\":\"pg2\","
                        + "\"scheduled_at\":\"2016-01-14T10:09:57.1394Z\"}",
                        new FailoverKey("pg1", "pg2", "2016-01-14T10:09:57.1394Z", 3)),
                Arguments.of("a failover: no leader key", "{\"member\":\"pg2\"}", new FailoverKey(null, "pg2", null, 3)),
                Arguments.of("a switchover to whoever is best: no member", "{\"leader\":\"pg1\"}",
                        new FailoverKey("pg1", null, null, 3)),
                Arguments.of("names that are numbers", "{\"leader\":1,\"member\":2}", new FailoverKey("1", "2", null, 3)),
                Arguments.of("nulls", "{\"leader\":\"pg1\",\"member\":null,\"scheduled_at\":null}",
                        new FailoverKey("pg1", null, null, 3)),
                Arguments.of("Patroni's legacy leader:member", "pg1:pg2", new FailoverKey("pg1", "pg2", null, 3)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void failover(String form, String text, FailoverKey expected) {
        assertThat(ValueCodec.failover(text, 3).value()).isEqualTo(expected);
    }

    static Stream<Arguments> members() {
        Map<String, Object> tags = new LinkedHashMap<>();
        tags.put("nofailover", true);
        tags.put("failover_priority", 2L);
        tags.put("replicatefrom", "pg1");
        tags.put("weight", 1.5);
        tags.put("zones", List.of("a", "b"));
        return Stream.of(
                Arguments.of("Patroni 2.1 primary (role master)",
                        "{\"conn_url\":\"postgres://10.0.0.1:5432/postgres\",\"api_url\":\"http://10.0.0.1:8008/patroni\","
                                + "\"state\":\"running\",\"role\":\"master\",\"version\":\"2.1.6\",\"xlog_location\":67395656,"
                                + "\"timeline\":3}",
                        new Member("pg1", "postgres://10.0.0.1:5432/postgres", "http://10.0.0.1:8008/patroni", "running",
                                "master", 3, 67395656, null, Map.of(), 5)),
                Arguments.of("Patroni 3.0 replica with tags of every type",
                        "{\"conn_url\":\"postgres://10.0.0.2:5432/postgres\",\"api_url\":\"http://10.0.0.2:8008/patroni\","
                                + "\"state\":\"running\",\"role\":\"replica\",\"version\":\"3.0.2\",\"xlog_location\":67395600,"
                                + "\"replication_state\":\"streaming\",\"timeline\":3,\"tags\":{\"nofailover\":true,"
                                + "\"failover_priority\":2,\"replicatefrom\":\"pg1\",\"weight\":1.5,\"zones\":[\"a\",\"b\"]}}",
                        new Member("pg1", "postgres://10.0.0.2:5432/postgres", "http://10.0.0.2:8008/patroni", "running",
                                "replica", 3, 67395600, "streaming", tags, 5)),
                Arguments.of("Patroni 4.1 replica: receive/replay LSNs, pending restart reason, scheduled restart, proxy",
                        "{\"conn_url\":\"postgres://10.0.0.3:5432/postgres\",\"api_url\":\"http://10.0.0.3:8008/patroni\","
                                + "\"state\":\"running\",\"role\":\"replica\",\"version\":\"4.1.4\",\"proxy_url\":\"postgres://lb:5000/postgres\","
                                + "\"pending_restart\":true,\"pending_restart_reason\":{\"max_connections\":{\"old_value\":\"100\","
                                + "\"new_value\":\"200\"}},\"xlog_location\":67395656,\"replay_lsn\":67395656,"
                                + "\"receive_lsn\":67395700,\"replication_state\":\"streaming\",\"timeline\":3,"
                                + "\"scheduled_restart\":{\"schedule\":\"2026-11-29T03:00:00+00:00\",\"postmaster_start_time\":\"x\"},"
                                + "\"pause\":true}",
                        new Member("pg1", "postgres://10.0.0.3:5432/postgres", "http://10.0.0.3:8008/patroni", "running",
                                "replica", 3, 67395656, "streaming", Map.of(), 5, true, true, 67395700, 67395656,
                                Map.of("max_connections", Map.of("old_value", "100", "new_value", "200")),
                                Map.of("schedule", "2026-11-29T03:00:00+00:00", "postmaster_start_time", "x"))),
                Arguments.of("a primary just promoted (checkpoint_after_promote) with xlog_location as a string",
                        "{\"conn_url\":\"postgres://h:5432/postgres\",\"api_url\":\"http://h:8008/patroni\",\"state\":\"running\","
                                + "\"role\":\"primary\",\"version\":\"4.0.0\",\"checkpoint_after_promote\":false,"
                                + "\"xlog_location\":\"67395656\",\"timeline\":\"4\"}",
                        new Member("pg1", "postgres://h:5432/postgres", "http://h:8008/patroni", "running", "primary", 4,
                                67395656, null, Map.of(), 5)),
                Arguments.of("a member still creating its replica: few fields",
                        "{\"conn_url\":\"postgres://h:5432/postgres\",\"api_url\":\"http://h:8008/patroni\","
                                + "\"state\":\"creating replica\",\"role\":\"uninitialized\",\"version\":\"3.3.0\"}",
                        new Member("pg1", "postgres://h:5432/postgres", "http://h:8008/patroni", "creating replica",
                                "uninitialized", 0, 0, null, Map.of(), 5)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void members(String version, String text, Member expected) {
        assertThat(ValueCodec.member("pg1", text, 5).value()).isEqualTo(expected);
    }
}

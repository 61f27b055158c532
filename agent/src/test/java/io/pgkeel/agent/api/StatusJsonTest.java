package io.pgkeel.agent.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.common.pg.PgDetail;
import io.pgkeel.common.pg.PgStatus;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every field of GET /patroni follows the state it reports (Patroni 4.1 api.py {@code get_postgresql_status} and
 * {@code _write_status_response}): each row sets one piece of state and reads the field it drives.
 */
class StatusJsonTest {
    /** The field must be left out, as Patroni leaves it out. */
    private static final Object ABSENT = new Object() {
        @Override
        public String toString() {
            return "(absent)";
        }
    };

    static Arguments row(String name, NodeSnapshot s, String field, Object expected) {
        return Arguments.of(Named.of(name, s), field, expected);
    }

    static Map<String, Object> sender(String app, String syncState) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("usename", "replicator");
        r.put("application_name", app);
        r.put("client_addr", "10.0.0.2");
        r.put("state", "streaming");
        r.put("sync_state", syncState);
        r.put("sync_priority", 0);
        return r;
    }

    static PgStatus detail(PgStatus pg, PgDetail d) {
        return pg.withDetail(d);
    }

    static Stream<Arguments> rows() {
        NodeSnapshot primary = Snapshots.primary();
        NodeSnapshot replica = Snapshots.replica(5000, 4000, Map.of());
        NodeSnapshot stopped = Snapshots.stopped();
        Snapshots.SyncStates sync = Snapshots.SyncStates.of();
        PgDetail paused = new PgDetail(true, "2026-11-28 00:00:01.5+00:00", 6000, List.of(), Map.of());
        PgDetail senders = new PgDetail(false, null, 0, List.of(sender("n2", "async"), sender("n3", "sync")), Map.of());
        Map<String, Map<String, String>> reason = Map.of("max_connections", Map.of("old_value", "100",
                "new_value", "101"));
        PgStatus pending = new PgStatus(true, "42", true, io.pgkeel.common.pg.PgRunState.RUNNING, false, 2, 5000, 0, 0,
                null, null, java.util.Set.of(), 150018, "2026-11-28 00:00:00+00:00", true)
                .withDetail(new PgDetail(false, null, 0, List.of(), reason));
        return Stream.of(
                row("replica, replay running: xlog.paused", replica, "xlog.paused", false),
                row("replica, replay paused: xlog.paused", Snapshots.with(replica, detail(replica.pg(), paused)),
                        "xlog.paused", true),
                row("replica: xlog.replayed_timestamp null when nothing replayed", replica, "xlog.replayed_timestamp",
                        null),
                row("replica: xlog.replayed_timestamp", Snapshots.with(replica, detail(replica.pg(), paused)),
                        "xlog.replayed_timestamp", "2026-11-28 00:00:01.5+00:00"),
                row("replica: xlog.received_location", replica, "xlog.received_location", 5000L),
                row("replica: xlog.replayed_location", replica, "xlog.replayed_location", 4000L),
                row("replica: latest_end_lsn is never shown (Patroni pops it)",
                        Snapshots.with(replica, detail(replica.pg(), paused)), "latest_end_lsn", ABSENT),
                row("primary: xlog.location", primary, "xlog.location", 5000L),
                row("primary: no replication list without WAL senders", primary, "replication", ABSENT),
                row("primary with two WAL senders: replication", Snapshots.with(primary, detail(primary.pg(), senders)),
                        "replication", List.of(sender("n2", "async"), sender("n3", "sync"))),
                row("primary: timeline", primary, "timeline", 2),
                row("replica: replication_state", replica, "replication_state", "streaming"),
                row("primary: no replication_state", primary, "replication_state", ABSENT),
                row("primary: role", primary, "role", "primary"),
                row("replica: role", replica, "role", "replica"),
                row("primary: state", primary, "state", "running"),
                row("stopped: state", stopped, "state", "stopped"),
                row("stopped: no xlog (Patroni's status has only state and role then)", stopped, "xlog", ABSENT),
                row("stopped: no server_version", stopped, "server_version", ABSENT),
                row("primary: server_version", primary, "server_version", 150018),
                row("primary: postmaster_start_time", primary, "postmaster_start_time", "2026-11-28 00:00:00+00"),
                row("pending restart: pending_restart", Snapshots.with(primary, pending), "pending_restart", true),
                row("pending restart: pending_restart_reason", Snapshots.with(primary, pending),
                        "pending_restart_reason", reason),
                row("no pending restart: pending_restart absent", primary, "pending_restart", ABSENT),
                row("no pending restart: pending_restart_reason absent", primary, "pending_restart_reason", ABSENT),
                row("leader key held: cluster_unlocked absent", primary, "cluster_unlocked", ABSENT),
                row("no leader key: cluster_unlocked", Snapshots.with(primary, Snapshots.cluster(null, 0), true, 1),
                        "cluster_unlocked", true),
                row("no cluster view: cluster_unlocked", Snapshots.with(primary, null, false, 0), "cluster_unlocked",
                        true),
                row("not paused: pause absent", primary, "pause", ABSENT),
                row("paused: pause", Snapshots.withConfig(primary, Map.of("pause", true)), "pause", true),
                row("deciding paused with no paused view read (bootstrap.dcs pauses, etcd not reached yet): pause",
                        Snapshots.decidingPaused(primary, true), "pause", true),
                row("dcs_last_seen", Snapshots.with(primary, primary.cluster(), true, 1_700_000_123L), "dcs_last_seen",
                        1_700_000_123L),
                row("DCS never reached: dcs_last_seen 0 (Patroni always sends it)",
                        Snapshots.with(primary, null, false, 0), "dcs_last_seen", 0L),
                row("failsafe_mode off: failsafe_mode_is_active absent", primary, "failsafe_mode_is_active", ABSENT),
                row("failsafe_mode on, DCS down, the round not confirmed: not active",
                        Snapshots.withFailsafe(Snapshots.with(primary, primary.cluster(), false, 1),
                                new NodeSnapshot.FailsafeState(true, Map.of("n1", "http://a/patroni"), false)),
                        "failsafe_mode_is_active", ABSENT),
                row("failsafe_mode on, DCS down, every member confirmed: failsafe_mode_is_active",
                        Snapshots.withFailsafe(Snapshots.with(primary, primary.cluster(), false, 1),
                                new NodeSnapshot.FailsafeState(true, Map.of("n1", "http://a/patroni"), true)),
                        "failsafe_mode_is_active", true),
                row("a replica whose promise runs: failsafe_mode_is_active",
                        Snapshots.withFailsafe(replica, new NodeSnapshot.FailsafeState(true, Map.of(), true)),
                        "failsafe_mode_is_active", true),
                row("sync mode off: sync_standby absent", replica, "sync_standby", ABSENT),
                row("on, named in the sync key: sync_standby", sync.onNamed(), "sync_standby", true),
                row("on, named in the sync key: quorum_standby absent", sync.onNamed(), "quorum_standby", ABSENT),
                row("off, named in a sync key: sync_standby absent", sync.offNamed(), "sync_standby", ABSENT),
                row("on, not named: sync_standby absent", sync.onOther(), "sync_standby", ABSENT),
                row("on, stale key (written by n3, n2 leads): sync_standby absent", sync.onStale(), "sync_standby", ABSENT),
                row("on, no leader key: sync_standby absent", sync.onUnlocked(), "sync_standby", ABSENT),
                row("on, primary named as a voter: sync_standby absent", sync.onPrimary(), "sync_standby", ABSENT),
                row("on, named, stopped: sync_standby absent", sync.onStopped(), "sync_standby", ABSENT),
                row("quorum, named: quorum_standby", sync.quorumNamed(), "quorum_standby", true),
                row("quorum, named: sync_standby absent", sync.quorumNamed(), "sync_standby", ABSENT),
                row("quorum, not named: quorum_standby absent", sync.quorumOther(), "quorum_standby", ABSENT),
                row("quorum, stale key: quorum_standby absent", sync.quorumStale(), "quorum_standby", ABSENT),
                row("database_system_identifier", primary, "database_system_identifier", "42"),
                row("patroni.version", primary, "patroni.version", "0.1.0"),
                row("patroni.scope", primary, "patroni.scope", "demo"),
                row("patroni.name", primary, "patroni.name", "n1"),
                row("tags", Snapshots.replica(1, 1, Map.of("zone", "a")), "tags", Map.of("zone", "a")),
                row("no restart planned: scheduled_restart absent", primary, "scheduled_restart", ABSENT),
                row("restart planned: scheduled_restart.schedule", Snapshots.withScheduledRestart(primary,
                        java.time.Instant.parse("2026-12-01T01:00:00Z"), null), "scheduled_restart",
                        Map.of("schedule", "2026-12-01T01:00:00+00:00")),
                row("restart planned for replicas: scheduled_restart.role", Snapshots.withScheduledRestart(replica,
                        java.time.Instant.parse("2026-12-01T01:00:00Z"), "replica"), "scheduled_restart",
                        Map.of("schedule", "2026-12-01T01:00:00+00:00", "role", "replica")));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("rows")
    void fieldFollowsTheState(NodeSnapshot s, String field, Object expected) {
        Object v = StatusJson.of(s);
        for (String part : field.split("\\.")) {
            if (!(v instanceof Map<?, ?> m) || !m.containsKey(part)) {
                v = ABSENT;
                break;
            }
            v = m.get(part);
        }
        assertThat(v).isEqualTo(expected);
    }
}

package io.pgkeel.agent.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.agent.ha.NodeSnapshot.FailsafeState;
import io.pgkeel.common.pg.PgDetail;
import io.pgkeel.common.pg.PgRunState;
import io.pgkeel.common.pg.PgStatus;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every Patroni metric (Patroni 4.1 api.py {@code do_GET_metrics}) follows the state it reports: each row sets
 * one piece of state and reads the metric it drives.
 */
class MetricsTest {
    static Arguments row(String name, NodeSnapshot s, String metric, double expected) {
        return Arguments.of(Named.of(name, s), metric, expected);
    }

    static Stream<Arguments> rows() {
        NodeSnapshot primary = Snapshots.primary();
        NodeSnapshot replica = Snapshots.replica(5000, 4000, Map.of());
        NodeSnapshot stopped = Snapshots.stopped();
        Snapshots.SyncStates sync = Snapshots.SyncStates.of();
        PgStatus pausedPg = replica.pg().withDetail(new PgDetail(true, "2026-11-28 00:00:01.5+00:00", 6000, List.of(),
                Map.of()));
        NodeSnapshot paused = Snapshots.with(replica, pausedPg);
        PgStatus pendingPg = new PgStatus(true, "42", true, PgRunState.RUNNING, false, 2, 5000, 0, 0, null, null,
                Set.of(), 150018, "2026-11-28 00:00:00+00:00", true);
        PgStatus archive = new PgStatus(true, "42", false, PgRunState.RUNNING, true, 3, 10, 10, 10,
                "in archive recovery", null, Set.of(), 150018, "2026-11-28 00:00:00+00");
        return Stream.of(
                row("replica, replay running", replica, "patroni_xlog_paused", 0),
                row("replica, replay paused", paused, "patroni_xlog_paused", 1),
                row("replica: replayed timestamp unknown", replica, "patroni_xlog_replayed_timestamp", 0),
                row("replica: replayed timestamp", paused, "patroni_xlog_replayed_timestamp", 1_795_824_001.5),
                row("no pending restart", primary, "patroni_pending_restart", 0),
                row("pending restart", Snapshots.with(primary, pendingPg), "patroni_pending_restart", 1),
                row("primary", primary, "patroni_primary", 1),
                row("replica: not primary", replica, "patroni_primary", 0),
                row("replica", replica, "patroni_replica", 1),
                row("primary: not replica", primary, "patroni_replica", 0),
                row("primary: xlog location", primary, "patroni_xlog_location", 5000),
                row("replica: received", replica, "patroni_xlog_received_location", 5000),
                row("replica: replayed", replica, "patroni_xlog_replayed_location", 4000),
                row("primary: received 0", primary, "patroni_xlog_received_location", 0),
                row("streaming", replica, "patroni_postgres_streaming", 1),
                row("archive recovery: not streaming", Snapshots.with(replica, archive), "patroni_postgres_streaming",
                        0),
                row("archive recovery", Snapshots.with(replica, archive), "patroni_postgres_in_archive_recovery", 1),
                row("timeline", Snapshots.with(replica, archive), "patroni_postgres_timeline", 3),
                row("stopped: timeline 0", stopped, "patroni_postgres_timeline", 0),
                row("running", primary, "patroni_postgres_running", 1),
                row("stopped: not running", stopped, "patroni_postgres_running", 0),
                row("server version", primary, "patroni_postgres_server_version", 150018),
                row("postgres state running", primary, "patroni_postgres_state", 5),
                row("postgres state stopped", stopped, "patroni_postgres_state", 12),
                row("locked", primary, "patroni_cluster_unlocked", 0),
                row("unlocked", Snapshots.with(primary, Snapshots.cluster(null, 0), true, 1),
                        "patroni_cluster_unlocked", 1),
                row("not paused", primary, "patroni_is_paused", 0),
                row("paused", Snapshots.withConfig(primary, Map.of("pause", true)), "patroni_is_paused", 1),
                row("dcs last seen", Snapshots.with(primary, primary.cluster(), true, 1_700_000_123L),
                        "patroni_dcs_last_seen", 1_700_000_123L),
                row("failsafe_mode off", primary, "patroni_failsafe_mode_enabled", 0),
                row("failsafe_mode on", Snapshots.withFailsafe(primary, new FailsafeState(true, Map.of(), false)),
                        "patroni_failsafe_mode_enabled", 1),
                row("failsafe_mode on, not active", Snapshots.withFailsafe(primary,
                        new FailsafeState(true, Map.of("n1", "http://a/patroni"), false)),
                        "patroni_failsafe_mode_is_active", 0),
                row("failsafe_mode on, active", Snapshots.withFailsafe(primary,
                        new FailsafeState(true, Map.of("n1", "http://a/patroni"), true)),
                        "patroni_failsafe_mode_is_active", 1),
                row("a primary in failsafe without the leader key: still the primary", Snapshots.withFailsafe(
                        new NodeSnapshot(primary.identity(), primary.pg(), primary.cluster(), false, false, "x", "y",
                                primary.lastCycleNanos(), 1, 30, 10), new FailsafeState(true, Map.of(), true)),
                        "patroni_primary", 1),
                row("a primary without the leader key, failsafe not active", Snapshots.withFailsafe(
                        new NodeSnapshot(primary.identity(), primary.pg(), primary.cluster(), false, false, "x", "y",
                                primary.lastCycleNanos(), 1, 30, 10), new FailsafeState(true, Map.of(), false)),
                        "patroni_primary", 0),
                row("failsafe key names me: member", Snapshots.withFailsafe(primary,
                        new FailsafeState(true, Map.of("n1", "http://a/patroni", "n2", "http://b/patroni"), false)),
                        "patroni_failsafe_member", 1),
                row("failsafe key without me: not a member", Snapshots.withFailsafe(primary,
                        new FailsafeState(true, Map.of("n2", "http://b/patroni"), true)),
                        "patroni_failsafe_member", 0),
                row("no failsafe key: not a member", Snapshots.withFailsafe(primary,
                        new FailsafeState(true, Map.of(), true)), "patroni_failsafe_member", 0),
                row("failsafe_mode off, a key left naming me: member (Patroni reads the key alone)",
                        Snapshots.withFailsafe(primary, new FailsafeState(false, Map.of("n1", "http://a/patroni"),
                                false)), "patroni_failsafe_member", 1),
                row("not a standby leader", primary, "patroni_standby_leader", 0),
                row("sync mode off: no sync standby", replica, "patroni_sync_standby", 0),
                row("on, named in the sync key: sync standby", sync.onNamed(), "patroni_sync_standby", 1),
                row("on, named in the sync key: no quorum standby", sync.onNamed(), "patroni_quorum_standby", 0),
                row("on, not named: no sync standby", sync.onOther(), "patroni_sync_standby", 0),
                row("on, stale key: no sync standby", sync.onStale(), "patroni_sync_standby", 0),
                row("on, no leader key: no sync standby", sync.onUnlocked(), "patroni_sync_standby", 0),
                row("off, named in a sync key: no sync standby", sync.offNamed(), "patroni_sync_standby", 0),
                row("primary, on: no sync standby", sync.onPrimary(), "patroni_sync_standby", 0),
                row("stopped, on, named: no sync standby", sync.onStopped(), "patroni_sync_standby", 0),
                row("quorum, named: quorum standby", sync.quorumNamed(), "patroni_quorum_standby", 1),
                row("quorum, named: no sync standby", sync.quorumNamed(), "patroni_sync_standby", 0),
                row("quorum, not named: no quorum standby", sync.quorumOther(), "patroni_quorum_standby", 0),
                row("quorum, stale key: no quorum standby", sync.quorumStale(), "patroni_quorum_standby", 0),
                row("failover priority default", replica, "patroni_failover_priority", 1),
                row("failover priority 7", Snapshots.replica(1, 1, Map.of("failover_priority", 7)),
                        "patroni_failover_priority", 7),
                row("nofailover wins over failover_priority",
                        Snapshots.replica(1, 1, Map.of("failover_priority", 7, "nofailover", true)),
                        "patroni_failover_priority", 0),
                row("postmaster start time with Patroni's offset form",
                        Snapshots.with(primary, pendingPg), "patroni_postmaster_start_time", 1_795_824_000),
                row("postmaster start time with PostgreSQL's offset form", primary, "patroni_postmaster_start_time",
                        1_795_824_000));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("rows")
    void metricFollowsTheState(NodeSnapshot s, String metric, double expected) {
        String text = new Metrics("demo", "n1", "0.1.0", () -> s).scrape();
        String line = text.lines().filter(l -> l.startsWith(metric + "{")).findFirst().orElseThrow(
                () -> new AssertionError(metric + " missing from\n" + text));
        assertThat(Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).isEqualTo(expected);
    }
}

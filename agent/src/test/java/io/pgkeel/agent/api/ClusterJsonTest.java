package io.pgkeel.agent.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.FailoverKey;
import io.pgkeel.common.cluster.LeaderKey;
import io.pgkeel.common.cluster.Member;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** GET /cluster, field by field as Patroni 4.1's cluster_as_json computes it from the keys read. */
class ClusterJsonTest {
    private static final Object ABSENT = new Object() {
        @Override
        public String toString() {
            return "(absent)";
        }
    };
    private static final Member LEADER = new Member("n1", "postgres://10.0.0.1:5432/postgres",
            "http://10.0.0.1:8008/patroni", "running", "primary", 3, 5000, null, Map.of(), 1);
    private static final Member REPLICA = new Member("n2", "postgres://10.0.0.2:5433/postgres",
            "http://10.0.0.2:8008/patroni", "running", "replica", 3, 4200, "streaming", Map.of(), 1, false, false,
            4600, 4200, Map.of(), Map.of());

    private static Member copy(Member m, String state, String replicationState, int timeline, long xlog, long receive,
                               long replay, boolean pendingRestart, Map<String, Object> reason,
                               Map<String, Object> scheduled, Map<String, Object> tags, String connUrl) {
        return new Member(m.name(), connUrl, m.apiUrl(), state, m.role(), timeline, xlog, replicationState, tags,
                m.modRevision(), m.pause(), pendingRestart, receive, replay, reason, scheduled);
    }

    private static Member with(Member m, String field, Object v) {
        return switch (field) {
            case "state" -> copy(m, (String) v, m.replicationState(), m.timeline(), m.xlogLocation(), m.receiveLsn(),
                    m.replayLsn(), m.pendingRestart(), m.pendingRestartReason(), m.scheduledRestart(), m.tags(),
                    m.connUrl());
            case "replication_state" -> copy(m, m.state(), (String) v, m.timeline(), m.xlogLocation(), m.receiveLsn(),
                    m.replayLsn(), m.pendingRestart(), m.pendingRestartReason(), m.scheduledRestart(), m.tags(),
                    m.connUrl());
            case "timeline" -> copy(m, m.state(), m.replicationState(), (Integer) v, m.xlogLocation(), m.receiveLsn(),
                    m.replayLsn(), m.pendingRestart(), m.pendingRestartReason(), m.scheduledRestart(), m.tags(),
                    m.connUrl());
            case "xlog_location" -> copy(m, m.state(), m.replicationState(), m.timeline(), (Long) v, m.receiveLsn(),
                    m.replayLsn(), m.pendingRestart(), m.pendingRestartReason(), m.scheduledRestart(), m.tags(),
                    m.connUrl());
            case "receive_lsn" -> copy(m, m.state(), m.replicationState(), m.timeline(), m.xlogLocation(), (Long) v,
                    m.replayLsn(), m.pendingRestart(), m.pendingRestartReason(), m.scheduledRestart(), m.tags(),
                    m.connUrl());
            case "replay_lsn" -> copy(m, m.state(), m.replicationState(), m.timeline(), m.xlogLocation(),
                    m.receiveLsn(), (Long) v, m.pendingRestart(), m.pendingRestartReason(), m.scheduledRestart(),
                    m.tags(), m.connUrl());
            case "pending_restart" -> copy(m, m.state(), m.replicationState(), m.timeline(), m.xlogLocation(),
                    m.receiveLsn(), m.replayLsn(), (Boolean) v, m.pendingRestartReason(), m.scheduledRestart(),
                    m.tags(), m.connUrl());
            case "pending_restart_reason" -> copy(m, m.state(), m.replicationState(), m.timeline(), m.xlogLocation(),
                    m.receiveLsn(), m.replayLsn(), true, cast(v), m.scheduledRestart(), m.tags(), m.connUrl());
            case "scheduled_restart" -> copy(m, m.state(), m.replicationState(), m.timeline(), m.xlogLocation(),
                    m.receiveLsn(), m.replayLsn(), m.pendingRestart(), m.pendingRestartReason(), cast(v), m.tags(),
                    m.connUrl());
            case "tags" -> copy(m, m.state(), m.replicationState(), m.timeline(), m.xlogLocation(), m.receiveLsn(),
                    m.replayLsn(), m.pendingRestart(), m.pendingRestartReason(), m.scheduledRestart(), cast(v),
                    m.connUrl());
            case "conn_url" -> copy(m, m.state(), m.replicationState(), m.timeline(), m.xlogLocation(), m.receiveLsn(),
                    m.replayLsn(), m.pendingRestart(), m.pendingRestartReason(), m.scheduledRestart(), m.tags(),
                    (String) v);
            default -> throw new IllegalArgumentException(field);
        };
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Object v) {
        return (Map<String, Object>) v;
    }

    /** (row, member n2 as written, its field in /cluster, expected); n1 holds the leader key, last_lsn 5000. */
    static Arguments row(String name, Member n2, String field, Object expected) {
        return Arguments.of(Named.of(name, n2), field, expected);
    }

    static Stream<Arguments> replicaRows() {
        Map<String, Object> reason = Map.of("max_connections", Map.of("old_value", "40", "new_value", "50"));
        Map<String, Object> scheduled = Map.of("schedule", "2026-12-01T01:00:00+00:00", "role", "replica");
        return Stream.of(
                row("name", REPLICA, "name", "n2"),
                row("role", REPLICA, "role", "replica"),
                row("state: the replication state when written", REPLICA, "state", "streaming"),
                row("state: in archive recovery", with(REPLICA, "replication_state", "in archive recovery"), "state",
                        "in archive recovery"),
                row("state: the PostgreSQL state without a replication state",
                        with(with(REPLICA, "replication_state", null), "state", "starting"), "state", "starting"),
                row("api_url", REPLICA, "api_url", "http://10.0.0.2:8008/patroni"),
                row("host", REPLICA, "host", "10.0.0.2"),
                row("port", REPLICA, "port", 5433),
                row("port: libpq's default", with(REPLICA, "conn_url", "postgres://10.0.0.2/postgres"), "port", 5432),
                row("host: IPv6 without brackets", with(REPLICA, "conn_url", "postgres://[::1]:5433/postgres"), "host",
                        "::1"),
                row("host: none without a conn_url", with(REPLICA, "conn_url", null), "host", ABSENT),
                row("timeline", REPLICA, "timeline", 3),
                row("timeline: absent when not written", with(REPLICA, "timeline", 0), "timeline", ABSENT),
                row("pending_restart: absent", REPLICA, "pending_restart", ABSENT),
                row("pending_restart", with(REPLICA, "pending_restart", true), "pending_restart", true),
                row("pending_restart_reason: absent", REPLICA, "pending_restart_reason", ABSENT),
                row("pending_restart_reason", with(REPLICA, "pending_restart_reason", reason),
                        "pending_restart_reason", reason),
                row("scheduled_restart: absent", REPLICA, "scheduled_restart", ABSENT),
                row("scheduled_restart", with(REPLICA, "scheduled_restart", scheduled), "scheduled_restart", scheduled),
                row("tags: absent when none", REPLICA, "tags", ABSENT),
                row("tags", with(REPLICA, "tags", Map.of("zone", "a")), "tags", Map.of("zone", "a")),
                row("receive_lsn", REPLICA, "receive_lsn", "0/11F8"),
                row("receive_lag", REPLICA, "receive_lag", 400L),
                row("replay_lsn", REPLICA, "replay_lsn", "0/1068"),
                row("replay_lag", REPLICA, "replay_lag", 800L),
                row("lsn", REPLICA, "lsn", "0/1068"),
                row("lag", REPLICA, "lag", 800L),
                row("receive_lsn: unknown when not written (Patroni before 3.0)", with(REPLICA, "receive_lsn", 0L),
                        "receive_lsn", "unknown"),
                row("receive_lag: unknown when not written", with(REPLICA, "receive_lsn", 0L), "receive_lag",
                        "unknown"),
                row("replay_lag: unknown when not written", with(REPLICA, "replay_lsn", 0L), "replay_lag", "unknown"),
                row("lag: unknown without xlog_location", with(REPLICA, "xlog_location", 0L), "lag", "unknown"),
                row("lsn: unknown without xlog_location", with(REPLICA, "xlog_location", 0L), "lsn", "unknown"),
                row("lag: 0 when ahead of the status key", with(REPLICA, "xlog_location", 6000L), "lag", 0L),
                row("lsn: when ahead of the status key", with(REPLICA, "xlog_location", 6000L), "lsn", "0/1770"));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("replicaRows")
    void aReplicasFieldFollowsItsMemberKey(Member n2, String field, Object expected) {
        Map<String, Object> m = members(view(LEADER, n2, Optional.empty())).get(1);
        assertThat(m.containsKey(field) ? m.get(field) : ABSENT).isEqualTo(expected);
    }

    static Stream<Arguments> leaderRows() {
        Member leader = with(LEADER, "replication_state", "streaming");
        return Stream.of(
                Arguments.of("role", "leader"),
                Arguments.of("state", "running"),
                Arguments.of("lag", ABSENT), Arguments.of("lsn", ABSENT), Arguments.of("receive_lag", ABSENT),
                Arguments.of("replay_lsn", ABSENT)).map(a -> Arguments.of(leader, a.get()[0], a.get()[1]));
    }

    @ParameterizedTest(name = "leader: {1}")
    @MethodSource("leaderRows")
    void theLeadersFieldsShowNoLag(Member n1, String field, Object expected) {
        Map<String, Object> m = members(view(n1, REPLICA, Optional.empty())).get(0);
        assertThat(m.containsKey(field) ? m.get(field) : ABSENT).isEqualTo(expected);
    }

    /**
     * The members' roles (Patroni 4.1 cluster_as_json: the leader key's holder is leader; with synchronous_mode on or
     * quorum, a member the sync key names is sync_standby or quorum_standby; the others replica), for n1, n2, n3. A
     * sync key that another leader than the current one wrote (or with no leader key) names no standby.
     */
    static Stream<Arguments> roleRows() {
        return Stream.of(
                Arguments.of("off", "off", key("n1", "n2"), "n1", List.of("leader", "replica", "replica")),
                Arguments.of("on, n2 named", "on", key("n1", "n2"), "n1", List.of("leader", "sync_standby", "replica")),
                Arguments.of("on, n2 and n3 named", "on", key("n1", "n2,n3"), "n1",
                        List.of("leader", "sync_standby", "sync_standby")),
                Arguments.of("on, N3 named in capitals", "on", key("n1", "N3"), "n1",
                        List.of("leader", "replica", "sync_standby")),
                Arguments.of("on, the leader also named", "on", key("n1", "n1,n2"), "n1",
                        List.of("leader", "sync_standby", "replica")),
                Arguments.of("on, no sync key", "on", null, "n1", List.of("leader", "replica", "replica")),
                Arguments.of("on, stale key written by n3", "on", key("n3", "n2"), "n1",
                        List.of("leader", "replica", "replica")),
                Arguments.of("on, no leader key", "on", key("n1", "n2"), null, List.of("replica", "replica", "replica")),
                Arguments.of("quorum, n2 and n3 named", "quorum", key("n1", "n2,n3"), "n1",
                        List.of("leader", "quorum_standby", "quorum_standby")),
                Arguments.of("quorum, n3 named", "quorum", key("n1", "n3"), "n1",
                        List.of("leader", "replica", "quorum_standby")),
                Arguments.of("quorum, stale key written by n3", "quorum", key("n3", "n2"), "n1",
                        List.of("leader", "replica", "replica")));
    }

    private static io.pgkeel.common.cluster.SyncKey key(String leader, String voters) {
        return new io.pgkeel.common.cluster.SyncKey(leader, io.pgkeel.common.cluster.SyncKey.splitNames(voters), 0, 2);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("roleRows")
    void rolesFollowTheSyncKey(String name, String mode, io.pgkeel.common.cluster.SyncKey sync, String leader,
                               List<String> roles) {
        Member n3 = new Member("n3", "postgres://10.0.0.3:5432/postgres", "http://10.0.0.3:8008/patroni", "running",
                "replica", 3, 4000, "streaming", Map.of(), 1);
        DynamicConfig cfg = new DynamicConfig(30, 10, 10, 1048576, false, true, 1800, java.util.Set.of(), false, 300,
                false, false, new io.pgkeel.common.cluster.SyncSettings(io.pgkeel.common.cluster.SyncMode.parse(mode),
                false, 1, -1), Map.of(), Map.of("synchronous_mode", mode), 1);
        ClusterView v = new ClusterView(Optional.of("42"), Optional.of(cfg),
                Optional.ofNullable(leader).map(l -> new LeaderKey(l, 7, 1, 1)), List.of(LEADER, REPLICA, n3),
                Optional.of(5000L), Optional.empty(), List.of(), 9).withSync(Optional.ofNullable(sync));
        assertThat(members(v)).extracting(m -> m.get("role")).containsExactlyElementsOf(roles);
        // as any replica, a synchronous one shows its replication state
        assertThat(members(v).get(1)).containsEntry("state", "streaming");
    }

    @Test
    void membersAreSortedByNameAndAScheduledSwitchoverShowsInIsoformat() {
        Member a = new Member("a-first", null, null, "running", "replica", 3, 4000, null, Map.of(), 1);
        ClusterView v = new ClusterView(Optional.of("42"), Optional.empty(), Optional.of(new LeaderKey("n1", 7, 1, 1)),
                List.of(REPLICA, LEADER, a), Optional.of(5000L), Optional.of(new FailoverKey(
                        "n1", "n2", "2026-12-01T01:00:00Z", 3)), List.of(), 9);
        Map<String, Object> json = ClusterJson.of(snapshot(v));
        assertThat(members(v)).extracting(m -> m.get("name")).containsExactly("a-first", "n1", "n2");
        assertThat(json.get("scheduled_switchover"))
                .isEqualTo(Map.of("at", "2026-12-01T01:00:00+00:00", "from", "n1", "to", "n2"));
        assertThat(json).doesNotContainKey("pause");
    }

    private static ClusterView view(Member n1, Member n2, Optional<FailoverKey> failover) {
        return new ClusterView(Optional.of("42"), Optional.empty(), Optional.of(new LeaderKey("n1", 7, 1, 1)),
                List.of(n1, n2), Optional.of(5000L), failover, List.of(), 9);
    }

    private static NodeSnapshot snapshot(ClusterView v) {
        NodeSnapshot base = Snapshots.primary();
        return new NodeSnapshot(base.identity(), base.pg(), v, true, true, "x", "y", 0, 0, 30, 10);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> members(ClusterView v) {
        return (List<Map<String, Object>>) ClusterJson.of(snapshot(v)).get("members");
    }

    @Test
    void membersInPatronisShapeWithRoleLagAndAddress() {
        Member leader = new Member("n1", "postgres://10.0.0.1:5432/postgres", "http://10.0.0.1:8008/patroni", "running",
                "primary", 3, 5000, null, Map.of(), 1);
        Member replica = new Member("n2", "postgres://10.0.0.2:5433/postgres", "http://10.0.0.2:8008/patroni",
                "running", "replica", 3, 4200, "streaming", Map.of("nofailover", true), 1);
        Member garbage = new Member("n3", "not a url at all", null, "stopped", "replica", 0, 0, null, Map.of(), 1);
        DynamicConfig paused = new DynamicConfig(30, 10, 10, 1, true, true, 1800, java.util.Set.of(), true, 300, false,
                false, io.pgkeel.common.cluster.SyncSettings.OFF, Map.of(), Map.of("pause", true), 1);
        ClusterView view = new ClusterView(Optional.of("42"), Optional.of(paused), Optional.of(new LeaderKey("n1", 7, 1, 1)),
                List.of(leader, replica, garbage), Optional.of(5000L), Optional.empty(), List.of(), 9);
        NodeSnapshot base = Snapshots.primary();
        NodeSnapshot s = new NodeSnapshot(base.identity(), base.pg(), view, true, true, "x", "y", 0, 0, 30, 10);

        Map<String, Object> json = ClusterJson.of(s);
        assertThat(json).containsEntry("scope", "demo").containsEntry("pause", true);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> members = (List<Map<String, Object>>) json.get("members");
        assertThat(members.get(0)).containsEntry("name", "n1").containsEntry("role", "leader")
                .containsEntry("state", "running").containsEntry("host", "10.0.0.1").containsEntry("port", 5432)
                .doesNotContainKey("lag");
        assertThat(members.get(1)).containsEntry("role", "replica").containsEntry("state", "streaming")
                .containsEntry("lag", 800L).containsEntry("tags", Map.of("nofailover", true));
        assertThat(members.get(2)).containsEntry("lag", "unknown").doesNotContainKey("port");
    }
}

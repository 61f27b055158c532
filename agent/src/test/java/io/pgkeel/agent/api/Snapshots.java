package io.pgkeel.agent.api;

import io.pgkeel.agent.ha.NodeIdentity;
import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.LeaderKey;
import io.pgkeel.common.pg.PgDetail;
import io.pgkeel.common.pg.PgRunState;
import io.pgkeel.common.pg.PgStatus;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Published snapshots for the REST API tests. Monotonic "now" in these tests is 100 s. */
final class Snapshots {
    static final long NOW = 100_000_000_000L;

    private Snapshots() {}

    static NodeIdentity identity(Map<String, Object> tags) {
        return new NodeIdentity("demo", "n1", tags, Map.of(), DynamicConfig.defaults(), NodeIdentity.LocalOverrides.NONE,
                "postgres://127.0.0.1:5432/postgres", "http://127.0.0.1:8008/patroni", "0.1.0");
    }

    static ClusterView cluster(String leader, long lastLeaderLsn) {
        return new ClusterView(Optional.of("42"), Optional.empty(),
                leader == null ? Optional.empty() : Optional.of(new LeaderKey(leader, 7, 1, 1)), List.of(),
                Optional.of(lastLeaderLsn), Optional.empty(), List.of(List.of(1, 100, "no recovery target specified",
                        "2026-11-28T00:00:00+00:00", "n1")), 5);
    }

    static NodeSnapshot primary() {
        PgStatus pg = new PgStatus(true, "42", true, PgRunState.RUNNING, false, 2, 5000, 0, 0, null, null, Set.of(),
                150018, "2026-11-28 00:00:00+00");
        return new NodeSnapshot(identity(Map.of()), pg, cluster("n1", 5000), true, true, "LeadAsPrimary", "ok",
                NOW - 1_000_000_000L, 1_764_288_000L, 30, 10);
    }

    static NodeSnapshot replica(long received, long replayed, Map<String, Object> tags) {
        PgStatus pg = new PgStatus(true, "42", false, PgRunState.RUNNING, true, 2, Math.max(received, replayed),
                received, replayed, "streaming", "n2", Set.of(), 150018, "2026-11-28 00:00:00+00")
                .withDetail(new PgDetail(false, null, received, List.of(), Map.of())); // the receiver heard of it
        return new NodeSnapshot(identity(tags), pg, cluster("n2", 5000), true, false, "Wait", "ok",
                NOW - 1_000_000_000L, 1_764_288_000L, 30, 10);
    }

    /** {@code s} with PostgreSQL as {@code pg}. */
    static NodeSnapshot with(NodeSnapshot s, PgStatus pg) {
        return new NodeSnapshot(s.identity(), pg, s.cluster(), s.dcsReachable(), s.holdsLeaderKey(), s.lastAction(),
                s.lastReason(), s.lastCycleNanos(), s.dcsLastSeenEpochSeconds(), s.ttl(), s.loopWait(),
                s.scheduledRestart());
    }

    /** {@code s} with the cluster view {@code c}, read (or not) in this cycle, last seen at {@code lastSeen}. */
    static NodeSnapshot with(NodeSnapshot s, ClusterView c, boolean dcsReachable, long lastSeen) {
        return new NodeSnapshot(s.identity(), s.pg(), c, dcsReachable, s.holdsLeaderKey(), s.lastAction(),
                s.lastReason(), s.lastCycleNanos(), lastSeen, s.ttl(), s.loopWait(), s.scheduledRestart());
    }

    /** {@code s} with a restart planned for {@code at}, for members of {@code role} (null: any). */
    static NodeSnapshot withScheduledRestart(NodeSnapshot s, java.time.Instant at, String role) {
        return new NodeSnapshot(s.identity(), s.pg(), s.cluster(), s.dcsReachable(), s.holdsLeaderKey(), s.lastAction(),
                s.lastReason(), s.lastCycleNanos(), s.dcsLastSeenEpochSeconds(), s.ttl(), s.loopWait(),
                new io.pgkeel.agent.ha.ScheduledRestart(at, role));
    }

    /** {@code s} with failsafe_mode as the HA loop runs it. */
    static NodeSnapshot withFailsafe(NodeSnapshot s, NodeSnapshot.FailsafeState failsafe) {
        return new NodeSnapshot(s.identity(), s.pg(), s.cluster(), s.dcsReachable(), s.holdsLeaderKey(), s.lastAction(),
                s.lastReason(), s.lastCycleNanos(), s.dcsLastSeenEpochSeconds(), s.ttl(), s.loopWait(),
                s.scheduledRestart(), failsafe);
    }

    /** {@code s} deciding in maintenance mode or not, whatever its last view's config key says. */
    static NodeSnapshot decidingPaused(NodeSnapshot s, boolean paused) {
        return new NodeSnapshot(s.identity(), s.pg(), s.cluster(), s.dcsReachable(), s.holdsLeaderKey(), s.lastAction(),
                s.lastReason(), s.lastCycleNanos(), s.dcsLastSeenEpochSeconds(), s.ttl(), s.loopWait(),
                s.scheduledRestart(), s.failsafe(), paused);
    }

    /** {@code s} with the dynamic configuration {@code raw} (pause and failsafe_mode are read from it). */
    static NodeSnapshot withConfig(NodeSnapshot s, Map<String, Object> raw) {
        ClusterView c = s.cluster();
        boolean pause = Boolean.TRUE.equals(raw.get("pause"));
        DynamicConfig d = new DynamicConfig(30, 10, 10, 1048576, false, true, 1800, Set.of(), pause, 300, false,
                false, io.pgkeel.common.cluster.SyncSettings.OFF, Map.of(), raw, 3);
        return with(s, new ClusterView(c.initialize(), Optional.of(d), c.leader(), c.members(), c.lastLeaderLsn(),
                c.failover(), c.history(), c.revision()), s.dcsReachable(), s.dcsLastSeenEpochSeconds());
    }

    /**
     * {@code s} with {@code synchronous_mode} as {@code mode} (off, on, quorum) in the config key, the sync key
     * {@code key} (null: none) and the leader key held by {@code leader} (null: none).
     */
    static NodeSnapshot inSyncMode(NodeSnapshot s, String mode, io.pgkeel.common.cluster.SyncKey key, String leader) {
        ClusterView c = s.cluster();
        io.pgkeel.common.cluster.SyncSettings sync = new io.pgkeel.common.cluster.SyncSettings(
                io.pgkeel.common.cluster.SyncMode.parse(mode), false, 1, -1);
        DynamicConfig d = new DynamicConfig(30, 10, 10, 1048576, false, true, 1800, Set.of(), false, 300, false,
                false, sync, Map.of(), Map.of("synchronous_mode", mode), 3);
        ClusterView v = new ClusterView(c.initialize(), Optional.of(d),
                leader == null ? Optional.empty() : Optional.of(new LeaderKey(leader, 7, 1, 1)), c.members(),
                c.lastLeaderLsn(), c.failover(), c.history(), c.revision()).withSync(Optional.ofNullable(key));
        return with(s, v, s.dcsReachable(), s.dcsLastSeenEpochSeconds());
    }

    /** The sync key written by {@code leader}, naming {@code voters} (comma separated, as Patroni writes them). */
    static io.pgkeel.common.cluster.SyncKey syncKey(String leader, String voters) {
        return new io.pgkeel.common.cluster.SyncKey(leader, io.pgkeel.common.cluster.SyncKey.splitNames(voters), 0, 4);
    }

    /**
     * This node (n1) in each synchronous replication state the tables use: a replica of n2 (or the primary, or
     * stopped), with synchronous_mode on, off or quorum, named in the sync key or not, the key written by the current
     * leader or by another (stale), or with no leader key.
     */
    record SyncStates(NodeSnapshot onNamed, NodeSnapshot onOther, NodeSnapshot onStale, NodeSnapshot onUnlocked,
                      NodeSnapshot offNamed, NodeSnapshot onPrimary, NodeSnapshot onStopped, NodeSnapshot quorumNamed,
                      NodeSnapshot quorumOther, NodeSnapshot quorumStale) {
        static SyncStates of() {
            NodeSnapshot replica = replica(5000, 4000, Map.of());
            return new SyncStates(inSyncMode(replica, "on", syncKey("n2", "n1"), "n2"),
                    inSyncMode(replica, "on", syncKey("n2", "n3"), "n2"),
                    inSyncMode(replica, "on", syncKey("n3", "n1"), "n2"),
                    inSyncMode(replica, "on", syncKey("n2", "n1"), null),
                    inSyncMode(replica, "off", syncKey("n2", "n1"), "n2"),
                    inSyncMode(primary(), "on", syncKey("n1", "n1,n2"), "n1"),
                    inSyncMode(stopped(), "on", syncKey("n2", "n1"), "n2"),
                    inSyncMode(replica, "quorum", syncKey("n2", "n1"), "n2"),
                    inSyncMode(replica, "quorum", syncKey("n2", "n3"), "n2"),
                    inSyncMode(replica, "quorum", syncKey("n3", "n1"), "n2"));
        }
    }

    static NodeSnapshot stopped() {
        PgStatus pg = new PgStatus(true, "42", false, PgRunState.STOPPED, true, 0, 0, 0, 0, null, null, Set.of(), 0,
                null);
        return new NodeSnapshot(identity(Map.of()), pg, cluster("n2", 5000), true, false, "Wait", "ok",
                NOW - 1_000_000_000L, 0, 30, 10);
    }
}

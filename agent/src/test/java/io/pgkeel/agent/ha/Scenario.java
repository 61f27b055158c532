package io.pgkeel.agent.ha;

import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.DcsView;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.LeaderKey;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.peer.PeerStatus;
import io.pgkeel.common.pg.PgRunState;
import io.pgkeel.common.pg.PgStatus;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Builders for decide's table tests: each row reads as a sentence, e.g.
 * {@code me("b").replica(500).cluster(c -> c.leader("a", OTHER_LEASE).members("a", "b", "c"))}.
 * Time: "now" is 100 s; my lease, when held, is id 7 and valid until 108 s (ttl 10, margin 2 → safe until 106 s).
 */
final class Scenario {
    static final long NOW = TimeUnit.SECONDS.toNanos(100);
    static final long MY_LEASE = 7;
    static final long OTHER_LEASE = 9;
    /** Wall-clock "now", for scheduled switchovers. */
    static final java.time.Instant WALL_NOW = java.time.Instant.parse("2026-06-01T12:00:00Z");

    private final String name;
    private final Map<String, Object> tags = new HashMap<>();
    private DcsView dcs;
    private final ClusterBuilder cluster = new ClusterBuilder();
    private PgStatus pg = new PgStatus(true, "42", false, PgRunState.RUNNING, true, 1, 1000, 1000, 1000, "streaming",
            null, Set.of(), 150000, null);
    private LeaseStatus lease = new LeaseStatus(MY_LEASE, NOW + TimeUnit.SECONDS.toNanos(8), true);
    private final List<PeerStatus> peers = new ArrayList<>();
    private boolean rewind = true;
    private long notStreamingSince = -1;
    private boolean paused;
    private NodeMemory.PausedLeader pausedLeader;
    private OperatorRequest request;
    private int failedStarts;
    private int memberSlotsTtl = 1800;
    private Set<String> permanentSlots = Set.of();
    private final Map<String, Long> memberSlotsSeen = new HashMap<>();
    private Map<String, String> configParameters = Map.of();
    private final Map<String, Object> configRaw = new java.util.LinkedHashMap<>();
    private final Map<String, Long> receivedLsn = new HashMap<>();
    private NodeMemory.Handover handover;
    private String rewindFailedFrom;
    private NodeMemory.Status statusWritten;
    private int primaryStartTimeout = DynamicConfig.DEFAULT_PRIMARY_START_TIMEOUT;
    private boolean removeOnRewindFailure;
    private boolean removeOnDiverged;
    private Long primaryDownSince;
    private io.pgkeel.common.cluster.SyncSettings sync = io.pgkeel.common.cluster.SyncSettings.OFF;
    private String synchronousStandbyNames;
    private boolean syncManaged = true;
    private final List<io.pgkeel.common.pg.PgSync.WalSender> walSenders = new ArrayList<>();
    private SyncRules.Guarantee syncGuarantee;
    private FailsafePromise.FailsafeLeader failsafeLeader;
    private Long failsafeUntil;
    private final Map<String, String> failsafeTopologyAttempted = new HashMap<>();
    private long startedNanos = NOW - TimeUnit.SECONDS.toNanos(1000);

    private Scenario(String name) {
        this.name = name;
    }

    static Scenario me(String name) {
        return new Scenario(name);
    }

    Scenario primary(long wal) {
        pg = status(PgRunState.RUNNING, false, wal, true, null);
        return this;
    }

    Scenario replica(long wal) {
        pg = status(PgRunState.RUNNING, true, wal, false, null);
        return this;
    }

    Scenario replicaFollowing(String leader, long wal) {
        pg = status(PgRunState.RUNNING, true, wal, false, leader);
        return this;
    }

    /** Running as a standby, but this data directory was a primary since it last followed anyone. */
    Scenario formerPrimaryRunningAsReplica(long wal) {
        pg = status(PgRunState.RUNNING, true, wal, true, null);
        return this;
    }

    Scenario stopped(boolean lastRunAsPrimary) {
        pg = status(PgRunState.STOPPED, !lastRunAsPrimary, 0, lastRunAsPrimary, null);
        return this;
    }

    Scenario starting(boolean asStandby) {
        pg = status(PgRunState.STARTING, asStandby, 0, !asStandby, null);
        return this;
    }

    Scenario noData() {
        pg = PgStatus.empty();
        return this;
    }

    Scenario sysid(String s) {
        pg = new PgStatus(pg.initialized(), s, pg.lastRunAsPrimary(), pg.runState(), pg.inRecovery(), pg.timeline(),
                pg.walPosition(), pg.receiveLsn(), pg.replayLsn(), pg.replicationState(), pg.following(), pg.slots(),
                pg.serverVersion(), null);
        return this;
    }

    Scenario timeline(int tl) {
        pg = new PgStatus(pg.initialized(), pg.systemIdentifier(), pg.lastRunAsPrimary(), pg.runState(), pg.inRecovery(),
                tl, pg.walPosition(), pg.receiveLsn(), pg.replayLsn(), pg.replicationState(), pg.following(), pg.slots(),
                pg.serverVersion(), null);
        return this;
    }

    Scenario slots(String... slots) {
        pg = new PgStatus(pg.initialized(), pg.systemIdentifier(), pg.lastRunAsPrimary(), pg.runState(), pg.inRecovery(),
                pg.timeline(), pg.walPosition(), pg.receiveLsn(), pg.replayLsn(), pg.replicationState(), pg.following(),
                Set.of(slots), pg.serverVersion(), null);
        return this;
    }

    private PgStatus status(PgRunState state, boolean standby, long wal, boolean wasPrimary, String following) {
        return new PgStatus(true, "42", wasPrimary, state, standby, 1, wal, wal, wal,
                state == PgRunState.RUNNING && standby ? "streaming" : null, following, Set.of(), 150000, null);
    }

    /** synchronous_mode, synchronous_mode_strict, synchronous_node_count in the config key. */
    Scenario sync(io.pgkeel.common.cluster.SyncMode mode, boolean strict, int nodeCount) {
        sync = new io.pgkeel.common.cluster.SyncSettings(mode, strict, nodeCount, -1);
        return this;
    }

    /** synchronous_mode, synchronous_mode_strict, synchronous_node_count, maximum_lag_on_syncnode (bytes). */
    Scenario sync(io.pgkeel.common.cluster.SyncMode mode, boolean strict, int nodeCount, long maxLag) {
        sync = new io.pgkeel.common.cluster.SyncSettings(mode, strict, nodeCount, maxLag);
        return this;
    }

    /** This running primary reports synchronous_standby_names = {@code value}, written by the agent. */
    Scenario ssn(String value) {
        synchronousStandbyNames = value;
        return this;
    }

    /** This running primary reports synchronous_standby_names = {@code value}, configured by the operator. */
    Scenario ssnConfigured(String value) {
        synchronousStandbyNames = value;
        syncManaged = false;
        return this;
    }

    /** A WAL sender of this primary: {@code name} streaming, in {@code syncState}, flushed up to {@code flushLsn}. */
    Scenario walSender(String name, String syncState, long flushLsn) {
        walSenders.add(new io.pgkeel.common.pg.PgSync.WalSender(name, "streaming", syncState, flushLsn));
        return this;
    }

    /** A WAL sender of this primary still catching up. */
    Scenario walSenderCatchingUp(String name, long flushLsn) {
        walSenders.add(new io.pgkeel.common.pg.PgSync.WalSender(name, "catchup", "async", flushLsn));
        return this;
    }

    /**
     * What the node remembered from the last cycle: the value {@code ssn} seen since {@code secondsAgo} at LSN
     * {@code sinceLsn}, with every acknowledged commit known to be on {@code effective}'s standbys, and
     * {@code pending} not yet caught up.
     */
    Scenario syncSeen(String ssn, double secondsAgo, long sinceLsn, String effective, String... pending) {
        syncGuarantee = new SyncRules.Guarantee(ssn, sinceLsn, NOW - (long) (secondsAgo * 1e9),
                SyncRules.Commit.of(effective), SyncRules.lower(List.of(pending)));
        return this;
    }

    /** This agent last saw a member with slot {@code slot} in etcd {@code secondsAgo} seconds ago. */
    Scenario sawMemberSlot(String slot, double secondsAgo) {
        memberSlotsSeen.put(slot, NOW - (long) (secondsAgo * 1e9));
        return this;
    }

    Scenario permanentSlots(String... names) {
        permanentSlots = Set.of(names);
        return this;
    }

    Scenario memberSlotsTtl(int seconds) {
        memberSlotsTtl = seconds;
        return this;
    }

    /**
     * A switchover stopped me {@code secondsAgo} seconds ago, with a clean shutdown checkpoint at {@code checkpoint}
     * (-1: none), to hand over to {@code candidates}.
     */
    Scenario handingOver(double secondsAgo, long checkpoint, String... candidates) {
        handover = new NodeMemory.Handover(List.of(candidates), 77, NOW - (long) (secondsAgo * 1e9));
        pg = status(PgRunState.STOPPED, false, 0, true, null).withShutdownCheckpoint(checkpoint);
        return this;
    }

    /** {@code member} has received WAL up to {@code lsn}, asked live. */
    Scenario received(String member, long lsn) {
        receivedLsn.put(member, lsn);
        return this;
    }

    /** primary_start_timeout in the config key, seconds. */
    Scenario primaryStartTimeout(int seconds) {
        primaryStartTimeout = seconds;
        return this;
    }

    /** As leader, my PostgreSQL has not run for {@code seconds} (stopped or starting, not by a switchover). */
    Scenario primaryDownFor(double seconds) {
        primaryDownSince = NOW - (long) (seconds * 1e9);
        return this;
    }

    Scenario removeDataDirectoryOnRewindFailure() {
        removeOnRewindFailure = true;
        return this;
    }

    Scenario removeDataDirectoryOnDivergedTimelines() {
        removeOnDiverged = true;
        return this;
    }

    /** A switchover stopped me and was abandoned: no candidate received the shutdown checkpoint in time. */
    Scenario abandonedHandover() {
        handover = new NodeMemory.Handover(List.of("b"), 77, NOW - TimeUnit.SECONDS.toNanos(6), true);
        pg = status(PgRunState.STOPPED, false, 0, true, null).withShutdownCheckpoint(1000);
        return this;
    }

    Scenario rewindFailedFrom(String leader) {
        rewindFailedFrom = leader;
        return this;
    }

    /** As leader I last wrote {@code status} with this optime and these retained slots. */
    Scenario statusWritten(long optime, String... retained) {
        statusWritten = new NodeMemory.Status(optime, Set.of(retained));
        return this;
    }

    /** A key of the config key as another tool wrote it (only what pgkeel reads from the raw map). */
    Scenario configKey(String key, Object value) {
        configRaw.put(key, value);
        return this;
    }

    /** The config key's postgresql.parameters, as "name=value" pairs. */
    Scenario configParameters(String... pairs) {
        configParameters = pairs(pairs);
        return this;
    }

    /** postgresql.conf was last written with these config key parameters ("name=value"); none: not since start. */
    Scenario postgresqlConfWrittenWith(String... pairs) {
        pg = pg.withWrittenParameters(pairs.length == 1 && pairs[0] == null ? null : pairs(pairs));
        return this;
    }

    private static Map<String, String> pairs(String... pairs) {
        Map<String, String> m = new HashMap<>();
        for (String p : pairs) {
            m.put(p.substring(0, p.indexOf('=')), p.substring(p.indexOf('=') + 1));
        }
        return m;
    }

    Scenario tag(String key, Object value) {
        tags.put(key, value);
        return this;
    }

    /** Following the leader but not streaming for {@code seconds}. */
    Scenario notStreamingFor(double seconds) {
        notStreamingSince = NOW - (long) (seconds * 1e9);
        return this;
    }

    /** pause: true in the config key. */
    Scenario paused() {
        paused = true;
        return this;
    }

    Scenario request(OperatorRequest r) {
        request = r;
        return this;
    }

    Scenario failedReplicaStarts(int n) {
        failedStarts = n;
        return this;
    }

    Scenario noRewind() {
        rewind = false;
        return this;
    }

    /** My last renewal was sent {@code secondsAgo} before now (ttl 10). */
    Scenario leaseRenewedSecondsAgo(double secondsAgo, boolean renewedThisCycle) {
        long sent = NOW - (long) (secondsAgo * 1e9);
        lease = new LeaseStatus(MY_LEASE, sent + TimeUnit.SECONDS.toNanos(10), renewedThisCycle);
        return this;
    }

    Scenario noLease() {
        lease = LeaseStatus.none();
        return this;
    }

    Scenario dcsUnreachable() {
        dcs = DcsView.unreachable("etcd did not answer within 2500 ms");
        return this;
    }

    Scenario cluster(java.util.function.Consumer<ClusterBuilder> spec) {
        spec.accept(cluster);
        return this;
    }

    Scenario peer(String name, boolean primary, long wal) {
        peers.add(new PeerStatus(name, true, true, !primary, wal, 1, false, 1, primary ? null : "streaming"));
        return this;
    }

    Scenario peer(PeerStatus p) {
        peers.add(p);
        return this;
    }

    /** failsafe_mode: true in the config key. */
    Scenario failsafeMode() {
        return configKey("failsafe_mode", true);
    }

    /** I promised primary {@code primary} (POST /failsafe) {@code secondsAgo} seconds ago, with ttl 10. */
    Scenario promisedFailsafeTo(String primary, double secondsAgo) {
        return promisedFailsafeTo(primary, secondsAgo, 10);
    }

    /** I promised primary {@code primary} {@code secondsAgo} seconds ago, for the {@code ttlSeconds} its body asked. */
    Scenario promisedFailsafeTo(String primary, double secondsAgo, int ttlSeconds) {
        long asked = NOW - (long) (secondsAgo * 1e9);
        failsafeLeader = new FailsafePromise.FailsafeLeader(primary, "postgres://" + primary + ":5432/postgres",
                "http://" + primary + ":8008/patroni", asked + TimeUnit.SECONDS.toNanos(ttlSeconds), asked);
        return this;
    }

    /** My last failsafe round every member accepted was sent {@code secondsAgo} seconds ago (ttl 10). */
    Scenario failsafeConfirmedSecondsAgo(double secondsAgo) {
        failsafeUntil = NOW - (long) (secondsAgo * 1e9) + TimeUnit.SECONDS.toNanos(10);
        return this;
    }

    /** As leader I tried to write a failsafe key naming also {@code names} since the last read. */
    Scenario failsafeKeyAttempted(String... names) {
        for (String n : names) {
            failsafeTopologyAttempted.put(n, "http://" + n + ":8008/patroni");
        }
        return this;
    }

    /** I remember {@code member} as the holder of the key of a paused cluster (NodeMemory.pausedLeader). */
    Scenario pausedLeader(String member) {
        pausedLeader = new NodeMemory.PausedLeader(member, "http://" + member + ":8008/patroni");
        return this;
    }

    /** This agent observed for the first time {@code secondsAgo} seconds ago. */
    Scenario agentStartedSecondsAgo(double secondsAgo) {
        startedNanos = NOW - (long) (secondsAgo * 1e9);
        return this;
    }

    Observation observation() {
        DynamicConfig dyn = new DynamicConfig(10, 1, 4, 1_048_576, rewind, true, memberSlotsTtl, permanentSlots, paused,
                primaryStartTimeout, removeOnRewindFailure, removeOnDiverged, sync, configParameters,
                Map.copyOf(configRaw), 1);
        NodeSettings self = new NodeSettings(name, tags, dyn, rewind, removeOnRewindFailure, removeOnDiverged,
                NodeSettings.fenceMarginFor(10), "http://" + name + ":8008/patroni");
        ClusterView lastRead = cluster.build();
        DcsView view = dcs != null ? dcs : DcsView.reachable(lastRead);
        NodeMemory.Builder memory = NodeMemory.initial(dyn).edit();
        memory.lease = lease;
        // as NodeMemory.observed: the last read is remembered, with the failsafe key it showed
        memory.lastView = lastRead;
        memory.failsafeWrites = failsafeTopologyAttempted.isEmpty() ? List.of()
                : List.of(new NodeMemory.FailsafeWrite(failsafeTopologyAttempted, false));
        memory.failsafeUntilNanos = failsafeUntil;
        memory.startedNanos = startedNanos;
        memory.pausedLeader = pausedLeader;
        memory.notStreaming = notStreamingSince < 0 ? null : new NodeMemory.NotStreaming(notStreamingSince,
                pg.following());
        memory.failedReplicaStarts = failedStarts;
        memory.memberSlotsSeenNanos = memberSlotsSeen;
        memory.handover = handover;
        memory.rewindFailedFrom = rewindFailedFrom;
        memory.primaryDownSinceNanos = primaryDownSince;
        memory.statusWritten = statusWritten;
        PgStatus probed = pg;
        if (synchronousStandbyNames != null && pg.isRunningPrimary()) {
            probed = pg.withSync(new io.pgkeel.common.pg.PgSync(synchronousStandbyNames, syncManaged, walSenders));
        }
        // what the memory learns from this cycle's probe, as NodeMemory.observed does
        memory.syncGuarantee = SyncRules.Guarantee.next(syncGuarantee, probed, NOW);
        return new Observation(view, probed, peers, receivedLsn, self, NOW, WALL_NOW, Optional.ofNullable(request),
                memory.build(), Optional.ofNullable(failsafeLeader));
    }

    /** The cluster as etcd holds it. */
    static final class ClusterBuilder {
        private Optional<String> initialize = Optional.of("42");
        private Optional<LeaderKey> leader = Optional.empty();
        private final List<Member> members = new ArrayList<>();
        private Optional<Long> optime = Optional.empty();
        private boolean config = true;
        private boolean paused;
        private Optional<io.pgkeel.common.cluster.FailoverKey> failover = Optional.empty();
        private final List<List<Object>> history = new ArrayList<>();
        private Optional<io.pgkeel.common.cluster.SyncKey> sync = Optional.empty();
        private Optional<Map<String, String>> failsafe = Optional.empty();

        /** The failsafe key naming {@code names}, each at http://name:8008/patroni. */
        /** The failsafe key as written: member name to api_url. */
        ClusterBuilder failsafeKey(Map<String, String> key) {
            failsafe = Optional.of(Map.copyOf(key));
            return this;
        }

        ClusterBuilder failsafeKey(String... names) {
            Map<String, String> key = new HashMap<>();
            for (String n : names) {
                key.put(n, "http://" + n + ":8008/patroni");
            }
            failsafe = Optional.of(key);
            return this;
        }

        /** The sync key: {@code leader}, {@code quorum}, {@code voters} (sync_standby). */
        ClusterBuilder syncKey(String leader, int quorum, String... voters) {
            sync = Optional.of(new io.pgkeel.common.cluster.SyncKey(leader, List.of(voters), quorum, 33));
            return this;
        }

        /** A member running as a replica with tags. */
        ClusterBuilder memberTagged(String name, Map<String, Object> tags) {
            members.add(new Member(name, "postgres://" + name + ":5432/postgres", "http://" + name + ":8008/patroni",
                    "running", "replica", 1, 1000, "streaming", tags, 1));
            return this;
        }

        /** The member key of a primary that last wrote it in pause (its agent may be gone since). */
        ClusterBuilder pausedPrimaryKey(String name) {
            members.add(new Member(name, "postgres://" + name + ":5432/postgres", "http://" + name + ":8008/patroni",
                    "running", "primary", 1, 1000, null, Map.of(), 3, true, false));
            return this;
        }

        ClusterBuilder leader(String name, long lease) {
            leader = Optional.of(new LeaderKey(name, lease, 5, 5));
            return this;
        }

        ClusterBuilder members(String... names) {
            for (String n : names) {
                members.add(new Member(n, "postgres://" + n + ":5432/postgres", "http://" + n + ":8008/patroni",
                        "running", "replica", 1, 1000, "streaming", Map.of(), 1));
            }
            return this;
        }

        ClusterBuilder member(Member m) {
            members.add(m);
            return this;
        }

        ClusterBuilder failover(String leader, String member, String scheduledAt) {
            failover = Optional.of(new io.pgkeel.common.cluster.FailoverKey(leader, member, scheduledAt, 77));
            return this;
        }

        ClusterBuilder noInitialize() {
            initialize = Optional.empty();
            return this;
        }

        /** The history key: timeline {@code timeline} ended at {@code switchLsn} (as Patroni writes it). */
        ClusterBuilder timelineEnded(int timeline, long switchLsn) {
            history.add(List.of(timeline, switchLsn, "no recovery target specified"));
            return this;
        }

        ClusterBuilder initialize(String sysid) {
            initialize = Optional.of(sysid);
            return this;
        }

        ClusterBuilder lastLeaderLsn(long lsn) {
            optime = Optional.of(lsn);
            return this;
        }

        ClusterBuilder noConfig() {
            config = false;
            return this;
        }

        /** The config key says {@code pause: true}. */
        ClusterBuilder paused() {
            paused = true;
            return this;
        }

        ClusterView build() {
            DynamicConfig d = DynamicConfig.defaults();
            Optional<DynamicConfig> cfg = !config ? Optional.empty() : Optional.of(!paused ? d
                    : new DynamicConfig(d.ttl(), d.loopWait(), d.retryTimeout(), d.maximumLagOnFailover(),
                            d.usePgRewind(), d.useSlots(), d.memberSlotsTtl(), d.permanentSlots(), true,
                            d.primaryStartTimeout(), d.removeDataDirectoryOnRewindFailure(),
                            d.removeDataDirectoryOnDivergedTimelines(), d.sync(), d.pgParameters(), d.raw(), d.modRevision()));
            return new ClusterView(initialize, cfg, leader, members, optime, failover, history, 10)
                    .withSync(sync).withFailsafe(failsafe);
        }
    }
}

package io.pgkeel.agent.ha;

import static io.pgkeel.agent.ha.Scenario.me;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.DcsView;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.peer.PeerStatus;
import io.pgkeel.common.pg.PgRunState;
import io.pgkeel.common.pg.PgStatus;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The node's memory, one named row per rule: a memory, one transition ({@code observed} or {@code acted}), and what
 * the memory is afterwards. Times: "now" is 100 s.
 */
class NodeMemoryTest {
    private static final long S = 1_000_000_000L;
    private static final long NOW = 100 * S;
    private static final DynamicConfig BOOT = DynamicConfig.defaults();
    private static final NodeMemory FRESH = NodeMemory.initial(BOOT);
    private static final LeaseStatus RENEWED = new LeaseStatus(7, NOW + 10 * S, true);

    static Arguments row(String name, NodeMemory before, Function<NodeMemory, NodeMemory> step,
                         Consumer<NodeMemory> after) {
        return Arguments.of(Named.of(name, before), step, after);
    }

    private static NodeMemory with(Consumer<NodeMemory.Builder> change) {
        NodeMemory.Builder b = FRESH.edit();
        change.accept(b);
        return b.build();
    }

    private static ClusterView cluster(Consumer<Scenario.ClusterBuilder> spec) {
        Scenario.ClusterBuilder b = new Scenario.ClusterBuilder();
        spec.accept(b);
        return b.build();
    }

    private static PgStatus pg(PgRunState state, boolean standby, String following, String replicationState) {
        return new PgStatus(true, "42", false, state, standby, 1, 1000, 1000, 1000, replicationState, following,
                Set.of("b"), 150000, null);
    }

    private static final PgStatus STREAMING = pg(PgRunState.RUNNING, true, "a", "streaming");
    private static final PgStatus NOT_STREAMING = pg(PgRunState.RUNNING, true, "a", "in archive recovery");
    private static final PgStatus STOPPED = pg(PgRunState.STOPPED, true, null, null);
    private static final PgStatus STARTING = pg(PgRunState.STARTING, true, null, null);
    private static final PgStatus PRIMARY = pg(PgRunState.RUNNING, false, null, null);

    /** observed() as "b", at NOW, with the cluster read and used. */
    private static Function<NodeMemory, NodeMemory> observes(ClusterView c, PgStatus pg) {
        return observesAs("b", c, pg);
    }

    private static Function<NodeMemory, NodeMemory> observesAs(String me, ClusterView c, PgStatus pg) {
        return m -> m.observed(c, DcsView.reachable(c), pg, RENEWED, me, NOW, 1_780_000_000L);
    }

    private static Function<NodeMemory, NodeMemory> observesWithoutDcs(PgStatus pg) {
        return m -> m.observed(null, DcsView.unreachable("down"), pg, m.lease().notRenewed(), "b", NOW, 1_780_000_000L);
    }

    private static final ClusterView LED_BY_A = cluster(c -> c.leader("a", 9).members("a", "b", "Node-C"));
    private static final ClusterView LED_BY_B = cluster(c -> c.leader("b", 7).members("a", "b"));

    static Stream<Arguments> observedRows() {
        DynamicConfig ttl20 = new DynamicConfig(20, 2, 5, 1, true, true, 60, Set.of(), false, 300, false, false, io.pgkeel.common.cluster.SyncSettings.OFF, Map.of(),
                Map.of(), 42);
        ClusterView withConfig = new ClusterView(java.util.Optional.of("42"), java.util.Optional.of(ttl20),
                java.util.Optional.empty(), List.of(), java.util.Optional.empty(), java.util.Optional.empty(),
                List.of(), 10);
        return Stream.of(
                // ---- failsafe_mode (issue 13)
                row("first observation -> the agent's start time", FRESH, observes(LED_BY_A, STREAMING),
                        m -> assertThat(m.startedNanos()).isEqualTo(NOW)),
                row("later observations keep the start time", with(b -> b.startedNanos = NOW - 50 * S),
                        observes(LED_BY_A, STREAMING), m -> assertThat(m.startedNanos()).isEqualTo(NOW - 50 * S)),
                row("a read with a failsafe key -> the topology to ask is that key",
                        with(b -> b.lastView = cluster(c -> c.failsafeKey(Map.of("x", "http://x")))),
                        observes(cluster(c -> c.leader("a", 9).members("a", "b").failsafeKey("a", "b")), STREAMING),
                        m -> assertThat(m.failsafeTopology()).isEqualTo(Map.of("a", "http://a:8008/patroni",
                                "b", "http://b:8008/patroni"))),
                row("a read without a failsafe key -> nothing to ask",
                        with(b -> b.lastView = cluster(c -> c.failsafeKey(Map.of("a", "http://a")))),
                        observes(LED_BY_A, STREAMING),
                        m -> assertThat(m.failsafeTopology()).isEmpty()),
                row("DCS unreachable -> the topology is kept",
                        with(b -> b.lastView = cluster(c -> c.failsafeKey(Map.of("a", "http://a")))),
                        observesWithoutDcs(PRIMARY), m -> assertThat(m.failsafeTopology()).containsOnlyKeys("a")),
                row("primary without the DCS -> its failsafe deadline is kept",
                        with(b -> b.failsafeUntilNanos = NOW + 5 * S), observesWithoutDcs(PRIMARY),
                        m -> assertThat(m.failsafeUntilNanos()).isEqualTo(NOW + 5 * S)),
                row("primary sees the DCS again and holds the key -> the lease is the deadline again",
                        with(b -> b.failsafeUntilNanos = NOW + 5 * S),
                        observes(cluster(c -> c.leader("b", 7).members("a", "b")), PRIMARY),
                        m -> assertThat(m.failsafeUntilNanos()).isNull()),
                row("primary sees the DCS again without a leader key -> the deadline holds until it takes the key",
                        with(b -> b.failsafeUntilNanos = NOW + 5 * S), observes(cluster(c -> c.members("a", "b")), PRIMARY),
                        m -> assertThat(m.failsafeUntilNanos()).isEqualTo(NOW + 5 * S)),
                row("no longer a primary (stopped by the fence) -> no failsafe deadline",
                        with(b -> b.failsafeUntilNanos = NOW + 5 * S), observesWithoutDcs(STOPPED),
                        m -> assertThat(m.failsafeUntilNanos()).isNull()),
                row("the renewed lease is remembered", FRESH, observes(LED_BY_A, STREAMING),
                        m -> assertThat(m.lease()).isEqualTo(RENEWED)),
                row("a read cluster is the last view, and etcd was seen now", FRESH, observes(LED_BY_A, STREAMING),
                        m -> {
                            assertThat(m.lastView()).isEqualTo(LED_BY_A);
                            assertThat(m.dcsLastSeenEpochSeconds()).isEqualTo(1_780_000_000L);
                        }),
                row("the config key read is the dynamic configuration in force", FRESH, observes(withConfig, STREAMING),
                        m -> {
                            assertThat(m.dynamic()).isEqualTo(ttl20);
                            assertThat(m.logicalSlotsConfigRevision()).isEqualTo(42);
                        }),
                row("etcd unreachable: the last view and the config are kept",
                        with(b -> b.lastView = LED_BY_A), observesWithoutDcs(STREAMING), m -> {
                            assertThat(m.lastView()).isEqualTo(LED_BY_A);
                            assertThat(m.dynamic()).isEqualTo(BOOT);
                            assertThat(m.lease().renewedThisCycle()).isFalse();
                        }),
                row("a read that the lease renewal then failed still counts as the last view", FRESH,
                        m -> m.observed(LED_BY_A, DcsView.unreachable("renewal failed"), STREAMING, RENEWED, "b", NOW, 5),
                        m -> {
                            assertThat(m.lastView()).isEqualTo(LED_BY_A);
                            assertThat(m.memberSlotsSeenNanos()).as("members noted only from a usable view").isEmpty();
                        }),
                row("standby stops streaming -> not streaming since now", FRESH, observes(LED_BY_A, NOT_STREAMING),
                        m -> assertThat(m.notStreaming()).isEqualTo(new NodeMemory.NotStreaming(NOW, "a"))),
                row("standby still not streaming -> since stays", with(b -> b.notStreaming =
                                new NodeMemory.NotStreaming(NOW - 5 * S, "a")), observes(LED_BY_A, NOT_STREAMING),
                        m -> assertThat(m.notStreaming().sinceNanos()).isEqualTo(NOW - 5 * S)),
                row("not streaming from a new leader -> since starts again", with(b -> b.notStreaming =
                                new NodeMemory.NotStreaming(NOW - 5 * S, "c")), observes(LED_BY_A, NOT_STREAMING),
                        m -> assertThat(m.notStreaming()).isEqualTo(new NodeMemory.NotStreaming(NOW, "a"))),
                row("streams again -> forgotten", with(b -> b.notStreaming = new NodeMemory.NotStreaming(NOW - 5 * S,
                                "a")), observes(LED_BY_A, STREAMING), m -> assertThat(m.notStreaming()).isNull()),
                row("started as a standby, stopped again without running -> one failed start",
                        with(b -> b.lastAction = new Action.StartPostgres(false, "a", "x")), observes(LED_BY_A, STOPPED),
                        m -> assertThat(m.failedReplicaStarts()).isEqualTo(1)),
                row("started as a standby, still starting -> remembered as starting",
                        with(b -> b.lastAction = new Action.StartPostgres(false, "a", "x")), observes(LED_BY_A, STARTING),
                        m -> assertThat(m.replicaStarting()).isTrue()),
                row("was starting as a standby, now stopped -> one more failed start",
                        with(b -> {
                            b.replicaStarting = true;
                            b.failedReplicaStarts = 1;
                            b.lastAction = new Action.Wait("x");
                        }), observes(LED_BY_A, STOPPED), m -> {
                            assertThat(m.failedReplicaStarts()).isEqualTo(2);
                            assertThat(m.replicaStarting()).isFalse();
                        }),
                row("started as primary, stopped -> no failed standby start",
                        with(b -> b.lastAction = new Action.StartPostgres(true, null, "x")), observes(LED_BY_A, STOPPED),
                        m -> assertThat(m.failedReplicaStarts()).isZero()),
                row("running -> failed starts forgotten", with(b -> b.failedReplicaStarts = 3),
                        observes(LED_BY_A, STREAMING), m -> assertThat(m.failedReplicaStarts()).isZero()),
                row("members seen in etcd -> their slot names stamped now (not mine)", FRESH,
                        observes(LED_BY_A, STREAMING),
                        m -> assertThat(m.memberSlotsSeenNanos()).isEqualTo(Map.of("a", NOW, "node_c", NOW))),
                row("the leader's retained slots -> noted now if unknown, kept if known",
                        with(b -> b.memberSlotsSeenNanos = Map.of("d", NOW - 50 * S)),
                        observes(new ClusterView(java.util.Optional.of("42"), java.util.Optional.empty(),
                                java.util.Optional.empty(), List.of(), java.util.Optional.empty(),
                                java.util.Optional.empty(), List.of(), 10, Set.of("d", "e")), STREAMING),
                        m -> assertThat(m.memberSlotsSeenNanos()).isEqualTo(Map.of("d", NOW - 50 * S, "e", NOW))),
                row("postgres runs again -> a handover or a failed pg_rewind is moot",
                        with(b -> {
                            b.handover = new NodeMemory.Handover(List.of("a"), 1, NOW);
                            b.rewindFailedFrom = "a";
                        }), m -> m.observed(cluster(c -> c.leader("b", 7).members("a", "b")), DcsView.reachable(
                                cluster(c -> c.leader("b", 7).members("a", "b"))), PRIMARY, RENEWED, "b", NOW, 5),
                        m -> {
                            assertThat(m.handover()).isNull();
                            assertThat(m.rewindFailedFrom()).isNull();
                        }),
                row("leader whose postgres is stopped -> primary down since now",
                        FRESH, observes(LED_BY_B, STOPPED), m -> assertThat(m.primaryDownSinceNanos()).isEqualTo(NOW)),
                row("leader whose postgres is starting, down since earlier -> still since then",
                        with(b -> b.primaryDownSinceNanos = NOW - 40 * S), observes(LED_BY_B, STARTING),
                        m -> assertThat(m.primaryDownSinceNanos()).isEqualTo(NOW - 40 * S)),
                row("leader whose postgres runs -> not down",
                        with(b -> b.primaryDownSinceNanos = NOW - 40 * S), observes(LED_BY_B, PRIMARY),
                        m -> assertThat(m.primaryDownSinceNanos()).isNull()),
                row("postgres stopped, the key is someone else's -> not a leader's downtime",
                        with(b -> b.primaryDownSinceNanos = NOW - 40 * S), observes(LED_BY_A, STOPPED),
                        m -> assertThat(m.primaryDownSinceNanos()).isNull()),
                row("leader stopped by its own switchover -> not counted",
                        with(b -> b.handover = new NodeMemory.Handover(List.of("a"), 1, NOW)),
                        observes(LED_BY_B, STOPPED), m -> assertThat(m.primaryDownSinceNanos()).isNull()),
                row("leader stopped, switchover abandoned -> not counted until it has tried to start",
                        with(b -> b.handover = new NodeMemory.Handover(List.of("a"), 1, NOW, true)),
                        observes(LED_BY_B, STOPPED), m -> assertThat(m.primaryDownSinceNanos()).isNull()),
                row("etcd unreachable -> the count goes on as it was",
                        with(b -> b.primaryDownSinceNanos = NOW - 40 * S), observesWithoutDcs(STOPPED),
                        m -> assertThat(m.primaryDownSinceNanos()).isEqualTo(NOW - 40 * S)),
                row("stopped, still the leader -> the handover goes on",
                        with(b -> b.handover = new NodeMemory.Handover(List.of("a"), 1, NOW)),
                        m -> m.observed(cluster(c -> c.leader("b", 7).members("a", "b")), DcsView.reachable(
                                cluster(c -> c.leader("b", 7).members("a", "b"))), STOPPED, RENEWED, "b", NOW, 5),
                        m -> assertThat(m.handover()).isNotNull()),
                row("stopped, but someone else holds the key -> nothing to hand over",
                        with(b -> b.handover = new NodeMemory.Handover(List.of("a"), 1, NOW)),
                        observes(LED_BY_A, STOPPED), m -> assertThat(m.handover()).isNull()),
                row("stopped after a failed pg_rewind -> still to be cloned anew",
                        with(b -> b.rewindFailedFrom = "a"), observes(LED_BY_A, STOPPED),
                        m -> assertThat(m.rewindFailedFrom()).isEqualTo("a")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("observedRows")
    void observed(NodeMemory before, Function<NodeMemory, NodeMemory> step, Consumer<NodeMemory> after) {
        after.accept(step.apply(before));
    }

    /** acted() on the observation {@code s} (its memory is the one before), PostgreSQL {@code after} afterwards. */
    private static Function<NodeMemory, NodeMemory> acts(Action a, Outcome outcome, Scenario s, PgStatus after) {
        return m -> actedOn(m, a, outcome, s, after).memory();
    }

    private static NodeMemory.Remembered actedOn(NodeMemory m, Action a, Outcome outcome, Scenario s, PgStatus after) {
        Observation o = s.observation();
        Observation withMemory = new Observation(o.dcs(), o.pg(), o.peers(), o.receivedLsn(), o.self(), o.nowNanos(),
                o.wallNow(), o.request(), m);
        return m.acted(a, outcome, withMemory, after, Scenario.NOW + S);
    }

    private static Action.LeadAsPrimary lead(long optime, Set<String> drop, Set<String> retain, boolean writeStatus) {
        return new Action.LeadAsPrimary(optime, Set.of(), drop, retain, writeStatus, null, false, false, "lead");
    }

    /** The leader's routine cycle writing the failsafe key naming {@code members}, with {@code outcome}. */
    private static Function<NodeMemory, NodeMemory> writesKey(Outcome outcome, String... members) {
        return acts(new Action.LeadAsPrimary(500, Set.of(), Set.of(), Set.of(), false, null, false, false,
                java.util.Optional.of(key(members)), false, "lead"), outcome, me("a").primary(500), PRIMARY);
    }

    private static Map<String, String> key(String... members) {
        Map<String, String> k = new java.util.HashMap<>();
        for (String m : members) {
            k.put(m, "http://" + m + ":8008/patroni");
        }
        return k;
    }

    private static Function<NodeMemory, NodeMemory> readsKey(String... members) {
        // as the leader 'a', who writes the key in writesKey
        return observesAs("a", cluster(c -> c.leader("a", 9).members("a", "b", "c").failsafeKey(members)), PRIMARY);
    }

    private static final Outcome LOST = Outcome.failed("write failsafe key: timeout");

    /** The topology a failsafe round asks, after writes of the failsafe key and reads of it (in order). */
    /** Who held the key of a paused cluster (PausedPolicy.beforeRacingAfterPause), as reads and answers teach it. */
    static Stream<Arguments> pausedLeaderRows() {
        ClusterView pausedLedByA = cluster(c -> c.leader("a", 9).members("a", "b").paused());
        ClusterView pausedVacant = cluster(c -> c.members("b").paused());
        ClusterView vacant = cluster(c -> c.members("b"));
        NodeMemory remembersA = with(b -> b.pausedLeader = new NodeMemory.PausedLeader("a", "http://a:8008/patroni"));
        return Stream.of(
                row("a paused cluster led by a -> a is remembered", FRESH, observes(pausedLedByA, STREAMING),
                        m -> assertThat(m.pausedLeader()).isEqualTo(new NodeMemory.PausedLeader("a", "http://a:8008/patroni"))),
                row("a cluster not paused -> nothing is remembered", FRESH, observes(LED_BY_A, STREAMING),
                        m -> assertThat(m.pausedLeader()).isNull()),
                row("the key lapsed in pause -> still remembered", remembersA, observes(pausedVacant, STREAMING),
                        m -> assertThat(m.pausedLeader()).isEqualTo(new NodeMemory.PausedLeader("a", "http://a:8008/patroni"))),
                row("the pause ended with the key vacant -> still remembered", remembersA, observes(vacant, STREAMING),
                        m -> assertThat(m.pausedLeader()).isEqualTo(new NodeMemory.PausedLeader("a", "http://a:8008/patroni"))),
                row("the pause ended and a still holds the key (its agent may be dead) -> still remembered", remembersA,
                        observes(cluster(c -> c.leader("a", 9).member(new io.pgkeel.common.cluster.Member("a",
                                "postgres://a:5432/postgres", "http://a:8008/patroni", "running", "primary", 1, 1000,
                                null, Map.of(), 3, true, false)).members("b")), STREAMING), m -> assertThat(m.pausedLeader()).isEqualTo(new NodeMemory.PausedLeader("a", "http://a:8008/patroni"))),
                row("the pause ended and another member holds the key -> forgotten", remembersA,
                        observes(LED_BY_B, STREAMING), m -> assertThat(m.pausedLeader()).isNull()),
                row("a paused cluster whose key moved to b (a failover the operator named) -> b", remembersA,
                        observes(cluster(c -> c.leader("b", 7).members("a", "b").paused()), STREAMING),
                        m -> assertThat(m.pausedLeader()).isEqualTo(new NodeMemory.PausedLeader("b", "http://b:8008/patroni"))),
                row("nothing remembered, the key vacant, c's member key waits for a (I missed the pause) -> a",
                        FRESH, observes(cluster(c -> c.pausedPrimaryKey("a").member(waitingFor("c", "a"))), STREAMING),
                        m -> assertThat(m.pausedLeader()).isEqualTo(new NodeMemory.PausedLeader("a",
                                "http://a:8008/patroni"))),
                row("nothing remembered, another member holds the key outside pause -> nothing taken over", FRESH,
                        observes(cluster(c -> c.leader("c", 5).member(waitingFor("c", "a"))), STREAMING),
                        m -> assertThat(m.pausedLeader()).isNull()),
                row("nothing remembered, only my own key names a -> nothing taken over", FRESH,
                        observes(cluster(c -> c.member(waitingFor("b", "a"))), STREAMING),
                        m -> assertThat(m.pausedLeader()).isNull()),
                row("the key vacant outside pause, a's member key shows a running replica -> forgotten", remembersA,
                        observes(cluster(c -> c.members("a", "b")), STREAMING), m -> assertThat(m.pausedLeader()).isNull()),
                row("etcd unreachable -> kept", remembersA, observesWithoutDcs(STREAMING),
                        m -> assertThat(m.pausedLeader()).isEqualTo(new NodeMemory.PausedLeader("a", "http://a:8008/patroni"))),
                row("out of pause, a answered as a running replica -> forgotten", remembersA,
                        acts(new Action.Wait("x"), Outcome.DONE, me("b").replicaFollowing("a", 500).peer(new PeerStatus("a", true, true,
                                true, 500, 1, false, 1, "streaming", false, true)), STREAMING),
                        m -> assertThat(m.pausedLeader()).isNull()),
                row("out of pause, a answered from outside pause -> forgotten", remembersA,
                        acts(new Action.Wait("x"), Outcome.DONE, me("b").replicaFollowing("a", 500).peer(new PeerStatus("a", true, true,
                                false, 500, 1, false, 1, null, false, false)), STREAMING),
                        m -> assertThat(m.pausedLeader()).isNull()),
                row("out of pause, a answered as a paused primary (cut from etcd, say) -> kept", remembersA,
                        acts(new Action.Wait("x"), Outcome.DONE, me("b").replicaFollowing("a", 500).peer(new PeerStatus("a", true, true,
                                false, 500, 1, false, 1, null, false, true)), STREAMING),
                        m -> assertThat(m.pausedLeader()).isEqualTo(new NodeMemory.PausedLeader("a", "http://a:8008/patroni"))),
                row("out of pause, a did not answer -> kept", remembersA,
                        acts(new Action.Wait("x"), Outcome.DONE, me("b").replicaFollowing("a", 500).peer(PeerStatus.unreachable("a")),
                                STREAMING),
                        m -> assertThat(m.pausedLeader()).isEqualTo(new NodeMemory.PausedLeader("a", "http://a:8008/patroni"))),
                row("another member answered from outside pause -> kept", remembersA,
                        acts(new Action.Wait("x"), Outcome.DONE, me("b").replicaFollowing("a", 500).peer(new PeerStatus("c", true, true,
                                true, 500, 1, false, 1, "streaming", false, false)), STREAMING),
                        m -> assertThat(m.pausedLeader()).isEqualTo(new NodeMemory.PausedLeader("a", "http://a:8008/patroni"))));
    }

    /** {@code name}'s member key as a running replica waiting for {@code pausedLeader} (pgkeel's paused_leader). */
    private static io.pgkeel.common.cluster.Member waitingFor(String name, String pausedLeader) {
        return new io.pgkeel.common.cluster.Member(name, "postgres://" + name + ":5432/postgres",
                "http://" + name + ":8008/patroni", "running", "replica", 1, 1000, "streaming", Map.of(), 4, false, false,
                0, 0, Map.of(), Map.of(), pausedLeader);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pausedLeaderRows")
    void pausedLeader(NodeMemory before, Function<NodeMemory, NodeMemory> step, Consumer<NodeMemory> after) {
        after.accept(step.apply(before));
    }

    static Stream<Arguments> failsafeWriteRows() {
        return Stream.of(
                row("a write whose answer was lost, then a read without it -> still asked (it may land later)", FRESH,
                        writesKey(LOST, "a", "b", "c").andThen(readsKey("a", "b")),
                        m -> assertThat(m.failsafeTopology()).isEqualTo(key("a", "b", "c"))),
                row("a lost write, then the same read twice -> still asked", FRESH,
                        writesKey(LOST, "a", "b", "c").andThen(readsKey("a", "b")).andThen(readsKey("a", "b")),
                        m -> assertThat(m.failsafeTopology()).isEqualTo(key("a", "b", "c"))),
                row("a lost write, a later read showing its value -> still asked (it may land again later)", FRESH,
                        writesKey(LOST, "a", "b", "c").andThen(readsKey("a", "b", "c")).andThen(readsKey("a", "b")),
                        m -> assertThat(m.failsafeTopology()).isEqualTo(key("a", "b", "c"))),
                row("a lost write, then a later write acknowledged but not read back -> both asked", FRESH,
                        writesKey(LOST, "a", "b", "c").andThen(writesKey(Outcome.DONE, "a", "d")),
                        m -> assertThat(m.failsafeTopology()).isEqualTo(key("a", "b", "c", "d"))),
                row("a lost write, a later acknowledged one, a read of something else -> both asked", FRESH,
                        writesKey(LOST, "a", "b", "c").andThen(writesKey(Outcome.DONE, "a", "d"))
                                .andThen(readsKey("a", "b")),
                        m -> assertThat(m.failsafeTopology()).isEqualTo(key("a", "b", "c", "d"))),
                row("a lost write, a later acknowledged one read back -> the lost one is settled", FRESH,
                        writesKey(LOST, "a", "b", "c").andThen(writesKey(Outcome.DONE, "a", "d"))
                                .andThen(readsKey("a", "d")),
                        m -> {
                            assertThat(m.failsafeTopology()).isEqualTo(key("a", "d"));
                            assertThat(m.failsafeWrites()).isEmpty();
                        }),
                row("an acknowledged write read back, a lost one after it -> the lost one is still asked", FRESH,
                        writesKey(Outcome.DONE, "a", "d").andThen(writesKey(LOST, "a", "b", "c"))
                                .andThen(readsKey("a", "d")),
                        m -> {
                            assertThat(m.failsafeTopology()).isEqualTo(key("a", "b", "c", "d"));
                            assertThat(m.failsafeWrites()).containsExactly(new NodeMemory.FailsafeWrite(
                                    key("a", "b", "c"), false));
                        }),
                row("the same lost write tried every cycle -> remembered once", FRESH,
                        writesKey(LOST, "a", "b", "c").andThen(readsKey("a", "b")).andThen(writesKey(LOST, "a", "d"))
                                .andThen(writesKey(LOST, "a", "b", "c")).andThen(writesKey(LOST, "a", "b", "c")),
                        m -> assertThat(m.failsafeWrites()).containsExactly(
                                new NodeMemory.FailsafeWrite(key("a", "d"), false),
                                new NodeMemory.FailsafeWrite(key("a", "b", "c"), false))),
                row("an acknowledged write read back, then the same value lost -> still asked until a later one",
                        FRESH, writesKey(Outcome.DONE, "a", "b").andThen(writesKey(LOST, "a", "b"))
                                .andThen(readsKey("a", "b")),
                        m -> assertThat(m.failsafeWrites()).containsExactly(
                                new NodeMemory.FailsafeWrite(key("a", "b"), false))),
                row("a lost write, then DCS unreachable -> still asked", FRESH,
                        writesKey(LOST, "a", "b", "c").andThen(observesWithoutDcs(PRIMARY)),
                        m -> assertThat(m.failsafeTopology()).isEqualTo(key("a", "b", "c"))),
                // review13: a write lost in an earlier term was never settled (only this node's own acknowledged
                // writes settle), and its api_url won over the key another leader wrote since: this node, leader
                // again, asked 'd' at the address it had then, where another agent may answer Accepted for it while
                // 'd' itself promised nothing and may race
                row("a lost write in an earlier term, another leader's key read since -> asked at the read url",
                        FRESH, writesKey(LOST, "a", "b", "d")
                                .andThen(observesAs("a", cluster(c -> c.leader("b", 9).members("a", "b", "d")
                                        .failsafeKey(Map.of("a", "http://a:8008/patroni", "b", "http://b:8008/patroni",
                                                "d", "http://d-moved:8008/patroni"))), PRIMARY)),
                        m -> {
                            assertThat(m.failsafeTopology()).containsEntry("d", "http://d-moved:8008/patroni");
                            assertThat(m.failsafeWrites()).as("forgotten with the term").isEmpty();
                        }),
                row("a lost write, then a read with no leader (the key expired) -> forgotten with the term", FRESH,
                        writesKey(LOST, "a", "b", "c").andThen(observesAs("a", cluster(c -> c.members("a", "b", "c")
                                .failsafeKey("a", "b")), PRIMARY)),
                        m -> {
                            assertThat(m.failsafeTopology()).isEqualTo(key("a", "b"));
                            assertThat(m.failsafeWrites()).isEmpty();
                        }),
                row("a read with no failsafe key -> an acknowledged write is not read back", FRESH,
                        writesKey(Outcome.DONE, "a", "b", "c").andThen(observesAs("a", LED_BY_A, PRIMARY)),
                        m -> assertThat(m.failsafeTopology()).isEqualTo(key("a", "b", "c"))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("failsafeWriteRows")
    void failsafeWrites(NodeMemory before, Function<NodeMemory, NodeMemory> step, Consumer<NodeMemory> after) {
        after.accept(step.apply(before));
    }

    static Stream<Arguments> actedRows() {
        Scenario primary = me("a").primary(500).slots("b", "c");
        return Stream.of(
                // ---- failsafe_mode (issue 13); the boot config's ttl is 30 s
                row("a failsafe round every member accepted -> deadline at its send time plus ttl", FRESH,
                        acts(new Action.FailsafeRound(Map.of("c", "http://c"), "x"), Outcome.failsafeConfirmed(NOW - S),
                                primary, PRIMARY),
                        m -> assertThat(m.failsafeUntilNanos()).isEqualTo(NOW + 29 * S)),
                row("a round not every member accepted -> the deadline stays where it was",
                        with(b -> b.failsafeUntilNanos = NOW + 3 * S),
                        acts(new Action.FailsafeRound(Map.of("c", "http://c"), "x"), Outcome.DONE, primary, PRIMARY),
                        m -> assertThat(m.failsafeUntilNanos()).isEqualTo(NOW + 3 * S)),
                row("a confirmed round never shortens a deadline (ttl made shorter meanwhile)",
                        with(b -> b.failsafeUntilNanos = NOW + 40 * S),
                        acts(new Action.FailsafeRound(Map.of(), "x"), Outcome.failsafeConfirmed(NOW - S), primary,
                                PRIMARY),
                        m -> assertThat(m.failsafeUntilNanos()).isEqualTo(NOW + 40 * S)),
                row("the leader tried to write the failsafe key (the write failed) -> its members are asked too",
                        with(b -> b.lastView = cluster(c -> c.failsafeKey(Map.of("a", "http://a", "b", "http://b")))),
                        acts(new Action.LeadAsPrimary(500, Set.of(), Set.of(), Set.of(), false, null, false, false,
                                java.util.Optional.of(Map.of("a", "http://a", "c", "http://c")), false, "lead"),
                                Outcome.failed("write failsafe key: timeout"), primary, PRIMARY),
                        m -> assertThat(m.failsafeTopology()).isEqualTo(Map.of("a", "http://a", "b", "http://b",
                                "c", "http://c"))),
                row("every action is remembered as the last one", FRESH,
                        acts(new Action.Wait("x"), Outcome.DONE, primary, PRIMARY),
                        m -> assertThat(m.lastAction()).isEqualTo(new Action.Wait("x"))),
                row("the leader wrote status -> remembered", FRESH,
                        acts(lead(500, Set.of(), Set.of("c"), true), Outcome.DONE, primary, PRIMARY),
                        m -> assertThat(m.statusWritten()).isEqualTo(new NodeMemory.Status(500, Set.of("c")))),
                row("status left as it was -> the last write stays", with(b -> b.statusWritten =
                                new NodeMemory.Status(400, Set.of())),
                        acts(lead(500, Set.of(), Set.of(), false), Outcome.DONE, primary, PRIMARY),
                        m -> assertThat(m.statusWritten().optime()).isEqualTo(400)),
                row("leading failed -> status not remembered as written", FRESH,
                        acts(lead(500, Set.of(), Set.of(), true), Outcome.failed("etcd down"), primary, PRIMARY),
                        m -> assertThat(m.statusWritten()).isNull()),
                row("dropped slots -> their members forgotten", with(b -> b.memberSlotsSeenNanos = Map.of(
                                "c", Scenario.NOW - 4000 * S, "b", Scenario.NOW)),
                        acts(lead(500, Set.of("c"), Set.of(), true), Outcome.dropped(Set.of("c")), primary, PRIMARY),
                        m -> assertThat(m.memberSlotsSeenNanos()).isEqualTo(Map.of("b", Scenario.NOW))),
                row("a member gone for member_slots_ttl whose slot is not here -> forgotten",
                        with(b -> b.memberSlotsSeenNanos = Map.of("x", Scenario.NOW - 1800 * S,
                                "c", Scenario.NOW - 1800 * S, "y", Scenario.NOW - 1799 * S)),
                        acts(lead(500, Set.of(), Set.of(), true), Outcome.DONE, primary, PRIMARY),
                        m -> assertThat(m.memberSlotsSeenNanos()).containsOnlyKeys("c", "y")),
                row("switchover's stop done -> handover in progress since now", FRESH,
                        acts(new Action.Switchover(List.of("b", "c"), 77, "x"), Outcome.DONE, primary, STOPPED),
                        m -> assertThat(m.handover()).isEqualTo(new NodeMemory.Handover(List.of("b", "c"), 77,
                                Scenario.NOW + S))),
                row("handed over -> status holds the checkpoint, handover done",
                        with(b -> {
                            b.handover = new NodeMemory.Handover(List.of("b"), 77, Scenario.NOW);
                            b.statusWritten = new NodeMemory.Status(400, Set.of("c"));
                        }),
                        acts(new Action.HandOver("b", 600, "x"), Outcome.DONE, primary, STREAMING), m -> {
                            assertThat(m.handover()).isNull();
                            assertThat(m.statusWritten()).isEqualTo(new NodeMemory.Status(600, Set.of("c")));
                        }),
                row("handing over failed -> still in progress",
                        with(b -> b.handover = new NodeMemory.Handover(List.of("b"), 77, Scenario.NOW)),
                        acts(new Action.HandOver("b", 600, "x"), Outcome.failed("etcd"), primary, STOPPED),
                        m -> assertThat(m.handover()).isNotNull()),
                row("switchover abandoned (failover key cleared) -> handover abandoned: start as primary next",
                        with(b -> b.handover = new NodeMemory.Handover(List.of("b"), 77, Scenario.NOW)),
                        acts(new Action.ClearFailoverKey(77, "x"), Outcome.DONE, primary, STOPPED),
                        m -> assertThat(m.handover()).isEqualTo(new NodeMemory.Handover(List.of("b"), 77, Scenario.NOW,
                                true))),
                row("started again after an abandoned switchover -> the handover is over, even if the start failed",
                        with(b -> b.handover = new NodeMemory.Handover(List.of("b"), 77, Scenario.NOW, true)),
                        acts(new Action.StartPostgres(true, null, "x"), Outcome.failed("pg_ctl"), primary, STOPPED),
                        m -> assertThat(m.handover()).isNull()),
                row("pg_rewind failed -> the data directory is to be cloned anew", FRESH,
                        acts(new Action.Rewind("b", "x"), Outcome.failedRewind(), primary, STOPPED),
                        m -> assertThat(m.rewindFailedFrom()).isEqualTo("b")),
                row("pg_rewind not possible yet -> nothing to remember", FRESH,
                        acts(new Action.Rewind("b", "x"), Outcome.DONE, primary, STOPPED),
                        m -> assertThat(m.rewindFailedFrom()).isNull()),
                row("data directory removed -> the failed rewind is dealt with", with(b -> b.rewindFailedFrom = "b"),
                        acts(new Action.RemoveDataDirectory("x"), Outcome.DONE, primary, STOPPED),
                        m -> assertThat(m.rewindFailedFrom()).isNull()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("actedRows")
    void acted(NodeMemory before, Function<NodeMemory, NodeMemory> step, Consumer<NodeMemory> after) {
        after.accept(step.apply(before));
    }

    static Arguments callbackRow(String name, NodeMemory.RunHistory run, Action a, PgStatus before, PgStatus after,
                                 List<String> fired, NodeMemory.RunHistory afterwards) {
        return Arguments.of(Named.of(name, run), a, before, after, fired, afterwards);
    }

    static Stream<Arguments> callbackRows() {
        NodeMemory.RunHistory primaryRunning = new NodeMemory.RunHistory("primary", true, false);
        NodeMemory.RunHistory replicaRunning = new NodeMemory.RunHistory("replica", true, false);
        return Stream.of(
                callbackRow("first start as replica -> on_start", new NodeMemory.RunHistory(null, false, false),
                        new Action.StartPostgres(false, "a", "x"), STOPPED, STREAMING, List.of("on_start replica"),
                        replicaRunning),
                callbackRow("demoted primary -> on_stop", primaryRunning, new Action.Demote(false, "x"), PRIMARY,
                        STOPPED, List.of("on_stop primary"), new NodeMemory.RunHistory("primary", false, false)),
                callbackRow("started again as replica after being primary -> on_role_change",
                        new NodeMemory.RunHistory("primary", false, false), new Action.Rewind("a", "x"), STOPPED,
                        STREAMING, List.of("on_role_change replica"), replicaRunning),
                callbackRow("switchover's stop, then nothing yet -> on_stop only", primaryRunning,
                        new Action.Switchover(List.of("b"), 1, "x"), PRIMARY, STOPPED, List.of("on_stop primary"),
                        new NodeMemory.RunHistory("primary", false, false)),
                callbackRow("restart -> on_restart, not on_start", replicaRunning, new Action.Restart(false, "a", "x"),
                        STREAMING, STREAMING, List.of("on_restart replica"), replicaRunning),
                callbackRow("restart still starting -> on_restart waits", replicaRunning,
                        new Action.Restart(false, "a", "x"), STREAMING, STARTING, List.of(),
                        new NodeMemory.RunHistory("replica", false, true)),
                callbackRow("promoted -> on_role_change", replicaRunning, new Action.Promote(Set.of(), "x"), STREAMING,
                        PRIMARY, List.of("on_role_change primary"), primaryRunning),
                callbackRow("steady replica -> nothing", replicaRunning, new Action.Wait("x"), STREAMING, STREAMING,
                        List.of(), replicaRunning),
                callbackRow("a stop that is not the action's own (it crashed) -> no on_stop", replicaRunning,
                        new Action.Wait("x"), STREAMING, STOPPED, List.of(),
                        new NodeMemory.RunHistory("replica", false, false)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("callbackRows")
    void callbacks(NodeMemory.RunHistory run, Action a, PgStatus before, PgStatus after, List<String> fired,
                   NodeMemory.RunHistory afterwards) {
        NodeMemory m = with(b -> b.run = run);
        Scenario s = me("a").primary(1);
        Observation o = s.observation();
        Observation withBefore = new Observation(o.dcs(), before, o.peers(), o.receivedLsn(), o.self(), o.nowNanos(),
                o.wallNow(), o.request(), m);
        NodeMemory.Remembered r = m.acted(a, Outcome.DONE, withBefore, after, Scenario.NOW);
        assertThat(r.callbacks().stream().map(c -> c.action() + " " + c.role())).containsExactlyElementsOf(fired);
        assertThat(r.memory().run()).isEqualTo(afterwards);
    }
}

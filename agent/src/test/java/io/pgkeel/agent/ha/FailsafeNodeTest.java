package io.pgkeel.agent.ha;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.peer.PeerClient;
import io.pgkeel.common.peer.PeerStatus;
import io.pgkeel.testing.SimCluster;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** failsafe_mode inside one agent: the fence's deadline, the claim before becoming primary, the published state. */
class FailsafeNodeTest {
    private static final long S = 1_000_000_000L;
    private static final long NOW = 100 * S;

    static Stream<Arguments> deadlines() {
        return Stream.of(
                Arguments.of("no failsafe round: the lease", NOW + 8 * S, null, NOW + 8 * S),
                Arguments.of("a confirmed round later than the lease: the round", NOW - 2 * S, NOW + 9 * S, NOW + 9 * S),
                Arguments.of("a confirmed round earlier than the lease: the lease", NOW + 8 * S, NOW + 3 * S,
                        NOW + 8 * S),
                Arguments.of("no lease at all, a confirmed round: the round", 0L, NOW + 9 * S, NOW + 9 * S));
    }

    /** The fence arms at max(lease validity, failsafe deadline) - margin; nothing else moves it. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("deadlines")
    void theFenceDeadlineIsTheLaterOfTheLeaseAndTheLastConfirmedRound(String name, long leaseUntil, Long failsafeUntil,
                                                                      long expected) {
        NodeMemory.Builder b = NodeMemory.initial(DynamicConfig.defaults()).edit();
        b.lease = new LeaseStatus(leaseUntil == 0 ? 0 : 7, leaseUntil, false);
        b.failsafeUntilNanos = failsafeUntil;
        assertThat(Publisher.deadline(b.build())).isEqualTo(expected);
    }

    static Stream<Arguments> claimingActions() {
        return Stream.of(
                Arguments.of(new Action.AcquireLeader(true, java.util.Set.of(), -1, "race"), true),
                Arguments.of(new Action.AcquireLeader(false, java.util.Set.of(), -1, "take the key back"), true),
                Arguments.of(new Action.Promote(java.util.Set.of(), "promote"), true),
                Arguments.of(new Action.Bootstrap("bootstrap"), true),
                Arguments.of(new Action.StartPostgres(true, null, "start as primary"), true),
                Arguments.of(new Action.Restart(true, null, "restart as primary"), true),
                Arguments.of(new Action.StartPostgres(false, null, "start as a replica"), false),
                Arguments.of(new Action.Demote(false, "demote"), false),
                Arguments.of(new Action.Wait("wait"), false));
    }

    /**
     * The interlock: while a promise runs, an action that would make this node a primary is not carried out, whatever
     * decided it (a promise given after the observation, from the REST thread); the others are.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("claimingActions")
    void whileAPromiseRunsNothingMakesThisNodeAPrimary(Action action, boolean claims) {
        SimCluster c = HaSim.cluster(Map.of("failsafe_mode", true), "b");
        io.pgkeel.common.dcs.Dcs session = c.dcs.session("b");
        session.keepAlive(HaSim.TTL);
        HaNode b = new HaNode(HaSim.identity(c.node("b"), Map.of("failsafe_mode", true)), session, c.node("b").pg,
                members -> List.of(), c.clock, s -> { });
        assertThat(HaNode.claimsPrimary(action)).isEqualTo(claims);
        assertThat(b.failsafe().give("a", null, "http://a:8008/patroni", TimeUnit.SECONDS.toNanos(HaSim.TTL))).isTrue();
        Observation o = Scenario.me("b").replica(1000).cluster(x -> x.members("b")).observation();
        Outcome out = b.carryOut(action, o, c.clock.nanoTime());
        if (claims) {
            assertThat(out.error()).isEqualTo("not carrying out " + action.getClass().getSimpleName()
                    + ": a failsafe promise to primary 'a' runs for 10 more s");
            assertThat(c.leaderKey()).isEmpty();
            assertThat(c.node("b").pg.isWritablePrimary()).isFalse();
        } else {
            assertThat(out.error()).as(String.valueOf(out.error())).satisfiesAnyOf(e -> assertThat(e).isNull(),
                    e -> assertThat(e).doesNotStartWith("not carrying out"));
        }
        assertThat(b.failsafe().isClaimed()).isFalse();
    }

    /**
     * A promise given while the cycle asks the others before racing is seen by that cycle (the observation reads the
     * promise last): it waits; once the promise has run out it races and takes over, and refuses promises from then.
     */
    @Test
    void aPromiseGivenWhileWeighingPeersStopsTheRaceUntilItRunsOut() {
        SimCluster c = HaSim.cluster(Map.of("failsafe_mode", true), "a", "b");
        c.startAll();
        c.run(Duration.ofSeconds(20));
        assertThat(c.leaderKey()).hasValue("a");
        c.node("a").crash();
        c.node("b").killAgent(); // b's PostgreSQL runs on as a replica; its agent is replaced by the one below
        c.run(Duration.ofSeconds(HaSim.TTL + 1));
        assertThat(c.leaderKey()).isEmpty();
        // a third member whose agent is stopped: b weighs its answer before racing
        io.pgkeel.common.dcs.Dcs z = c.dcs.session("z");
        z.keepAlive(3600);
        z.publishMember(new Member("z", "postgres://z:5432/postgres", "http://z:8008/patroni", "stopped", "replica",
                1, 0, null, Map.of(), 0));

        AtomicReference<HaNode> self = new AtomicReference<>();
        AtomicBoolean armed = new AtomicBoolean();
        AtomicBoolean promised = new AtomicBoolean();
        PeerClient peers = new PeerClient() {
            @Override
            public List<PeerStatus> fetch(List<Member> members) {
                if (armed.get() && promised.compareAndSet(false, true)) {
                    // POST /failsafe from 'a' arrives while b weighs its peers
                    assertThat(self.get().failsafe().give("a", "postgres://a:5432/postgres", "http://a:8008/patroni",
                            TimeUnit.SECONDS.toNanos(HaSim.TTL))).isTrue();
                }
                return members.stream().map(m -> PeerStatus.unreachable(m.name())).toList();
            }
        };
        AtomicReference<NodeSnapshot> published = new AtomicReference<>();
        HaNode b = new HaNode(HaSim.identity(c.node("b"), Map.of("failsafe_mode", true)), c.dcs.session("b"),
                c.node("b").pg, peers, c.clock, published::set);
        self.set(b);
        for (int i = 0; i < HaSim.TTL; i++) {
            b.runCycle();
            c.clock.advance(Duration.ofSeconds(1));
        }
        assertThat(b.lastAction().reason()).startsWith("not racing for the leader key within ttl of starting");
        armed.set(true);
        b.runCycle();
        assertThat(promised).isTrue();
        assertThat(b.lastAction().reason()).startsWith("not racing for the leader key: primary 'a' runs in failsafe");
        assertThat(c.leaderKey()).isEmpty();
        assertThat(c.node("b").pg.isWritablePrimary()).isFalse();
        assertThat(b.failsafe().isClaimed()).isFalse();
        assertThat(published.get().failsafe()).as("published for GET /failsafe and the metrics")
                .isEqualTo(new NodeSnapshot.FailsafeState(true, Map.of("a", "http://a:8008/patroni",
                        "b", "http://b:8008/patroni"), true));

        for (int i = 0; i < HaSim.TTL && !c.node("b").pg.isWritablePrimary(); i++) {
            c.clock.advance(Duration.ofSeconds(1));
            b.runCycle();
        }
        assertThat(c.leaderKey()).as("the promise ran out: b took over").hasValue("b");
        assertThat(c.node("b").pg.isWritablePrimary()).isTrue();
        assertThat(b.failsafe().isClaimed()).as("a primary refuses promises").isTrue();
        assertThat(b.failsafe().give("a", null, "http://a:8008/patroni", TimeUnit.SECONDS.toNanos(10))).isFalse();
        assertThat(published.get().failsafe().active()).isFalse();
    }

    /** Patroni's POST /failsafe body, plus the ttl the primary counts its deadline with (Patroni ignores it). */
    @Test
    void theRoundsBodyNamesThePrimaryAndTheTtlItCountsWith() {
        SimCluster c = HaSim.cluster("a");
        assertThat(Actor.failsafeBody(HaSim.identity(c.node("a"), Map.of()), 10)).isEqualTo("{\"name\":\"a\","
                + "\"conn_url\":\"" + c.node("a").pg.connUrl() + "\",\"api_url\":\"http://a:8008/patroni\",\"ttl\":10}");
    }

    @Test
    void aCorrectedSnapshotKeepsItsFailsafeState() {
        NodeSnapshot.FailsafeState state = new NodeSnapshot.FailsafeState(true, Map.of("a", "http://a"), true);
        NodeSnapshot s = new NodeSnapshot(null, io.pgkeel.common.pg.PgStatus.empty(), null, false, false, "x", "y", 0,
                0, 30, 10, null, state);
        assertThat(s.withPg(io.pgkeel.common.pg.PgStatus.empty()).failsafe()).isEqualTo(state);
        assertThat(new NodeSnapshot(null, io.pgkeel.common.pg.PgStatus.empty(), null, false, false, "x", "y", 0, 0,
                30, 10).failsafe()).isEqualTo(NodeSnapshot.FailsafeState.OFF);
    }
}

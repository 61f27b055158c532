package io.pgkeel.agent.ha;

import static io.pgkeel.agent.ha.Scenario.OTHER_LEASE;
import static io.pgkeel.agent.ha.Scenario.me;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.DcsView;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.pg.PgRunState;
import io.pgkeel.common.pg.PgStatus;
import io.pgkeel.testing.FakeClock;
import io.pgkeel.testing.FakeDcs;
import io.pgkeel.testing.FakePostgres;
import io.pgkeel.testing.SimCluster;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The actor carries out each action as it says and chooses nothing. The first two tests stand in for the
 * compiler's exhaustiveness check over the sealed interface (Java 17 has no pattern switch): an action the actor did
 * not know would end in an AssertionError, which it does not catch.
 */
class ActorTest {

    static List<Action> oneOfEach() {
        return List.of(new Action.Bootstrap("x"), new Action.CloneFromLeader("a", "x"),
                new Action.StartPostgres(false, "a", "x"), new Action.AcquireLeader(false, Set.of(), -1, "x"),
                new Action.ReattachLeader("x"),
                new Action.LeadAsPrimary(1, Set.of(), Set.of(), Set.of(), true, null, false, false, "x"),
                new Action.Promote(Set.of(), "x"), new Action.Demote(false, "x"), new Action.Follow("a", "x"),
                new Action.Rewind("a", "x"), new Action.RemoveDataDirectory("x"),
                new Action.Switchover(List.of("a"), 1, "x"), new Action.AwaitHandover("x"),
                new Action.HandOver("a", 1, "x"), new Action.ClearFailoverKey(1, "x"), new Action.ReleaseLeader("x"),
                new Action.Restart(false, "a", "x"), new Action.Reinitialize("a", "x"),
                new Action.DropReplicaSlots(Set.of("a"), "x"), new Action.ApplyParameters(Map.of(), "x"),
                new Action.WriteSyncKey("me", Set.of("a"), 0, 0, "x"), new Action.DeleteSyncKey(1, "x"),
                new Action.SetSyncStandbys("a", "x"), new Action.AwaitSyncStandby("x"),
                new Action.FailsafeRound(Map.of("a", "http://a:8008/patroni"), "x"), new Action.Wait("x"));
    }

    @Test
    void theSamplesHoldOneActionOfEachType() {
        assertThat(oneOfEach().stream().map(Object::getClass).toList())
                .containsExactlyInAnyOrderElementsOf(Arrays.asList(Action.class.getPermittedSubclasses()));
    }

    @Test
    void everyActionIsCarriedOutOrFailsAsAnOutcome() {
        FakeClock clock = new FakeClock();
        FakeDcs dcs = new FakeDcs(clock);
        FakePostgres pg = new FakePostgres.Network().node("b");
        Actor actor = new Actor(dcs.session("b"), pg, new MemberKey(dcs.session("b")), new LeaseFence(() -> { }),
                new OperatorInbox(), clock, HaListener.NONE);
        Observation o = me("b").handingOver(0.1, 1, "a")
                .cluster(c -> c.leader("a", OTHER_LEASE).members("a", "b")).observation();
        for (Action a : oneOfEach()) {
            // fakes refuse many of these in this state: that is an Outcome too; an unknown action is not
            assertThat(actor.act(a, o, identity("b"), clock.nanoTime())).as(a.toString()).isNotNull();
        }
    }

    /** A healthy simulated cluster, and an actor of its own on the leader's etcd session and PostgreSQL. */
    private record Leader(SimCluster cluster, SimCluster.Node node, Actor actor) {
        ClusterView view() {
            return cluster.dcs.session("reader").read();
        }

        /** An observation of the cluster as it is, with {@code memory}. */
        Observation observation(NodeMemory memory) {
            DynamicConfig dyn = view().config().orElseThrow();
            return new Observation(DcsView.reachable(view()), node.pg.probe(), List.of(), Map.of(),
                    NodeSettings.of(identity(node.name), dyn), cluster.clock.nanoTime(), cluster.clock.now(),
                    Optional.empty(), memory);
        }

        Outcome act(Action a, NodeMemory memory) {
            return actor.act(a, observation(memory), identity(node.name), cluster.clock.nanoTime());
        }
    }

    private static Leader leader() {
        SimCluster c = HaSim.cluster("a", "b", "c");
        c.startAll();
        c.run(Duration.ofSeconds(15));
        assertThat(c.isConverged()).as(c.describe()).isTrue();
        SimCluster.Node n = c.node(c.leaderKey().orElseThrow());
        Actor actor = new Actor(n.session(), n.pg, new MemberKey(n.session()), new LeaseFence(() -> { }),
                new OperatorInbox(), c.clock, HaListener.NONE);
        return new Leader(c, n, actor);
    }

    private static String other(Leader l) {
        return l.cluster().nodes.keySet().stream().filter(n -> !n.equals(l.node().name)).findFirst().orElseThrow();
    }

    @Test
    void aSwitchoverOnlyStopsPostgresWithACheckpoint_theKeysStayAsTheyAre() {
        Leader l = leader();
        String candidate = other(l);
        l.cluster().requestSwitchover(l.node().name, candidate);
        long failoverRevision = l.view().failover().orElseThrow().modRevision();
        Outcome out = l.act(new Action.Switchover(List.of(candidate), failoverRevision, "x"),
                NodeMemory.initial(DynamicConfig.defaults()));
        assertThat(out.ok()).isTrue();
        PgStatus pg = l.node().pg.probe();
        assertThat(pg.runState()).isEqualTo(PgRunState.STOPPED);
        assertThat(pg.shutdownCheckpointLsn()).as("a clean shutdown").isPositive();
        assertThat(l.cluster().leaderKey()).as("the key is handed over later, if at all").hasValue(l.node().name);
        assertThat(l.view().failover()).as("the failover key is the decision's to clear").isPresent();
    }

    @Test
    void aHandoverWritesTheCheckpointAsTheLastPositionReleasesTheKeyAndFollowsTheCandidate() {
        Leader l = leader();
        String candidate = other(l);
        NodeMemory memory = NodeMemory.initial(DynamicConfig.defaults());
        l.act(new Action.Switchover(List.of(candidate), -1, "x"), memory);
        long checkpoint = l.node().pg.probe().shutdownCheckpointLsn();
        NodeMemory.Builder b = memory.edit();
        b.handover = new NodeMemory.Handover(List.of(candidate), -1, l.cluster().clock.nanoTime());
        Outcome out = l.act(new Action.HandOver(candidate, checkpoint, "x"), b.build());
        assertThat(out.ok()).isTrue();
        assertThat(l.cluster().leaderKey()).as("released").isEmpty();
        assertThat(new Action.HandOver(candidate, checkpoint, "x").releasesLeaderKey()).isTrue();
        assertThat(l.view().lastLeaderLsn()).hasValue(checkpoint);
        PgStatus pg = l.node().pg.probe();
        assertThat(pg.isRunningReplica()).isTrue();
        assertThat(pg.following()).isEqualTo(candidate);
        assertThat(l.node().pg.rewinds()).as("no pg_rewind after a clean handover").isZero();
    }

    /** What HaNode relies on to publish "holds the key" right after acting: the actions that delete it say so. */
    @Test
    void theActionsThatDeleteTheLeaderKeySaySo() {
        for (Action a : List.of(new Action.ReleaseLeader("x"), new Action.Demote(true, "x"))) {
            Leader l = leader();
            assertThat(l.act(a, NodeMemory.initial(DynamicConfig.defaults())).ok()).isTrue();
            assertThat(l.cluster().leaderKey()).as(a.toString()).isEmpty();
            assertThat(a.releasesLeaderKey()).as(a.toString()).isTrue();
        }
        for (Action a : List.of(new Action.Demote(false, "x"), new Action.Wait("x"))) {
            Leader l = leader();
            l.act(a, NodeMemory.initial(DynamicConfig.defaults()));
            assertThat(l.cluster().leaderKey()).as(a.toString()).hasValue(l.node().name);
            assertThat(a.releasesLeaderKey()).as(a.toString()).isFalse();
        }
    }

    @Test
    void aFailedPgRewindRemovesNothing_theNextDecisionDoes() {
        Leader l = leader();
        FakePostgres replica = l.cluster().node(other(l)).pg;
        replica.stop(io.pgkeel.common.pg.LocalPostgres.StopMode.FAST);
        replica.failNextRewind();
        SimCluster.Node node = l.cluster().node(other(l));
        Actor actor = new Actor(node.session(), replica, new MemberKey(node.session()), new LeaseFence(() -> { }),
                new OperatorInbox(), l.cluster().clock, HaListener.NONE);
        Observation o = new Leader(l.cluster(), node, actor).observation(NodeMemory.initial(DynamicConfig.defaults()));
        Outcome out = actor.act(new Action.Rewind(l.node().name, "x"), o, identity(node.name), 0);
        assertThat(out.rewindFailed()).isTrue();
        assertThat(replica.probe().initialized()).as("the data directory is still there").isTrue();
        assertThat(replica.probe().runState()).isEqualTo(PgRunState.STOPPED);
    }

    @Test
    void theLeaderKeyWinnerClearsTheFailoverKeyItWasGiven_aLoserClearsNothing() {
        FakeClock clock = new FakeClock();
        FakeDcs dcs = new FakeDcs(clock);
        FakeDcs.Session b = dcs.session("b");
        b.keepAlive(10);
        dcs.session("operator").writeFailover(null, "b", null, -1);
        long revision = dcs.session("reader").read().failover().orElseThrow().modRevision();
        FakeDcs.Session other = dcs.session("c");
        other.keepAlive(10);
        other.tryAcquireLeader();
        Actor actor = new Actor(b, new FakePostgres.Network().node("b"), new MemberKey(b), new LeaseFence(() -> { }),
                new OperatorInbox(), clock, HaListener.NONE);
        Observation o = me("b").cluster(c -> c.members("b")).observation();
        Outcome lost = actor.act(new Action.AcquireLeader(false, Set.of(), revision, "x"), o, identity("b"), 0);
        assertThat(lost.acquiredLeader()).isFalse();
        assertThat(dcs.get("failover")).as("not mine to clear").isPresent();
        other.releaseLeader();
        Outcome won = actor.act(new Action.AcquireLeader(false, Set.of(), revision, "x"), o, identity("b"), 0);
        assertThat(won.acquiredLeader()).isTrue();
        assertThat(dcs.get("failover")).isEmpty();
    }

    @Test
    void aPromotionWritesTheSyncKeyAndSynchronousStandbyNamesFirst_aChangedSyncKeyPostponesIt() {
        FakeClock clock = new FakeClock();
        FakeDcs dcs = new FakeDcs(clock);
        FakePostgres.Network net = new FakePostgres.Network();
        FakePostgres a = net.node("a");
        a.bootstrap();
        FakePostgres b = net.node("b");
        io.pgkeel.common.cluster.Member ma = new io.pgkeel.common.cluster.Member("a", a.connUrl(), "http://a:8008/patroni",
                "running", "primary", 1, 100, null, Map.of(), 1);
        b.cloneFrom(ma);
        b.start(false, ma);
        a.crash();
        FakeDcs.Session session = dcs.session("b");
        session.keepAlive(10);
        dcs.session("a").writeSync("a", Set.of("b"), 0, 0);
        long syncRevision = dcs.session("reader").read().sync().orElseThrow().modRevision();
        Actor actor = new Actor(session, b, new MemberKey(session), new LeaseFence(() -> { }), new OperatorInbox(),
                clock, HaListener.NONE);
        Observation o = me("b").cluster(c -> c.members("b")).observation();

        Action.SyncBeforePromote stale = new Action.SyncBeforePromote(Set.of(), 0, "", syncRevision - 1);
        Outcome postponed = actor.act(new Action.AcquireLeader(true, Set.of(), -1, stale, "x"), o, identity("b"), 0);
        assertThat(postponed.acquiredLeader()).isTrue();
        assertThat(b.isWritablePrimary()).as("not promoted: the sync key changed since the decision").isFalse();
        assertThat(dcs.session("reader").read().sync().orElseThrow().leader()).isEqualTo("a");

        Action.SyncBeforePromote fresh = new Action.SyncBeforePromote(Set.of("a"), 0, "a", syncRevision);
        actor.act(new Action.Promote(Set.of(), fresh, "x"), o, identity("b"), 0);
        assertThat(b.isWritablePrimary()).isTrue();
        io.pgkeel.common.cluster.SyncKey key = dcs.session("reader").read().sync().orElseThrow();
        assertThat(key.leader()).isEqualTo("b");
        assertThat(key.voters()).containsExactly("a");
        assertThat(b.synchronousStandbyNames()).isEqualTo("a");
    }

    private static NodeIdentity identity(String name) {
        return new NodeIdentity("sim", name, Map.of(), Map.of(), DynamicConfig.defaults(), NodeIdentity.LocalOverrides.NONE,
                "postgres://" + name + ":5432/postgres", "http://" + name + ":8008/patroni", "test");
    }
}

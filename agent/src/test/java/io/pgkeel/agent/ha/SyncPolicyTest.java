package io.pgkeel.agent.ha;

import static io.pgkeel.agent.ha.HaPolicyTest.row;
import static io.pgkeel.agent.ha.Scenario.MY_LEASE;
import static io.pgkeel.agent.ha.Scenario.OTHER_LEASE;
import static io.pgkeel.agent.ha.Scenario.me;
import static io.pgkeel.common.cluster.SyncMode.OFF;
import static io.pgkeel.common.cluster.SyncMode.ON;
import static io.pgkeel.common.cluster.SyncMode.QUORUM;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.Arguments;

/**
 * Synchronous replication decisions, one named row per situation (run by {@link HaPolicyTest#decides}): the leader's
 * steps that keep synchronous_standby_names and the sync key together, and who may be promoted. Plus the safety
 * arithmetic and what a standby does before its promotion.
 */
class SyncPolicyTest {

    static Stream<Arguments> rows() {
        return Stream.of(
                // ---- the leader, synchronous_mode on
                row("sync on, no sync key yet -> write it naming only me",
                        me("a").primary(1000).sync(ON, false, 1).ssn("").walSender("b", "async", 1000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b")),
                        Action.WriteSyncKey.class,
                        "enabling synchronous replication: writing the sync key with no synchronous standby"),
                row("sync key written by the former leader -> rewrite it naming only me",
                        me("a").primary(1000).sync(ON, false, 1).ssn("").walSender("b", "async", 1000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").syncKey("c", 0, "a")),
                        Action.WriteSyncKey.class,
                        "the sync key names leader 'c', not me: rewriting it with no synchronous standby"),
                row("a healthy standby, none synchronous -> list it in synchronous_standby_names first",
                        me("a").primary(1000).sync(ON, false, 1).ssn("").walSender("b", "async", 1000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").syncKey("a", 0)),
                        Action.SetSyncStandbys.class, "assigning synchronous_standby_names to 'b' (was '')"),
                row("listed standby caught up with the primary's position at listing -> name it in the sync key",
                        me("a").primary(1000).sync(ON, false, 1).ssn("b").walSender("b", "sync", 1000)
                                .syncSeen("b", 0.5, 900, "", "b")
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").syncKey("a", 0)),
                        Action.WriteSyncKey.class, "setting the sync key's synchronous standbys to 'b'"),
                row("listed standby reported sync but behind the position at listing -> look again soon",
                        me("a").primary(1000).sync(ON, false, 1).ssn("b").walSender("b", "sync", 800)
                                .syncSeen("b", 0.5, 900, "", "b")
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").syncKey("a", 0)),
                        Action.AwaitSyncStandby.class, "waiting for 'b' to catch up before naming it in the sync key"),
                row("listed standby still behind after the confirm window -> routine cycle (it stays out of the key)",
                        me("a").primary(1000).sync(ON, false, 1).ssn("b").walSender("b", "sync", 800)
                                .syncSeen("b", 3, 900, "", "b")
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").syncKey("a", 0)),
                        Action.LeadAsPrimary.class, "no action. I am (a), the leader with the lock"),
                row("steady: sync key and synchronous_standby_names agree -> routine cycle",
                        me("a").primary(1000).sync(ON, false, 1).ssn("b").walSender("b", "sync", 1000)
                                .walSender("c", "async", 1000).syncSeen("b", 60, 10, "b")
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b", "c").syncKey("a", 0, "b")),
                        Action.LeadAsPrimary.class, "no action. I am (a), the leader with the lock"),
                row("sync standby gone, another healthy: no direct step is safe -> sync key names nobody first",
                        me("a").primary(1000).sync(ON, false, 1).ssn("b").walSender("c", "async", 1000)
                                .syncSeen("b", 60, 10, "b")
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b", "c").syncKey("a", 0, "b")),
                        Action.WriteSyncKey.class, "updating the sync key temporarily to name no synchronous standby,"
                                + " so that synchronous_standby_names can change"),
                row("sync key names nobody -> replace the gone sync standby in synchronous_standby_names",
                        me("a").primary(1000).sync(ON, false, 1).ssn("b").walSender("c", "async", 1000)
                                .syncSeen("b", 60, 10, "b")
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b", "c").syncKey("a", 0)),
                        Action.SetSyncStandbys.class, "assigning synchronous_standby_names to 'c' (was 'b')"),
                row("sync standby gone, no other (not strict) -> the sync key lets go of it before PostgreSQL does",
                        me("a").primary(1000).sync(ON, false, 1).ssn("b").syncSeen("b", 60, 10, "b")
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").syncKey("a", 0, "b")),
                        Action.WriteSyncKey.class,
                        "setting the sync key's synchronous standbys to none: no standby can be synchronous"),
                row("sync key names nobody, no standby (not strict) -> commits stop waiting",
                        me("a").primary(1000).sync(ON, false, 1).ssn("b").syncSeen("b", 60, 10, "b")
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").syncKey("a", 0)),
                        Action.SetSyncStandbys.class,
                        "assigning synchronous_standby_names to '' (was 'b'): no standby can be synchronous"),
                row("strict, sync standby gone, no other -> keep waiting for it (nothing changes)",
                        me("a").primary(1000).sync(ON, true, 1).ssn("b").syncSeen("b", 60, 10, "b")
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").syncKey("a", 0, "b")),
                        Action.LeadAsPrimary.class, "no action. I am (a), the leader with the lock"),
                row("strict, no standby at all -> commits wait for nobody that can answer",
                        me("a").primary(1000).sync(ON, true, 1).ssn("")
                                .cluster(c -> c.leader("a", MY_LEASE).members("a").syncKey("a", 0)),
                        Action.SetSyncStandbys.class, "assigning synchronous_standby_names to"
                                + " '__patroni_strict_sync_replica_placeholder__' (was ''): synchronous_mode_strict and"
                                + " no standby can be synchronous; commits wait"),
                row("synchronous_node_count 2, a second healthy standby -> commits wait for both",
                        me("a").primary(1000).sync(ON, false, 2).ssn("b").walSender("b", "sync", 1000)
                                .walSender("c", "async", 1000).syncSeen("b", 60, 10, "b")
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b", "c").syncKey("a", 0, "b")),
                        Action.SetSyncStandbys.class, "assigning synchronous_standby_names to 'FIRST 2 (b,c)' (was 'b')"),
                row("nosync standby is never picked",
                        me("a").primary(1000).sync(ON, false, 1).ssn("").walSender("b", "async", 2000)
                                .walSender("c", "async", 1000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "c").memberTagged("b",
                                        Map.of("nosync", true)).syncKey("a", 0)),
                        Action.SetSyncStandbys.class, "assigning synchronous_standby_names to 'c' (was '')"),
                row("higher sync_priority is picked first",
                        me("a").primary(1000).sync(ON, false, 1).ssn("").walSender("b", "async", 2000)
                                .walSender("c", "async", 1000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").memberTagged("c",
                                        Map.of("sync_priority", 5)).syncKey("a", 0)),
                        Action.SetSyncStandbys.class, "assigning synchronous_standby_names to 'c' (was '')"),
                row("a standby catching up is not picked yet",
                        me("a").primary(1000).sync(ON, false, 1).ssn("").walSenderCatchingUp("b", 10)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").syncKey("a", 0)),
                        Action.LeadAsPrimary.class, "no action. I am (a), the leader with the lock"),
                row("sync standby beyond maximum_lag_on_syncnode is replaced by one within it",
                        me("a").primary(100_000).sync(ON, false, 1, 1000).ssn("b").walSender("b", "sync", 10_000)
                                .walSender("c", "async", 99_500).syncSeen("b", 60, 10, "b")
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b", "c").syncKey("a", 0)),
                        Action.SetSyncStandbys.class, "assigning synchronous_standby_names to 'c' (was 'b')"),
                // ---- synchronous_mode turned off
                row("sync off, sync key left -> delete it first",
                        me("a").primary(1000).sync(OFF, false, 1).ssn("b").walSender("b", "sync", 1000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").syncKey("a", 0, "b")),
                        Action.DeleteSyncKey.class,
                        "disabling synchronous replication: synchronous_mode is off, deleting the sync key"),
                row("sync off, key gone, synchronous_standby_names still ours -> back to the configured value",
                        me("a").primary(1000).sync(OFF, false, 1).ssn("b").walSender("b", "sync", 1000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b")),
                        Action.SetSyncStandbys.class, "disabling synchronous replication: synchronous_standby_names"
                                + " back to its configured value"),
                row("sync off, an operator's own synchronous_standby_names -> left alone",
                        me("a").primary(1000).sync(OFF, false, 1).ssnConfigured("b").walSender("b", "sync", 1000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b")),
                        Action.LeadAsPrimary.class, "no action. I am (a), the leader with the lock"),
                row("on mode after quorum mode: one standby under ANY 1 -> written as FIRST (PostgreSQL then says sync)",
                        me("a").primary(1000).sync(ON, false, 1).ssn("ANY 1 (b)").walSender("b", "quorum", 1000)
                                .syncSeen("ANY 1 (b)", 60, 10, "ANY 1 (b)")
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").syncKey("a", 0, "b")),
                        Action.SetSyncStandbys.class, "assigning synchronous_standby_names to 'b' (was 'ANY 1 (b)')"),
                // ---- the leader, quorum mode
                row("quorum: two healthy standbys, none listed -> ANY 1 of both first",
                        me("a").primary(1000).sync(QUORUM, false, 1).ssn("").walSender("b", "async", 1000)
                                .walSender("c", "async", 1000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b", "c").syncKey("a", 0)),
                        Action.SetSyncStandbys.class, "assigning synchronous_standby_names to 'ANY 1 (b,c)' (was '')"),
                row("quorum: both caught up -> voters b, c with quorum 1",
                        me("a").primary(1000).sync(QUORUM, false, 1).ssn("ANY 1 (b,c)").walSender("b", "quorum", 1000)
                                .walSender("c", "quorum", 1000).syncSeen("ANY 1 (b,c)", 0.2, 900, "", "b", "c")
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b", "c").syncKey("a", 0)),
                        Action.WriteSyncKey.class, "setting the sync key's synchronous standbys to 'b', 'c', quorum 1"),
                row("quorum grows by a member -> the quorum grows in the sync key before ANY lists it",
                        me("a").primary(1000).sync(QUORUM, false, 1).ssn("ANY 1 (b,c)").walSender("b", "quorum", 1000)
                                .walSender("c", "quorum", 1000).walSender("d", "async", 1000)
                                .syncSeen("ANY 1 (b,c)", 60, 10, "ANY 1 (b,c)")
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b", "c", "d").syncKey("a", 1, "b", "c")),
                        Action.WriteSyncKey.class, "setting the sync key's synchronous standbys to 'b', 'c', 'd', quorum 2"),
                row("quorum shrinks by a member -> ANY stops listing it before the sync key drops it",
                        me("a").primary(1000).sync(QUORUM, false, 1).ssn("ANY 1 (b,c,d)").walSender("b", "quorum", 1000)
                                .walSender("c", "quorum", 1000).syncSeen("ANY 1 (b,c,d)", 60, 10, "ANY 1 (b,c,d)")
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b", "c", "d")
                                        .syncKey("a", 2, "b", "c", "d")),
                        Action.SetSyncStandbys.class, "assigning synchronous_standby_names to 'ANY 1 (b,c)' (was 'ANY 1 (b,c,d)')"),
                // ---- who may be promoted
                row("sync on, leader gone, I am not in the sync key -> not promoting",
                        me("b").replica(1000).sync(ON, false, 1)
                                .cluster(c -> c.members("b", "c").syncKey("a", 0, "c")),
                        Action.Wait.class, "not promoting:"
                                + " sync mode is on and I am not in the sync key"),
                row("sync on, leader gone, I am the sync standby; an async one is ahead -> I promote (it may not)",
                        me("b").replica(1000).sync(ON, false, 1).peer("c", false, 5000)
                                .cluster(c -> c.members("b", "c").syncKey("a", 0, "b")),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("quorum, leader gone, a voter answers and is not ahead -> quorum 1 reached, promote",
                        me("b").replica(1000).sync(QUORUM, false, 1).peer("c", false, 900).received("c", 900)
                                .cluster(c -> c.members("b", "c").syncKey("a", 1, "b", "c")),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("quorum, a voter's REST status (a cycle old) is not ahead but its live position is -> no vote",
                        me("b").replica(1000).sync(QUORUM, false, 1).peer("c", false, 900).received("c", 1100)
                                .cluster(c -> c.members("b", "c").syncKey("a", 1, "b", "c")),
                        Action.Wait.class, "not promoting: only 1 of the sync key's members (leader and voters 'a',"
                                + " 'b', 'c') are known not to be ahead of me, quorum 1 needs 2"),
                row("quorum, a voter answers REST but its position could not be asked live -> no vote",
                        me("b").replica(1000).sync(QUORUM, false, 1).peer("c", false, 900)
                                .cluster(c -> c.members("b", "c").syncKey("a", 1, "b", "c")),
                        Action.Wait.class, "not promoting: only 1 of the sync key's members (leader and voters 'a',"
                                + " 'b', 'c') are known not to be ahead of me, quorum 1 needs 2"),
                row("quorum, leader gone, the other voter does not answer -> quorum not reached",
                        me("b").replica(1000).sync(QUORUM, false, 1)
                                .peer(io.pgkeel.common.peer.PeerStatus.unreachable("c"))
                                .cluster(c -> c.members("b", "c").syncKey("a", 1, "b", "c")),
                        Action.Wait.class, "not promoting:"
                                + " only 1 of the sync key's members (leader and voters 'a', 'b', 'c') are known not to"
                                + " be ahead of me, quorum 1 needs 2"),
                row("sync on right after quorum mode (the key still has quorum 1): a voter alone may not promote",
                        me("b").replica(1000).sync(ON, false, 1)
                                .peer(io.pgkeel.common.peer.PeerStatus.unreachable("c"))
                                .cluster(c -> c.members("b", "c").syncKey("a", 1, "b", "c")),
                        Action.Wait.class, "not promoting:"
                                + " only 1 of the sync key's members (leader and voters 'a', 'b', 'c') are known not to"
                                + " be ahead of me, quorum 1 needs 2"),
                row("quorum, not a voter, but every voter answers and none is ahead -> promote",
                        me("d").replica(1000).sync(QUORUM, false, 1).peer("b", false, 900).peer("c", false, 900)
                                .received("b", 900).received("c", 900)
                                .cluster(c -> c.members("b", "c", "d").syncKey("a", 1, "b", "c")),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("sync on, I hold the key as a standby but the sync key does not name me -> let go of it",
                        me("b").replica(1000).sync(ON, false, 1)
                                .cluster(c -> c.leader("b", MY_LEASE).members("b", "c").syncKey("a", 0, "c")),
                        Action.ReleaseLeader.class, "releasing the leader key without promoting: sync mode is on and"
                                + " I am not in the sync key"),
                row("sync on, I hold the key, my stopped data was a standby -> start as a standby, promote after",
                        me("b").stopped(false).sync(ON, false, 1)
                                .cluster(c -> c.leader("b", MY_LEASE).members("b", "c").syncKey("a", 0, "b")),
                        Action.StartPostgres.class, "starting as a standby first: a standby's data becomes primary only"
                                + " through a promotion while synchronous replication is on"),
                row("sync on, switchover to a member not in the sync key -> refused by the leader",
                        me("a").primary(1000).sync(ON, false, 1).ssn("b").walSender("b", "sync", 1000)
                                .walSender("c", "async", 1000).syncSeen("b", 60, 10, "b").peer("b", false, 1000)
                                .peer("c", false, 1000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b", "c").syncKey("a", 0, "b")
                                        .failover("a", "c", null)),
                        Action.ClearFailoverKey.class, "clearing the failover key because no member can take over: 'c' is not"
                                + " a synchronous standby (synchronous_mode is on)"),
                row("quorum, switchover whose leader died before handing over: the candidate still needs a quorum",
                        me("b").replica(1000).sync(QUORUM, false, 1)
                                .peer(io.pgkeel.common.peer.PeerStatus.unreachable("c"))
                                .cluster(c -> c.members("b", "c").syncKey("a", 1, "b", "c").failover("a", "b", null)),
                        Action.Wait.class, "not promoting: only 1 of the sync key's members (leader and voters 'a',"
                                + " 'b', 'c') are known not to be ahead of me, quorum 1 needs 2"),
                row("quorum, switchover whose leader died: a voter not ahead of the candidate makes the quorum",
                        me("b").replica(1000).sync(QUORUM, false, 1).peer("c", false, 1000).received("c", 1000)
                                .cluster(c -> c.members("b", "c").syncKey("a", 1, "b", "c").failover("a", "b", null)),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("quorum, switchover handed over (the sync key names the candidate its leader) -> promote at once",
                        me("b").replica(1000).sync(QUORUM, false, 1)
                                .cluster(c -> c.members("b", "c").syncKey("b", 1, "a", "c").failover("a", "b", null)),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("quorum, the sync key names me its leader; a peer ahead only by WAL past our timeline's end -> promote",
                        me("b").replica(900).timeline(1).sync(QUORUM, false, 1)
                                .peer(new io.pgkeel.common.peer.PeerStatus("d", true, true, true, 5000, 1, false, 1,
                                        "streaming"))
                                .cluster(c -> c.members("b", "c", "d").syncKey("b", 1, "a", "c").timelineEnded(1, 900)),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("sync on, a switchover's candidate the sync key does not name, leader gone -> not waited for",
                        me("b").replica(1000).sync(ON, false, 1).peer("c", false, 1000)
                                .cluster(c -> c.members("b", "c").syncKey("a", 0, "b").failover("a", "c", null)),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("sync on, a switchover's candidate the sync key names, leader gone -> waited for",
                        me("c").replica(1000).sync(ON, false, 1).peer("b", false, 1000)
                                .cluster(c -> c.members("b", "c").syncKey("a", 0, "b", "c").failover("a", "b", null)),
                        Action.Wait.class, "following a different leader because i am not the healthiest node: the"
                                + " failover key names 'b' as the candidate"),
                row("quorum, a switchover's candidate short of a quorum, leader gone -> not waited for",
                        me("b").replica(2000).sync(QUORUM, false, 1).peer("c", false, 1000).peer("d", false, 1500)
                                .received("d", 1500).cluster(c -> c.members("b", "c", "d").syncKey("a", 1, "b", "d").failover("a", "c", null)),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("quorum, switchover to a member the sync key does not name -> refused by the leader",
                        me("a").primary(1000).sync(QUORUM, false, 1).ssn("ANY 1 (b)").walSender("b", "quorum", 1000)
                                .walSender("c", "async", 1000).syncSeen("ANY 1 (b)", 60, 10, "ANY 1 (b)")
                                .peer("b", false, 1000).peer("c", false, 1000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").memberTagged("c",
                                        Map.of("nosync", true)).syncKey("a", 0, "b").failover("a", "c", null)),
                        Action.ClearFailoverKey.class, "clearing the failover key because no member can take over: 'c'"
                                + " is not a quorum standby (synchronous_mode is quorum)"),
                row("sync on, a sync key left empty ({} or garbage) names nobody -> not promoting",
                        me("b").replica(1000).sync(ON, false, 1)
                                .cluster(c -> c.members("b", "c").syncKey("", 0)),
                        Action.Wait.class, "not promoting: sync mode is on and I am not in the sync key"),
                row("sync on, the leader finds an empty sync key -> rewrites it on its revision",
                        me("a").primary(1000).sync(ON, false, 1).ssn("b").walSender("b", "sync", 1000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").syncKey("", 0)),
                        Action.WriteSyncKey.class,
                        "the sync key names leader '', not me: rewriting it with no synchronous standby"),
                row("sync on, manual failover (no leader) naming an async member -> the operator's choice is carried out",
                        me("c").replica(1000).sync(ON, false, 1)
                                .cluster(c -> c.members("b", "c").syncKey("a", 0, "b").failover(null, "c", null)),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"));
    }

    @Test
    void beforePromotionOnModeNamesOnlyMeAndCommitsStopWaitingForTheGoneLeader() {
        Observation o = me("b").replica(1000).sync(ON, false, 1)
                .cluster(c -> c.members("b", "c").syncKey("a", 0, "b")).observation();
        assertThat(SyncPolicy.beforePromote(o, o.dcs().cluster()))
                .isEqualTo(new Action.SyncBeforePromote(Set.of(), 0, "", 33));
    }

    @Test
    void beforePromotionStrictKeepsTheFormerLeaderAndVotersSynchronous() {
        Observation o = me("b").replica(1000).sync(ON, true, 1)
                .cluster(c -> c.members("b", "c").syncKey("a", 0, "b", "c")).observation();
        assertThat(SyncPolicy.beforePromote(o, o.dcs().cluster()))
                .isEqualTo(new Action.SyncBeforePromote(Set.of("a", "c"), 0, "FIRST 2 (a,c)", 33));
    }

    @Test
    void beforePromotionQuorumKeepsTheQuorumAndWaitsForEnoughOfTheOthers() {
        Observation voter = me("b").replica(1000).sync(QUORUM, false, 1)
                .cluster(c -> c.members("b", "c").syncKey("a", 1, "b", "c")).observation();
        assertThat(SyncPolicy.beforePromote(voter, voter.dcs().cluster()))
                .isEqualTo(new Action.SyncBeforePromote(Set.of("a", "c"), 1, "ANY 1 (a,c)", 33));
        Observation outsider = me("d").replica(1000).sync(QUORUM, false, 1)
                .cluster(c -> c.members("b", "c", "d").syncKey("a", 1, "b", "c")).observation();
        assertThat(SyncPolicy.beforePromote(outsider, outsider.dcs().cluster()))
                .isEqualTo(new Action.SyncBeforePromote(Set.of("a", "b", "c"), 1, "ANY 2 (a,b,c)", 33));
        for (Observation o : new Observation[] {voter, outsider}) {
            Action.SyncBeforePromote p = SyncPolicy.beforePromote(o, o.dcs().cluster());
            assertThat(SyncRules.safe(SyncRules.lower(p.voters()), p.quorum(),
                    SyncRules.Commit.of(p.synchronousStandbyNames()))).isTrue();
        }
    }

    @Test
    void aSwitchoverHandsTheSyncKeyToTheCandidateThatHasTheCheckpoint() {
        Observation o = me("a").handingOver(0.1, 5000, "b").received("b", 5000).sync(QUORUM, false, 1)
                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b", "c").syncKey("a", 1, "b", "c")).observation();
        Action decided = HaPolicy.decide(o);
        assertThat(decided).isInstanceOf(Action.HandOver.class);
        assertThat(((Action.HandOver) decided).syncKey())
                .isEqualTo(new Action.SyncBeforePromote(Set.of("a", "c"), 1, null, 33));
        Observation async = me("a").handingOver(0.1, 5000, "b").received("b", 5000)
                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b", "c")).observation();
        assertThat(((Action.HandOver) HaPolicy.decide(async)).syncKey()).isNull();
    }

    /**
     * review14: a member on an older timeline than the voters, ahead of them by LSN only (its WAL past that timeline's
     * end was abandoned: a former primary back as a standby that cannot stream, use_pg_rewind off), lacks every
     * commit of the newer timeline, acknowledged by the quorum included. A voter that is behind it by LSN but on a newer
     * timeline is not "known not to be ahead": its vote must not let it promote (Patroni avoids it with check_timeline;
     * since divergedBehind the members of the newer timeline race against it, before they deferred to it). The
     * history key proves it diverged, so it is not the healthiest node (HaPolicyTest has the asynchronous rows).
     */
    @Test
    void aMemberOnAnOlderTimelineGetsNoVoteFromVotersOnANewerOne() {
        Scenario diverged = me("d").replica(5000).timeline(1).sync(QUORUM, false, 1)
                .peer(new io.pgkeel.common.peer.PeerStatus("b", true, true, true, 1000, 2, false, 1, "streaming"))
                .peer(new io.pgkeel.common.peer.PeerStatus("c", true, true, true, 1000, 2, false, 1, "streaming"))
                .received("b", 1000).received("c", 1000)
                .cluster(c -> c.members("b", "c", "d").syncKey("a", 1, "b", "c").timelineEnded(1, 900));
        assertThat(HaPolicy.decide(diverged.observation())).isNotInstanceOf(Action.AcquireLeader.class);
    }

    @Test
    void aQuorumSwitchoverCandidateAsksThePeersUnlessTheKeyWasHandedToIt() {
        Observation notHanded = me("b").replica(1000).sync(QUORUM, false, 1)
                .cluster(c -> c.members("b", "c").syncKey("a", 1, "b", "c").failover("a", "b", null)).observation();
        assertThat(HaPolicy.weighsPeersBeforeRacing(notHanded.dcs().cluster(), notHanded.pg(), notHanded.self())).isTrue();
        Observation handed = me("b").replica(1000).sync(QUORUM, false, 1)
                .cluster(c -> c.members("b", "c").syncKey("b", 1, "a", "c").failover("a", "b", null)).observation();
        assertThat(HaPolicy.weighsPeersBeforeRacing(handed.dcs().cluster(), handed.pg(), handed.self())).isFalse();
        Observation on = me("b").replica(1000).sync(ON, false, 1)
                .cluster(c -> c.members("b", "c").syncKey("a", 0, "b").failover("a", "b", null)).observation();
        assertThat(HaPolicy.weighsPeersBeforeRacing(on.dcs().cluster(), on.pg(), on.self())).isFalse();
    }

    @Test
    void aRacingReplicaThatNeedsTheQuorumAsksTheSyncKeysMembersLive() {
        Observation o = me("b").replica(1000).sync(QUORUM, false, 1)
                .cluster(c -> c.members("b", "c").syncKey("a", 1, "b", "c")).observation();
        assertThat(ObservationPlan.receivedLsnToAsk(o.memory(), o.dcs().cluster(), o.pg(), o.self()))
                .containsExactlyInAnyOrder("a", "c");
        Observation on = me("b").replica(1000).sync(ON, false, 1)
                .cluster(c -> c.members("b", "c").syncKey("a", 0, "b")).observation();
        assertThat(ObservationPlan.receivedLsnToAsk(on.memory(), on.dcs().cluster(), on.pg(), on.self()))
                .as("a member of an on-mode sync key needs no votes").isEmpty();
    }

    @Test
    void beforePromotionWithSyncOffOnlyLetsGoOfAnOldValue() {
        Observation o = me("b").replica(1000).cluster(c -> c.members("b")).observation();
        assertThat(SyncPolicy.beforePromote(o, o.dcs().cluster())).isEqualTo(Action.SyncBeforePromote.UNMANAGED);
    }

    @Test
    void theRacingSyncStandbyCarriesItsPrePromotionStep() {
        Observation o = me("b").replica(1000).sync(ON, false, 1)
                .cluster(c -> c.members("b", "c").syncKey("a", 0, "b")).observation();
        Action decided = HaPolicy.decide(o);
        assertThat(decided).isInstanceOf(Action.AcquireLeader.class);
        assertThat(((Action.AcquireLeader) decided).sync()).isEqualTo(new Action.SyncBeforePromote(Set.of(), 0, "", 33));
    }

    /** The invariant itself, against every small state: the closed form agrees with brute force over member sets. */
    @Test
    void safeAgreesWithBruteForceOverEverySmallState() {
        String[] all = {"b", "c", "d", "e"};
        int checked = 0;
        for (int vMask = 0; vMask < 16; vMask++) {
            for (int sMask = 0; sMask < 16; sMask++) {
                Set<String> v = subset(all, vMask);
                Set<String> listed = subset(all, sMask);
                for (int q = 0; q <= Math.max(0, v.size() - 1); q++) {
                    for (int k = 0; k <= listed.size(); k++) {
                        boolean expected = bruteForceSafe(v, q, listed, k);
                        assertThat(SyncRules.safe(v, q, new SyncRules.Commit(listed, k)))
                                .as("voters %s quorum %d, ANY %d %s", v, q, k, listed).isEqualTo(expected);
                        checked++;
                    }
                }
            }
        }
        assertThat(checked).isGreaterThan(500);
    }

    /**
     * Every way a commit can be acknowledged (any {@code k} of {@code listed}, plus the dead leader) against every
     * set of quorum + 1 members of voters + leader a candidate may count as its evidence: each must meet.
     */
    private static boolean bruteForceSafe(Set<String> voters, int quorum, Set<String> listed, int k) {
        if (voters.isEmpty()) {
            return true; // only the former leader may be promoted
        }
        String[] l = listed.toArray(new String[0]);
        String[] v = voters.toArray(new String[0]);
        for (int a = 0; a < (1 << l.length); a++) {
            if (Integer.bitCount(a) != k) {
                continue;
            }
            Set<String> ack = subset(l, a);
            for (int r = 0; r < (1 << v.length); r++) {
                // quorum + 1 voters that are alive (the leader is dead: it cannot answer)
                if (Integer.bitCount(r) == quorum + 1 && java.util.Collections.disjoint(subset(v, r), ack)) {
                    return false;
                }
            }
        }
        return true;
    }

    private static Set<String> subset(String[] names, int mask) {
        Set<String> out = new java.util.TreeSet<>();
        for (int i = 0; i < names.length; i++) {
            if ((mask & (1 << i)) != 0) {
                out.add(names[i]);
            }
        }
        return out;
    }
}

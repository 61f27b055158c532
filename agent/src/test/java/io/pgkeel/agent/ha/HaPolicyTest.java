package io.pgkeel.agent.ha;

import static io.pgkeel.agent.ha.Scenario.MY_LEASE;
import static io.pgkeel.agent.ha.Scenario.OTHER_LEASE;
import static io.pgkeel.agent.ha.Scenario.me;
import static io.pgkeel.common.cluster.SyncMode.QUORUM;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.common.peer.PeerStatus;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** decide, one named row per situation: the action's type and its logged sentence. No mocks, no I/O. */
class HaPolicyTest {
    /** The reason of a member whose WAL went past the end of its timeline 1 (at 900) in the history key, at 5000. */
    private static final String PAST_MY_TIMELINES_END = "following a different leader because i am not the healthiest"
            + " node: my wal position 0/1388 is past the end of my timeline 1 at 0/384 in the history key: promoting"
            + " me would drop what the newer timelines committed";

    static Arguments row(String name, Scenario s, Class<? extends Action> action, String reason) {
        return Arguments.of(Named.of(name, s), action, reason);
    }

    private static final String PAUSE_HOLD_A = "not racing for the leader key: it was vacated while the cluster was"
            + " paused and member 'a', its holder then, has not answered as a running replica or as out of pause (with"
            + " the fence off in pause its PostgreSQL may still take writes); start its agent, or run a failover to a"
            + " candidate once its PostgreSQL is known to be stopped";

    private static final String STREAMS_FROM_A = "not racing for the leader key on the failover key: my WAL receiver"
            + " still streams from member 'a', which held the key while the cluster was paused, so its PostgreSQL still"
            + " runs (with the fence off in pause it may take writes); stop it, or let its agent take the leader key back";

    /** A running standby that answered, on {@code timeline}, at {@code wal}, not streaming from anyone. */
    static PeerStatus standby(String name, long wal, int timeline) {
        return new PeerStatus(name, true, true, true, wal, timeline, false, 1, null);
    }

    /**
     * Soak seed 185401 after its faults: quorum mode (2 of voters a, b, d, e; leader c), a switchover from c to a
     * whose leader key is gone, timeline 1 ended at 3780; a standby at 3796 on {@code candidateTimeline} (1: past
     * the end of its timeline), the others standbys at 3780 on timeline 2, each asked live.
     */
    static Scenario switchoverToAFromC(String me, int candidateTimeline) {
        Scenario s = me(me).replica(3780).timeline(2).sync(QUORUM, false, 2).peer(standby("a", 3796, candidateTimeline));
        for (String other : List.of("b", "c", "d", "e")) {
            if (!other.equals(me)) {
                s.peer(standby(other, 3780, 2)).received(other, 3780);
            }
        }
        return s.cluster(c -> c.members("a", "b", "c", "d", "e").timelineEnded(1, 3780)
                .syncKey("c", 2, "a", "b", "d", "e").failover("c", "a", null));
    }

    static Stream<Arguments> rows() {
        return Stream.of(
                // ---- the lease and the safety rule
                row("primary with a fresh lease and the key -> lead",
                        me("a").primary(1000).cluster(c -> c.leader("a", MY_LEASE).members("a", "b")),
                        Action.LeadAsPrimary.class, "no action. I am (a), the leader with the lock"),
                row("primary whose lease deadline (minus margin) has passed -> demote",
                        me("a").primary(1000).leaseRenewedSecondsAgo(8.5, false)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b")),
                        Action.Demote.class, "demoting self because the leader lease could not be renewed"),
                row("primary, DCS unreachable, lease still safe -> keep writing",
                        me("a").primary(1000).leaseRenewedSecondsAgo(3, false).dcsUnreachable(),
                        Action.Wait.class, "keeping primary while DCS is not accessible because the leader lease is still valid"),
                row("primary, DCS unreachable, lease past its deadline -> demote",
                        me("a").primary(1000).leaseRenewedSecondsAgo(8.01, false).dcsUnreachable(),
                        Action.Demote.class, "demoting self because DCS is not accessible and the leader lease could not be renewed"),
                row("primary, DCS unreachable, never had a lease -> demote",
                        me("a").primary(1000).noLease().dcsUnreachable(),
                        Action.Demote.class, "demoting self because DCS is not accessible and the leader lease could not be renewed"),
                row("primary still starting up, lease lost -> demote",
                        me("a").starting(false).leaseRenewedSecondsAgo(9, false)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b")),
                        Action.Demote.class, "demoting self because the leader lease could not be renewed"),
                // ---- failsafe_mode (issue 13; Patroni 3.0+): the primary asks, the others promise
                row("primary, DCS unreachable, failsafe on, the key names me, lease still safe -> ask every other member",
                        me("a").primary(1000).leaseRenewedSecondsAgo(3, false).failsafeMode().dcsUnreachable()
                                .cluster(c -> c.failsafeKey("a", "b", "c")),
                        Action.FailsafeRound.class, FailsafeRules.ASKING),
                row("primary, DCS unreachable, failsafe on, lease past its deadline, a round confirmed 3 s ago -> keep asking",
                        me("a").primary(1000).leaseRenewedSecondsAgo(9, false).failsafeMode().dcsUnreachable()
                                .failsafeConfirmedSecondsAgo(3).cluster(c -> c.failsafeKey("a", "b", "c")),
                        Action.FailsafeRound.class, "continue to run as a leader because failsafe mode is enabled and"
                                + " all members are accessible"),
                row("primary, DCS unreachable, failsafe on, lease past its deadline, no round confirmed -> demote",
                        me("a").primary(1000).leaseRenewedSecondsAgo(9, false).failsafeMode().dcsUnreachable()
                                .cluster(c -> c.failsafeKey("a", "b", "c")),
                        Action.Demote.class, "demoting self because DCS is not accessible and not every member in the"
                                + " failsafe key confirmed this primary"),
                row("primary, DCS unreachable, failsafe on, lease past, last confirmed round past its deadline too -> demote",
                        me("a").primary(1000).leaseRenewedSecondsAgo(9, false).failsafeMode().dcsUnreachable()
                                .failsafeConfirmedSecondsAgo(8).cluster(c -> c.failsafeKey("a", "b", "c")),
                        Action.Demote.class, "demoting self because DCS is not accessible and not every member in the"
                                + " failsafe key confirmed this primary"),
                row("primary, DCS unreachable, failsafe on, the key does not name me -> the lease rules",
                        me("a").primary(1000).leaseRenewedSecondsAgo(3, false).failsafeMode().dcsUnreachable()
                                .cluster(c -> c.failsafeKey("b", "c")),
                        Action.Wait.class, "keeping primary while DCS is not accessible because the leader lease is still valid"),
                row("primary, DCS unreachable, failsafe off, the key names me -> the lease rules",
                        me("a").primary(1000).leaseRenewedSecondsAgo(9, false).dcsUnreachable()
                                .failsafeConfirmedSecondsAgo(3).cluster(c -> c.failsafeKey("a", "b")),
                        Action.Demote.class, "demoting self because DCS is not accessible and the leader lease could not be renewed"),
                row("primary, DCS unreachable, failsafe on, no key read, one only tried to be written -> the lease rules",
                        me("a").primary(1000).leaseRenewedSecondsAgo(3, false).failsafeMode().dcsUnreachable()
                                .failsafeKeyAttempted("a", "b"),
                        Action.Wait.class, "keeping primary while DCS is not accessible because the leader lease is still valid"),
                row("primary, DCS unreachable, failsafe on, the key names me alone -> a round of nobody",
                        me("a").primary(1000).leaseRenewedSecondsAgo(3, false).failsafeMode().dcsUnreachable()
                                .cluster(c -> c.failsafeKey("a")),
                        Action.FailsafeRound.class, FailsafeRules.ASKING),
                // ---- a pause ended while the key of its leader 'a' was vacant (PausedPolicy.beforeRacingAfterPause)
                row("replica, no leader, the pause's leader 'a' does not answer -> do not race",
                        me("b").replica(1000).pausedLeader("a").peer(PeerStatus.unreachable("a"))
                                .cluster(c -> c.pausedPrimaryKey("a").members("b")),
                        Action.Wait.class, PAUSE_HOLD_A),
                row("replica, no leader, the pause's leader 'a' is not even a member any more -> do not race",
                        me("b").replica(1000).pausedLeader("a").cluster(c -> c.members("b")),
                        Action.Wait.class, PAUSE_HOLD_A),
                row("replica, no leader, 'a' answers as a primary still paused (it did not see the pause end) -> wait",
                        me("b").replica(1000).pausedLeader("a").peer(new PeerStatus("a", true, true, false, 900, 1,
                                        false, 1, null, false, true)).cluster(c -> c.pausedPrimaryKey("a").members("b")),
                        Action.Wait.class, PAUSE_HOLD_A),
                row("replica, no leader, 'a' answers as a paused agent still starting -> wait",
                        me("b").replica(1000).pausedLeader("a").peer(new PeerStatus("a", true, false, true, 0, 0,
                                        false, 0, null, false, true)).cluster(c -> c.pausedPrimaryKey("a").members("b")),
                        Action.Wait.class, PAUSE_HOLD_A),
                row("replica, no leader, 'a' answers as a running replica -> the usual race",
                        me("b").replica(1000).pausedLeader("a").peer("a", false, 900).cluster(c -> c.members("a", "b")),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("replica, no leader, 'a' answers from outside pause as a primary -> the usual rules: still alive",
                        me("b").replica(1000).pausedLeader("a").peer(new PeerStatus("a", true, true, false, 900, 1,
                                        false, 1, null, false, false)).cluster(c -> c.members("a", "b")),
                        Action.Wait.class, "following a different leader because i am not the healthiest node: primary"
                                + " (a) is still alive"),
                row("replica, no leader, 'a' silent over REST, its member key shows a running replica -> race",
                        me("b").replica(1000).pausedLeader("a").peer(PeerStatus.unreachable("a"))
                                .cluster(c -> c.members("a", "b")),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("replica, no leader, 'a' silent over REST, its member key written out of pause after the config"
                                + " key -> race (its agent decides with its fence on)",
                        me("b").replica(1000).pausedLeader("a").peer(PeerStatus.unreachable("a"))
                                .cluster(c -> c.member(new io.pgkeel.common.cluster.Member("a", "postgres://a:5432/postgres",
                                        "http://a:8008/patroni", "running", "primary", 1, 1000, null, Map.of(), 3))
                                        .members("b")),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("replica, no leader, I was the pause's leader -> the usual race",
                        me("b").replica(1000).pausedLeader("b").cluster(c -> c.members("a", "b")),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("replica, no leader, 'a' silent, but a failover key names me (the operator's word) -> race",
                        me("b").replica(1000).pausedLeader("a").cluster(c -> c.members("b").failover(null, "b", null)),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("replica, no leader, 'a' silent, a failover names me, but my WAL receiver streams from 'a'"
                                + " (its agent dead, its PostgreSQL up) -> wait",
                        me("b").replicaFollowing("a", 1000).pausedLeader("a").peer(PeerStatus.unreachable("a"))
                                .cluster(c -> c.members("b").failover(null, "b", null)),
                        Action.Wait.class, STREAMS_FROM_A),
                row("replica, paused, no leader, a failover names me, my WAL receiver streams from 'a' -> wait",
                        me("b").replicaFollowing("a", 1000).paused().pausedLeader("a")
                                .cluster(c -> c.members("b").failover(null, "b", null)),
                        Action.Wait.class, "PAUSE: " + STREAMS_FROM_A),
                row("replica, no leader, a failover names me, I stream from 'a', but 'a' answers as a running replica"
                                + " (demoted by hand to a cascading standby, its agent back) -> race: it takes no writes",
                        me("b").replicaFollowing("a", 1000).pausedLeader("a").peer("a", false, 900)
                                .cluster(c -> c.members("b").failover(null, "b", null)),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("replica, paused, no leader, a failover names me, I stream from 'a', 'a' answers as a running replica"
                                + " -> race",
                        me("b").replicaFollowing("a", 1000).paused().pausedLeader("a").peer("a", false, 900)
                                .cluster(c -> c.members("b").failover(null, "b", null)),
                        Action.AcquireLeader.class, "PAUSE: racing for the leader key to promote self because the failover"
                                + " key names me"),
                row("replica, no leader, a failover names me, I stream from 'c', not from the pause's leader 'a' -> race",
                        me("b").replicaFollowing("c", 1000).pausedLeader("a")
                                .cluster(c -> c.members("b", "c").failover(null, "b", null)),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("replica, no leader, 'a' silent, a switchover from 'a' names me -> wait: 'a' must hand over",
                        me("b").replica(1000).pausedLeader("a").cluster(c -> c.members("b").failover("a", "b", null)),
                        Action.Wait.class, PAUSE_HOLD_A),
                row("replica, paused, no leader, 'a' silent, a switchover from 'a' names me -> wait",
                        me("b").replica(1000).paused().pausedLeader("a")
                                .cluster(c -> c.members("b").failover("a", "b", null)),
                        Action.Wait.class, "PAUSE: " + PAUSE_HOLD_A),
                row("replica, paused, no leader, 'a' silent, a failover names me -> race (the operator's word)",
                        me("b").replica(1000).paused().pausedLeader("a").cluster(c -> c.members("b").failover(null, "b",
                                null)),
                        Action.AcquireLeader.class, "PAUSE: racing for the leader key to promote self because the"
                                + " failover key names me"),
                row("replica, paused, no leader, a switchover from 'a' names me, 'a' answers as a running replica"
                                + " -> race",
                        me("b").replica(1000).paused().pausedLeader("a").peer("a", false, 900)
                                .cluster(c -> c.members("a", "b").failover("a", "b", null)),
                        Action.AcquireLeader.class, "PAUSE: racing for the leader key to promote self because the"
                                + " failover key names me"),
                row("replica, no leader, a failover names me, but 'a' answers as a paused primary (cut from etcd)"
                                + " -> wait",
                        me("b").replica(1000).pausedLeader("a").peer(new PeerStatus("a", true, true, false, 900, 1,
                                        false, 1, null, false, true))
                                .cluster(c -> c.members("b").failover(null, "b", null)),
                        Action.Wait.class, PAUSE_HOLD_A),
                row("replica, paused, no leader, 'a' silent -> the pause rules (no race)",
                        me("b").replica(1000).paused().pausedLeader("a").cluster(c -> c.members("b")),
                        Action.Wait.class, "PAUSE: continue to run as replica without lock"),
                row("replica, no leader, a failsafe promise to 'a' runs -> do not race",
                        me("b").replica(1000).failsafeMode().promisedFailsafeTo("a", 3)
                                .cluster(c -> c.members("b", "c").failsafeKey("a", "b", "c")),
                        Action.Wait.class, "not racing for the leader key: primary 'a' runs in failsafe mode and asked"
                                + " me to keep following it 3 s ago"),
                row("replica, no leader, a failsafe promise to 'a' for its longer ttl (40 s, mine 10) runs -> asked"
                                + " 3 s ago, counted from the ask, not from my ttl",
                        me("b").replica(1000).failsafeMode().promisedFailsafeTo("a", 3, 40)
                                .cluster(c -> c.members("b", "c").failsafeKey("a", "b", "c")),
                        Action.Wait.class, "not racing for the leader key: primary 'a' runs in failsafe mode and asked"
                                + " me to keep following it 3 s ago"),
                row("replica, no leader, the failsafe key does not name me, a member it names is gone -> do not race",
                        me("d").replica(1000).failsafeMode().peer("b", false, 900)
                                .cluster(c -> c.members("b", "d").failsafeKey("a", "b", "c")),
                        Action.Wait.class, "not racing for the leader key: the failsafe key does not name me and"
                                + " member 'a' it names did not answer as a replica"),
                row("replica, no leader, the failsafe key does not name me, a member it names is a primary -> do not race",
                        me("d").replica(1000).failsafeMode().peer("a", true, 900).peer("b", false, 900)
                                .cluster(c -> c.members("a", "b", "d").failsafeKey("a", "b")),
                        Action.Wait.class, "not racing for the leader key: the failsafe key does not name me and"
                                + " member 'a' it names did not answer as a replica"),
                row("replica, no leader, failsafe off but the key is left and does not name me -> do not race",
                        me("d").replica(1000).cluster(c -> c.members("b", "d").failsafeKey("a", "b", "c")),
                        Action.Wait.class, "not racing for the leader key: the failsafe key does not name me and"
                                + " member 'a' it names did not answer as a replica"),
                row("replica, no leader, the failsafe key does not name me, a member it names answered as still"
                                + " starting (HTTP 200, state starting) -> do not race",
                        me("d").replica(1000).failsafeMode().peer(new PeerStatus("a", true, false, true, 0, 0, false, 0,
                                        null)).peer("b", false, 900)
                                .cluster(c -> c.members("a", "b", "d").failsafeKey("a", "b")),
                        Action.Wait.class, "not racing for the leader key: the failsafe key does not name me and"
                                + " member 'a' it names did not answer as a replica"),
                row("replica, no leader, the failsafe key does not name me, a member it names answered with"
                                + " PostgreSQL stopped -> do not race",
                        me("d").replica(1000).failsafeMode().peer(new PeerStatus("a", true, false, true, 900, 1, false,
                                        0, null)).peer("b", false, 900)
                                .cluster(c -> c.members("a", "b", "d").failsafeKey("a", "b")),
                        Action.Wait.class, "not racing for the leader key: the failsafe key does not name me and"
                                + " member 'a' it names did not answer as a replica"),
                row("replica, no leader, the failsafe key does not name me, every member it names answered as a"
                                + " replica -> race (else the key would stop every failover for good)",
                        me("d").replica(1000).failsafeMode().peer("a", false, 900).peer("b", false, 900)
                                .cluster(c -> c.members("a", "b", "d").failsafeKey("a", "b")),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("replica, no leader, the failsafe key names me, agent started 5 s ago -> do not race yet",
                        me("b").replica(1000).failsafeMode().agentStartedSecondsAgo(5)
                                .cluster(c -> c.members("b").failsafeKey("a", "b")),
                        Action.Wait.class, "not racing for the leader key within ttl of starting: a failsafe promise"
                                + " given before a restart may still run"),
                row("replica, no leader, failsafe on, no key, agent started 5 s ago -> do not race yet",
                        me("b").replica(1000).failsafeMode().agentStartedSecondsAgo(5).cluster(c -> c.members("b")),
                        Action.Wait.class, "not racing for the leader key within ttl of starting: a failsafe promise"
                                + " given before a restart may still run"),
                row("replica, no leader, the failsafe key names me, agent started 11 s ago, no promise -> race",
                        me("b").replica(1000).failsafeMode().agentStartedSecondsAgo(11)
                                .cluster(c -> c.members("b").failsafeKey("a", "b")),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("I hold the key, standby, a failsafe promise to 'a' runs -> never promote",
                        me("b").replica(1000).failsafeMode().promisedFailsafeTo("a", 4)
                                .cluster(c -> c.leader("b", MY_LEASE).members("a", "b").failsafeKey("a", "b")),
                        Action.Wait.class, "not promoting self although I hold the leader key: a failsafe promise to"
                                + " primary 'a' runs for 6 more s"),
                row("no leader, running primary seeing the DCS again after failsafe -> take the key back",
                        me("a").primary(1000).failsafeMode().failsafeConfirmedSecondsAgo(1)
                                .cluster(c -> c.members("a", "b").failsafeKey("a", "b")),
                        Action.AcquireLeader.class, "acquiring the leader key as the running primary"),
                row("replica, DCS unreachable -> wait, never promote",
                        me("b").replica(1000).dcsUnreachable(),
                        Action.Wait.class, "DCS is not accessible"),
                row("stopped, DCS unreachable -> start read-only",
                        me("b").stopped(false).dcsUnreachable(),
                        Action.StartPostgres.class, "starting as a read-only replica because DCS is not accessible"),

                // ---- someone else holds the key
                row("primary sees another node holding the key -> demote",
                        me("a").primary(1000).cluster(c -> c.leader("b", OTHER_LEASE).members("a", "b")),
                        Action.Demote.class, "demoting self because I do not have the lock and I was a leader"),
                row("replica following the leader -> nothing to do",
                        me("b").replicaFollowing("a", 1000).cluster(c -> c.leader("a", OTHER_LEASE).members("a", "b")),
                        Action.Wait.class, "no action. I am (b), a secondary, and following a leader (a)"),
                row("replica still holding the slots it made as primary, and a permanent one -> drop them (not an operator's)",
                        me("b").replicaFollowing("a", 1000).slots("a", "c", "dr", "barman").permanentSlots("dr")
                                .sawMemberSlot("c", 60).cluster(c -> c.leader("a", OTHER_LEASE).members("a", "b")),
                        Action.DropReplicaSlots.class,
                        "dropping replication slots a, c, dr on this replica: kept from when it was primary, they would hold back its WAL"),
                row("replica holding only an operator's slot -> nothing to do",
                        me("b").replicaFollowing("a", 1000).slots("barman")
                                .cluster(c -> c.leader("a", OTHER_LEASE).members("a", "b")),
                        Action.Wait.class, "no action. I am (b), a secondary, and following a leader (a)"),
                row("paused replica holding the cluster's slots -> left alone",
                        me("b").replicaFollowing("a", 1000).slots("a").paused()
                                .cluster(c -> c.leader("a", OTHER_LEASE).members("a", "b")),
                        Action.Wait.class, "PAUSE: no action. I am (b), a secondary, and following a leader (a)"),
                row("replica following an old leader -> re-point",
                        me("c").replicaFollowing("a", 1000).cluster(c -> c.leader("b", OTHER_LEASE).members("a", "b", "c")),
                        Action.Follow.class, "following new leader 'b'"),
                row("replica, leader has no member key yet -> wait for its address",
                        me("c").replicaFollowing("a", 1000).cluster(c -> c.leader("b", OTHER_LEASE).members("a", "c")),
                        Action.Wait.class, "waiting for leader 'b' to publish its address"),
                row("replica that cannot stream from its leader for a whole ttl -> rewind",
                        me("c").replicaFollowing("a", 1000).notStreamingFor(10)
                                .cluster(c -> c.leader("a", OTHER_LEASE).members("a", "c")),
                        Action.Rewind.class, "rewinding from leader 'a' because this replica could not stream from it for a whole ttl"),
                row("replica not streaming for a moment -> wait",
                        me("c").replicaFollowing("a", 1000).notStreamingFor(3)
                                .cluster(c -> c.leader("a", OTHER_LEASE).members("a", "c")),
                        Action.Wait.class, "no action. I am (c), a secondary, and following a leader (a)"),
                row("replica that cannot stream, rewind disabled -> say what to do",
                        me("c").replicaFollowing("a", 1000).notStreamingFor(30).noRewind()
                                .cluster(c -> c.leader("a", OTHER_LEASE).members("a", "c")),
                        Action.Wait.class, "this replica cannot stream from leader 'a'; enable use_pg_rewind or reinitialize it"),
                row("former primary running as a standby -> rewind before following",
                        me("a").formerPrimaryRunningAsReplica(1000)
                                .cluster(c -> c.leader("b", OTHER_LEASE).members("a", "b")),
                        Action.Rewind.class, "rewinding from leader 'b' because this node ran as a primary since it last followed one"),

                // ---- the config key's postgresql.parameters
                row("running replica, config key parameters changed -> rewrite postgresql.conf and reload",
                        me("b").replicaFollowing("a", 1000).configParameters("work_mem=16MB")
                                .cluster(c -> c.leader("a", OTHER_LEASE).members("a", "b")),
                        Action.ApplyParameters.class, "postgresql.parameters changed in the config key: rewriting postgresql.conf and reloading"),
                row("leader, agent just started (or re-read its YAML) with postgres running -> rewrite postgresql.conf once",
                        me("a").primary(1000).postgresqlConfWrittenWith((String) null)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b")),
                        Action.ApplyParameters.class, "writing postgresql.conf and pg_hba.conf for the configuration in force and reloading: not written"
                                + " since the agent started or re-read its configuration, or the config key's pg_hba changed"),
                row("a restart requested in the cycle that would rewrite postgresql.conf -> the request first",
                        me("b").replicaFollowing("a", 1000).configParameters("work_mem=16MB")
                                .request(new OperatorRequest.Restart(null))
                                .cluster(c -> c.leader("a", OTHER_LEASE).members("a", "b")),
                        Action.Restart.class, "restarting postgres as requested"),
                row("parameters as written -> nothing to apply",
                        me("b").replicaFollowing("a", 1000).configParameters("work_mem=16MB")
                                .postgresqlConfWrittenWith("work_mem=16MB")
                                .cluster(c -> c.leader("a", OTHER_LEASE).members("a", "b")),
                        Action.Wait.class, "no action. I am (b), a secondary, and following a leader (a)"),
                row("parameters changed while paused -> applied (the operator changed them on purpose)",
                        me("b").replicaFollowing("a", 1000).paused().configParameters("work_mem=16MB")
                                .cluster(c -> c.leader("a", OTHER_LEASE).members("a", "b")),
                        Action.ApplyParameters.class, "postgresql.parameters changed in the config key: rewriting postgresql.conf and reloading"),
                row("parameters changed, but the primary must demote first -> demote",
                        me("a").primary(1000).configParameters("work_mem=16MB")
                                .cluster(c -> c.leader("b", OTHER_LEASE).members("a", "b")),
                        Action.Demote.class, "demoting self because I do not have the lock and I was a leader"),
                row("parameters changed, postgres stopped -> start it (written at start)",
                        me("c").stopped(false).configParameters("work_mem=16MB")
                                .cluster(c -> c.leader("b", OTHER_LEASE).members("b", "c")),
                        Action.StartPostgres.class, "starting as a replica of leader 'b'"),

                // ---- postgres not running
                row("stopped primary that still holds the key -> restart in place",
                        me("a").stopped(true).cluster(c -> c.leader("a", MY_LEASE).members("a", "b")),
                        Action.StartPostgres.class, "starting primary after failure"),
                row("leader whose postgres has not run for primary_start_timeout, a healthy replica -> release the key",
                        me("a").stopped(true).primaryDownFor(301).cluster(c -> c.leader("a", MY_LEASE).members("a", "b")),
                        Action.ReleaseLeader.class, "releasing the leader key because postgres has not run as primary"
                                + " for 301 s (primary_start_timeout 300 s) and member 'b' can take over"),
                row("leader whose postgres is down, primary_start_timeout not reached -> start it again",
                        me("a").stopped(true).primaryDownFor(299).cluster(c -> c.leader("a", MY_LEASE).members("a", "b")),
                        Action.StartPostgres.class, "starting primary after failure"),
                row("primary_start_timeout 0 (Patroni: fail over at once after a crash) -> release the key",
                        me("a").stopped(true).primaryDownFor(0).primaryStartTimeout(0)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b")),
                        Action.ReleaseLeader.class, "releasing the leader key because postgres has not run as primary"
                                + " for 0 s (primary_start_timeout 0 s) and member 'b' can take over"),
                row("primary_start_timeout passed, the only replica's WAL went past the end of its timeline -> keep trying",
                        me("a").stopped(true).timeline(2).primaryDownFor(400).cluster(c -> c.leader("a", MY_LEASE)
                                .timelineEnded(1, 900).member(new io.pgkeel.common.cluster.Member("d", "postgres://d",
                                        "http://d", "running", "replica", 1, 5000, "streaming", java.util.Map.of(), 1))),
                        Action.StartPostgres.class, "starting primary after failure"),
                row("primary_start_timeout passed but nobody can take over (nofailover, stopped, lagging) -> keep trying",
                        me("a").stopped(true).primaryDownFor(400).cluster(c -> c.leader("a", MY_LEASE).lastLeaderLsn(9_000_000)
                                .member(new io.pgkeel.common.cluster.Member("b", "postgres://b", "http://b", "running",
                                        "replica", 1, 8_999_000, "streaming", java.util.Map.of("nofailover", true), 1))
                                .member(new io.pgkeel.common.cluster.Member("c", "postgres://c", "http://c", "stopped",
                                        "replica", 1, 8_999_000, null, java.util.Map.of(), 1))
                                .member(new io.pgkeel.common.cluster.Member("d", "postgres://d", "http://d", "running",
                                        "replica", 1, 1000, "streaming", java.util.Map.of(), 1)).members("a")),
                        Action.StartPostgres.class, "starting primary after failure"),
                row("leader's postgres still starting (crash recovery) after primary_start_timeout -> stop it, release",
                        me("a").starting(false).primaryDownFor(305).cluster(c -> c.leader("a", MY_LEASE).members("a", "b")),
                        Action.Demote.class, "stopping postgres and releasing the leader key because postgres has not"
                                + " run as primary for 305 s (primary_start_timeout 300 s) and member 'b' can take over"),
                row("switchover abandoned (primary_start_timeout 0) -> start as primary again, keep the key",
                        me("a").abandonedHandover().primaryStartTimeout(0).cluster(c -> c.leader("a", MY_LEASE).members("a", "b")),
                        Action.StartPostgres.class, "starting primary after failure"),
                row("stopped, holds the key but its lease is past the deadline -> do not start as primary",
                        me("a").stopped(true).leaseRenewedSecondsAgo(9, false)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b")),
                        Action.Wait.class, "not starting as primary because the leader lease could not be renewed"),
                row("stopped former primary, another leader -> rewind",
                        me("a").stopped(true).cluster(c -> c.leader("b", OTHER_LEASE).members("a", "b")),
                        Action.Rewind.class, "rewinding from leader 'b' because this node was a primary"),
                row("stopped former primary, rewind disabled -> start as replica",
                        me("a").stopped(true).noRewind().cluster(c -> c.leader("b", OTHER_LEASE).members("a", "b")),
                        Action.StartPostgres.class, "starting as a replica of leader 'b'"),
                row("stopped replica, a leader exists -> start following it",
                        me("c").stopped(false).cluster(c -> c.leader("b", OTHER_LEASE).members("b", "c")),
                        Action.StartPostgres.class, "starting as a replica of leader 'b'"),
                row("stopped, no leader -> start read-only to take part in the race",
                        me("c").stopped(true).cluster(c -> c.members("b", "c")),
                        Action.StartPostgres.class, "starting as a read-only replica because there is no leader"),
                row("stopped replica that failed to start twice (diverged) -> rewind",
                        me("c").stopped(false).failedReplicaStarts(2).cluster(c -> c.leader("b", OTHER_LEASE).members("b", "c")),
                        Action.Rewind.class, "rewinding from leader 'b' because postgres failed to start as a replica 2 times in a row"),
                row("stopped replica that failed to start once -> try again",
                        me("c").stopped(false).failedReplicaStarts(1).cluster(c -> c.leader("b", OTHER_LEASE).members("b", "c")),
                        Action.StartPostgres.class, "starting as a replica of leader 'b'"),
                row("postgres starting -> wait",
                        me("c").starting(true).cluster(c -> c.leader("b", OTHER_LEASE).members("b", "c")),
                        Action.Wait.class, "waiting for postgres to start"),
                row("key names me on an older lease of mine -> move it onto my lease",
                        me("a").primary(1000).cluster(c -> c.leader("a", OTHER_LEASE).members("a", "b")),
                        Action.ReattachLeader.class, "moving the leader key onto my current lease"),

                // ---- the leader race
                row("no leader, healthiest replica -> race",
                        me("b").replica(1000).peer("c", false, 900).cluster(c -> c.members("b", "c")),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("no leader, equal WAL, same priority -> both race (the CAS picks one)",
                        me("b").replica(1000).peer("c", false, 1000).cluster(c -> c.members("b", "c")),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("no leader, a peer is ahead -> do not race",
                        me("b").replica(900).peer("c", false, 1000).cluster(c -> c.members("b", "c")),
                        Action.Wait.class, "following a different leader because i am not the healthiest node: member c is ahead of me"),
                row("no leader, a peer ahead by LSN on an older timeline (diverged past my fork) -> race",
                        me("b").replica(900).timeline(2).peer(new PeerStatus("a", true, true, true, 1000, 1, false, 1,
                                "streaming")).cluster(c -> c.members("a", "b")),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("no leader, a peer ahead on a newer timeline -> do not race",
                        me("b").replica(900).peer(new PeerStatus("c", true, true, true, 1000, 2, false, 1, "streaming"))
                                .cluster(c -> c.members("b", "c")),
                        Action.Wait.class, "following a different leader because i am not the healthiest node: member c is ahead of me"),
                row("no leader, my WAL past the end of my timeline in the history key (former primary, no rewind) -> do not race",
                        me("d").replica(5000).timeline(1).peer(new PeerStatus("b", true, true, true, 1000, 2, false, 1,
                                "streaming")).cluster(c -> c.members("b", "d").timelineEnded(1, 900)),
                        Action.Wait.class, PAST_MY_TIMELINES_END),
                row("no leader, my WAL past my timeline's end and no other member answers -> still do not race",
                        me("d").replica(5000).timeline(1).peer(PeerStatus.unreachable("b"))
                                .cluster(c -> c.members("b", "d").timelineEnded(1, 900)),
                        Action.Wait.class, PAST_MY_TIMELINES_END),
                row("no leader, my WAL exactly at my timeline's end (nothing abandoned) -> race",
                        me("d").replica(900).timeline(1).peer(PeerStatus.unreachable("b"))
                                .cluster(c -> c.members("b", "d").timelineEnded(1, 900)),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("no leader, my WAL past the end of a timeline that is not mine -> race",
                        me("b").replica(5000).timeline(2).peer(PeerStatus.unreachable("d"))
                                .cluster(c -> c.members("b", "d").timelineEnded(1, 900)),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("no leader, a peer on my (older) timeline ahead by LSN only because its WAL went past that timeline's end -> race",
                        me("c").replica(800).timeline(1).peer(new PeerStatus("d", true, true, true, 5000, 1, false, 1,
                                "streaming")).cluster(c -> c.members("c", "d").timelineEnded(1, 900)),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("no leader, a peer on my timeline ahead of me, within its end -> do not race",
                        me("c").replica(800).timeline(1).peer(new PeerStatus("d", true, true, true, 900, 1, false, 1,
                                "streaming")).cluster(c -> c.members("c", "d").timelineEnded(1, 900)),
                        Action.Wait.class, "following a different leader because i am not the healthiest node: member d is ahead of me"),
                row("no leader, equal WAL but peer has higher failover_priority -> do not race",
                        me("b").replica(1000).peer(new PeerStatus("c", true, true, true, 1000, 1, false, 5, "streaming"))
                                .cluster(c -> c.members("b", "c")),
                        Action.Wait.class, "following a different leader because i am not the healthiest node: member c has a higher failover priority"),
                row("no leader, the old primary still answers as primary -> do not race",
                        me("b").replica(1000).peer("a", true, 1200).cluster(c -> c.members("a", "b")),
                        Action.Wait.class, "following a different leader because i am not the healthiest node: primary (a) is still alive"),
                row("no leader, ahead peer is nofailover -> race anyway",
                        me("b").replica(900).peer(new PeerStatus("c", true, true, true, 1000, 1, true, 1, "streaming"))
                                .cluster(c -> c.members("b", "c")),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("no leader, unreachable peer is ignored",
                        me("b").replica(900).peer(PeerStatus.unreachable("c")).cluster(c -> c.members("b", "c")),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("no leader, too far behind the last leader position -> do not race",
                        me("b").replica(1000).cluster(c -> c.members("b").lastLeaderLsn(1000 + 1_048_577)),
                        Action.Wait.class, "following a different leader because i am not the healthiest node: my wal position exceeds maximum replication lag"),
                row("no leader, tagged nofailover -> never race",
                        me("b").replica(1000).tag("nofailover", true).cluster(c -> c.members("b")),
                        Action.Wait.class, "following a different leader because i am not the healthiest node: this member is tagged nofailover"),
                row("no leader, failover_priority 0 -> never race",
                        me("b").replica(1000).tag("failover_priority", 0).cluster(c -> c.members("b")),
                        Action.Wait.class, "following a different leader because i am not the healthiest node: this member is tagged nofailover"),
                row("no leader, healthiest replica, failsafe_mode on (issue 13), no failsafe key -> race",
                        me("b").replica(1000).peer("c", false, 900).configKey("failsafe_mode", true)
                                .cluster(c -> c.members("b", "c")),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("no leader, healthiest replica, a standby_cluster in the config key -> never promote self",
                        me("b").replica(1000).configKey("standby_cluster", Map.of("host", "10.0.0.9"))
                                .cluster(c -> c.members("b")),
                        Action.Wait.class, "not racing for the leader key to promote self: the DCS config key asks for"
                                + " what pgkeel cannot honour yet: config.standby_cluster = {host=10.0.0.9}: standby"
                                + " clusters are not implemented yet: pgkeel would run a primary of its own instead of"
                                + " following the remote one; pgkeel will not run without it (remove the key or switch it"
                                + " off)"),
                row("I hold the key, standby (a standby leader of a standby cluster), standby_cluster in the key -> no promotion",
                        me("b").replica(1000).configKey("standby_cluster", Map.of("host", "10.0.0.9"))
                                .cluster(c -> c.leader("b", MY_LEASE).members("a", "b")),
                        Action.Wait.class, "not promoting self although I hold the leader key: the DCS config key asks"
                                + " for what pgkeel cannot honour yet: config.standby_cluster = {host=10.0.0.9}: standby"
                                + " clusters are not implemented yet: pgkeel would run a primary of its own instead of"
                                + " following the remote one; pgkeel will not run without it (remove the key or switch it"
                                + " off)"),
                row("I hold the key, stopped standby, standby_cluster in the key -> not started as primary",
                        me("b").stopped(false).configKey("standby_cluster", Map.of("host", "10.0.0.9"))
                                .cluster(c -> c.leader("b", MY_LEASE).members("a", "b")),
                        Action.Wait.class, "not starting as primary although I hold the leader key: the DCS config key"
                                + " asks for what pgkeel cannot honour yet: config.standby_cluster = {host=10.0.0.9}: standby"
                                + " clusters are not implemented yet: pgkeel would run a primary of its own instead of"
                                + " following the remote one; pgkeel will not run without it (remove the key or switch it"
                                + " off)"),
                row("I hold the key, stopped former primary, standby_cluster in the key -> the leader keeps leading",
                        me("a").stopped(true).configKey("standby_cluster", Map.of("host", "10.0.0.9"))
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b")),
                        Action.StartPostgres.class, "starting primary after failure"),
                row("leader, a switchover requested, standby_cluster in the key -> refused (the candidate could not promote)",
                        me("a").primary(1000).peer("b", false, 1000).configKey("standby_cluster", Map.of("host", "10.0.0.9"))
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").failover("a", "b", null)),
                        Action.ClearFailoverKey.class, "clearing the failover key because no standby may become primary"
                                + " while the DCS config key asks for what pgkeel cannot honour yet: config.standby_cluster = {host=10.0.0.9}: standby"
                                + " clusters are not implemented yet: pgkeel would run a primary of its own instead of"
                                + " following the remote one; pgkeel will not run without it (remove the key or switch it"
                                + " off)"),
                row("pause, the failover key names me, standby_cluster in the key -> no promotion",
                        me("b").paused().replica(1000).configKey("standby_cluster", Map.of("host", "10.0.0.9"))
                                .cluster(c -> c.members("b").failover(null, "b", null)),
                        Action.Wait.class, "PAUSE: not racing for the leader key to promote self: the DCS config key"
                                + " asks for what pgkeel cannot honour yet: config.standby_cluster = {host=10.0.0.9}: standby"
                                + " clusters are not implemented yet: pgkeel would run a primary of its own instead of"
                                + " following the remote one; pgkeel will not run without it (remove the key or switch it"
                                + " off)"),
                row("no leader, healthiest replica, failsafe_mode off -> race",
                        me("b").replica(1000).configKey("failsafe_mode", "off").cluster(c -> c.members("b")),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("no leader, running primary, failsafe_mode on -> take the key back, no promotion",
                        me("a").primary(1000).configKey("failsafe_mode", true).cluster(c -> c.members("a", "b")),
                        Action.AcquireLeader.class, "acquiring the leader key as the running primary"),
                row("no leader, replica without a lease -> do not race",
                        me("b").replica(1000).noLease().cluster(c -> c.members("b")),
                        Action.Wait.class, "not racing for the leader key because I hold no lease"),
                row("no leader, running primary (key deleted by hand) -> take the key back, no promotion",
                        me("a").primary(1000).cluster(c -> c.members("a", "b")),
                        Action.AcquireLeader.class, "acquiring the leader key as the running primary"),
                row("no leader, primary on an older timeline than a member -> demote",
                        me("a").primary(1000).timeline(1).cluster(c -> c.member(new io.pgkeel.common.cluster.Member("b",
                                "postgres://b:5432/postgres", "http://b:8008/patroni", "running", "primary", 2, 2000, null,
                                java.util.Map.of(), 1))),
                        Action.Demote.class, "demoting self because member 'b' is on a newer timeline than mine"),
                row("I hold the key on my lease but run as a standby -> promote",
                        me("b").replica(1000).cluster(c -> c.leader("b", MY_LEASE).members("a", "b")),
                        Action.Promote.class, "promoting self because I hold the leader key"),
                row("I hold the key, standby, lease past its deadline -> do not promote",
                        me("b").replica(1000).leaseRenewedSecondsAgo(9, false)
                                .cluster(c -> c.leader("b", MY_LEASE).members("a", "b")),
                        Action.Wait.class, "not promoting because the leader lease could not be renewed"),

                // ---- bootstrap, and data directories that cannot be used
                row("pg_rewind failed (Patroni's default) -> keep the data directory, stay stopped, say what to do",
                        me("a").stopped(true).rewindFailedFrom("b").cluster(c -> c.leader("b", OTHER_LEASE).members("a", "b")),
                        Action.Wait.class, "not starting postgres: pg_rewind from 'b' failed and"
                                + " remove_data_directory_on_rewind_failure is off, so the data directory is kept;"
                                + " reinitialize this member (pgkeel ctl reinit) to clone it anew"),
                row("pg_rewind failed, etcd unreachable since -> keep it, never start it as it is",
                        me("a").stopped(true).rewindFailedFrom("b").dcsUnreachable(),
                        Action.Wait.class, "not starting postgres: pg_rewind from 'b' failed and"
                                + " remove_data_directory_on_rewind_failure is off, so the data directory is kept;"
                                + " reinitialize this member (pgkeel ctl reinit) to clone it anew"),
                row("pg_rewind from b failed, c leads now -> pg_rewind from c",
                        me("a").stopped(true).rewindFailedFrom("b").cluster(c -> c.leader("c", OTHER_LEASE).members("a", "c")),
                        Action.Rewind.class, "rewinding from leader 'c' because this node was a primary"),
                row("pg_rewind failed, remove_data_directory_on_rewind_failure -> remove it (the next cycle clones)",
                        me("a").stopped(true).rewindFailedFrom("b").removeDataDirectoryOnRewindFailure()
                                .cluster(c -> c.leader("b", OTHER_LEASE).members("a", "b")),
                        Action.RemoveDataDirectory.class, "removing the data directory to clone it anew: pg_rewind from"
                                + " 'b' failed and remove_data_directory_on_rewind_failure is on"),
                row("pg_rewind failed, remove_data_directory_on_diverged_timelines -> remove it too (Patroni: either switch)",
                        me("a").stopped(true).rewindFailedFrom("b").removeDataDirectoryOnDivergedTimelines()
                                .cluster(c -> c.leader("b", OTHER_LEASE).members("a", "b")),
                        Action.RemoveDataDirectory.class, "removing the data directory to clone it anew: pg_rewind from"
                                + " 'b' failed and remove_data_directory_on_diverged_timelines is on"),
                row("pg_rewind failed, remove_data_directory_on_rewind_failure, etcd unreachable -> remove it all the same",
                        me("a").stopped(true).rewindFailedFrom("b").removeDataDirectoryOnRewindFailure().dcsUnreachable(),
                        Action.RemoveDataDirectory.class, "removing the data directory to clone it anew: pg_rewind from"
                                + " 'b' failed and remove_data_directory_on_rewind_failure is on"),
                row("replica failed to start twice, no pg_rewind, removal allowed, but a stopped node proves no divergence -> keep it",
                        me("c").stopped(false).failedReplicaStarts(2).noRewind().removeDataDirectoryOnDivergedTimelines()
                                .cluster(c -> c.leader("b", OTHER_LEASE).members("b", "c").timelineEnded(1, 500)),
                        Action.StartPostgres.class, "starting as a replica of leader 'b'"),
                row("replica failed to start twice, no pg_rewind, no removal allowed -> keep trying to start it",
                        me("c").stopped(false).failedReplicaStarts(2).noRewind()
                                .cluster(c -> c.leader("b", OTHER_LEASE).members("b", "c")),
                        Action.StartPostgres.class, "starting as a replica of leader 'b'"),
                row("replica past the end of its timeline in the history key, no pg_rewind, removal allowed -> reinitialize",
                        me("c").replicaFollowing("b", 500).notStreamingFor(11).noRewind()
                                .removeDataDirectoryOnDivergedTimelines()
                                .cluster(c -> c.leader("b", OTHER_LEASE).members("b", "c").timelineEnded(1, 400)),
                        Action.Reinitialize.class, "reinitializing due to diverged timelines: this replica could not"
                                + " stream from leader 'b' for a whole ttl, use_pg_rewind is off and"
                                + " remove_data_directory_on_diverged_timelines is on"),
                row("replica not streaming for a ttl, removal allowed, but not past its timeline's end (pg_hba, network?) -> keep",
                        me("c").replicaFollowing("b", 500).notStreamingFor(11).noRewind()
                                .removeDataDirectoryOnDivergedTimelines()
                                .cluster(c -> c.leader("b", OTHER_LEASE).members("b", "c").timelineEnded(1, 600)),
                        Action.Wait.class, "this replica cannot stream from leader 'b'; enable use_pg_rewind or"
                                + " reinitialize it"),
                row("empty cluster, no data -> bootstrap",
                        me("a").noData().cluster(c -> c.noInitialize()),
                        Action.Bootstrap.class, "trying to bootstrap a new cluster"),
                row("initialized cluster with a running leader, no data -> clone",
                        me("c").noData().cluster(c -> c.leader("a", OTHER_LEASE).members("a")),
                        Action.CloneFromLeader.class, "trying to bootstrap from leader 'a'"),
                row("someone is bootstrapping (initialize key, no leader) -> wait",
                        me("c").noData().cluster(c -> c.initialize("")),
                        Action.Wait.class, "waiting for leader to bootstrap"),
                row("no data but the leader key names me -> release it",
                        me("a").noData().cluster(c -> c.leader("a", MY_LEASE)),
                        Action.Demote.class, "releasing the leader key because my data directory is empty"),
                row("data of another cluster -> refuse to act",
                        me("c").replica(1000).sysid("99").cluster(c -> c.initialize("42").leader("a", OTHER_LEASE).members("a", "c")),
                        Action.Wait.class, "refusing to manage postgres: its system identifier 99 is not the cluster's 42"),

                // ---- switchover and failover: the leader's side
                row("switchover to a healthy, caught-up candidate -> switch over",
                        me("a").primary(1000).peer("b", false, 1000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").failover("a", "b", null)),
                        Action.Switchover.class, "switching over to 'b' as requested: stopping postgres with a checkpoint"),
                row("switchover with no candidate named -> the healthiest replicas, best first",
                        me("a").primary(1000).peer("b", false, 900).peer("c", false, 1000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b", "c").failover("a", null, null)),
                        Action.Switchover.class, "switching over to the healthiest of [c, b] as requested: stopping postgres with a checkpoint"),
                row("switchover to a nofailover member -> refuse and clear the key",
                        me("a").primary(1000).peer(new PeerStatus("b", true, true, true, 1000, 1, true, 1, "streaming"))
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").failover("a", "b", null)),
                        Action.ClearFailoverKey.class, "clearing the failover key because no member can take over: 'b' is tagged nofailover"),
                row("switchover to a member whose failsafe promise runs -> refuse and clear the key (it could not"
                                + " promote before the promise ends)",
                        me("a").primary(1000).peer(new PeerStatus("b", true, true, true, 1000, 1, false, 1, "streaming",
                                        true))
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").failover("a", "b", null)),
                        Action.ClearFailoverKey.class, "clearing the failover key because no member can take over: 'b'"
                                + " promised a primary in failsafe mode not to become primary for now"),
                row("switchover to anyone, one member's failsafe promise runs -> to the other one",
                        me("a").primary(1000).peer(new PeerStatus("b", true, true, true, 1000, 1, false, 1, "streaming",
                                        true)).peer("c", false, 1000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b", "c").failover("a", null, null)),
                        Action.Switchover.class, "switching over to the healthiest of [c] as requested: stopping postgres"
                                + " with a checkpoint"),
                row("switchover to a lagging member -> refuse and clear the key",
                        me("a").primary(5_000_000).peer("b", false, 1000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").failover("a", "b", null)),
                        Action.ClearFailoverKey.class, "clearing the failover key because no member can take over: 'b' lags 4999000 bytes behind, more than maximum_lag_on_failover (1048576)"),
                row("switchover to a replica that is not streaming -> refuse",
                        me("a").primary(1000).peer(new PeerStatus("b", true, true, true, 1000, 1, false, 1, "in archive recovery"))
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").failover("a", "b", null)),
                        Action.ClearFailoverKey.class, "clearing the failover key because no member can take over: 'b' is not streaming"),
                row("switchover to myself -> clear the key",
                        me("a").primary(1000).peer("b", false, 1000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").failover("a", "a", null)),
                        Action.ClearFailoverKey.class, "clearing the failover key because its candidate is me, the leader already"),
                row("switchover naming another leader -> clear the key",
                        me("a").primary(1000).peer("b", false, 1000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").failover("z", "b", null)),
                        Action.ClearFailoverKey.class, "clearing the failover key because it names 'z' as the leader, not me"),
                row("switchover to a member that does not exist -> clear the key",
                        me("a").primary(1000).peer("b", false, 1000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").failover("a", "x", null)),
                        Action.ClearFailoverKey.class, "clearing the failover key because no member can take over: 'x' is not a member of the cluster"),
                row("failover to a named candidate while the leader is up -> the leader switches over",
                        me("a").primary(1000).peer("b", false, 1000).peer("c", false, 1000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b", "c").failover(null, "c", null)),
                        Action.Switchover.class, "switching over to 'c' as requested: stopping postgres with a checkpoint"),
                row("scheduled switchover later -> keep leading, say so",
                        me("a").primary(1000).peer("b", false, 1000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").failover("a", "b", "2026-06-01T12:05:00+00:00")),
                        Action.LeadAsPrimary.class, "no action. I am (a), the leader with the lock; awaiting the switchover scheduled at 2026-06-01T12:05:00Z"),
                row("scheduled switchover now -> switch over",
                        me("a").primary(1000).peer("b", false, 1000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").failover("a", "b", "2026-06-01T12:00:01+00:00")),
                        Action.Switchover.class, "switching over to 'b' as requested: stopping postgres with a checkpoint"),
                row("scheduled switchover long past -> stale, clear it",
                        me("a").primary(1000).peer("b", false, 1000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").failover("a", "b", "2026-06-01T11:00:00+00:00")),
                        Action.ClearFailoverKey.class, "clearing the failover key because its scheduled time 2026-06-01T11:00:00Z passed long ago"),
                row("scheduled_at without a zone -> clear it",
                        me("a").primary(1000).peer("b", false, 1000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").failover("a", "b", "2026-06-01 12:05")),
                        Action.ClearFailoverKey.class, "clearing the failover key because its scheduled_at '2026-06-01 12:05' is not an ISO 8601 time with a zone"),
                row("the lease lapses while a switchover is requested -> demote first",
                        me("a").primary(1000).leaseRenewedSecondsAgo(9, false).peer("b", false, 1000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").failover("a", "b", null)),
                        Action.Demote.class, "demoting self because the leader lease could not be renewed"),

                // ---- switchover, after the leader stopped with a shutdown checkpoint
                row("a candidate has received the shutdown checkpoint -> hand the key over",
                        me("a").handingOver(0.1, 5000, "b", "c").received("b", 4000).received("c", 5000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b", "c").failover("a", null, null)),
                        Action.HandOver.class, "switchover: 'c' has received the shutdown checkpoint 0/1388; releasing the leader key"),
                row("the best candidate too has it -> the first in the order wins",
                        me("a").handingOver(0.1, 5000, "b", "c").received("b", 5000).received("c", 5000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b", "c")),
                        Action.HandOver.class, "switchover: 'b' has received the shutdown checkpoint 0/1388; releasing the leader key"),
                row("no candidate has it yet -> wait a little",
                        me("a").handingOver(1, 5000, "b").received("b", 4999)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").failover("a", "b", null)),
                        Action.AwaitHandover.class, "switchover: waiting for a candidate of [b] to receive the shutdown checkpoint 0/1388"),
                row("a candidate that cannot be asked -> wait a little",
                        me("a").handingOver(1, 5000, "b")
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").failover("a", "b", null)),
                        Action.AwaitHandover.class, "switchover: waiting for a candidate of [b] to receive the shutdown checkpoint 0/1388"),
                row("no candidate has it after 5 s -> abandon, keep the key",
                        me("a").handingOver(5, 5000, "b").received("b", 4999)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").failover("a", "b", null)),
                        Action.ClearFailoverKey.class, "clearing the failover key because the switchover is abandoned: no candidate of [b] received the shutdown checkpoint 0/1388 within 5000 ms; keeping the leader key, postgres restarts as primary"),
                row("postgres did not shut down cleanly -> keep the key",
                        me("a").handingOver(0.1, -1, "b").received("b", 9999)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").failover("a", "b", null)),
                        Action.ClearFailoverKey.class, "clearing the failover key because postgres did not report a clean shutdown checkpoint; keeping the leader key"),
                row("paused, a candidate has the shutdown checkpoint -> hand over (pause does not stop a switchover)",
                        me("a").paused().handingOver(0.1, 5000, "b").received("b", 5000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").failover("a", "b", null)),
                        Action.HandOver.class, "switchover: 'b' has received the shutdown checkpoint 0/1388; releasing the leader key"),

                // ---- switchover and failover: the replicas' side (no leader)
                row("named candidate, leader key released -> race at once, no lag check",
                        me("b").replica(900).peer("c", false, 1000)
                                .cluster(c -> c.members("a", "b", "c").lastLeaderLsn(5_000_000).failover("a", "b", null)),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("a scheduled switchover names me, but the leader is gone now -> the usual checks apply",
                        me("b").replica(1000).peer("c", false, 2000)
                                .cluster(c -> c.members("a", "b", "c").failover("a", "b", "2026-06-01T13:00:00+00:00")),
                        Action.Wait.class, "following a different leader because i am not the healthiest node: member c is ahead of me"),
                row("another member is the healthy named candidate -> do not race",
                        me("c").replica(1000).peer("b", false, 900)
                                .cluster(c -> c.members("a", "b", "c").failover("a", "b", null)),
                        Action.Wait.class, "following a different leader because i am not the healthiest node: the failover key names 'b' as the candidate"),
                row("named candidate unreachable -> the others race as usual, former leader excluded",
                        me("c").replica(1000).peer(PeerStatus.unreachable("b")).peer("a", false, 1200)
                                .cluster(c -> c.members("a", "b", "c").failover("a", "b", null)),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("former leader after a handover, another member can take over -> do not race",
                        me("a").replica(1000).peer("b", false, 1000)
                                .cluster(c -> c.members("a", "b").failover("a", "b", null)),
                        Action.Wait.class, "following a different leader because i am not the healthiest node: the failover key names 'b' as the candidate"),
                row("former leader, no candidate is healthy -> take the key back",
                        me("a").replica(1000).peer(PeerStatus.unreachable("b"))
                                .cluster(c -> c.members("a", "b").failover("a", "b", null)),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("former leader after a handover, the only other healthy member's WAL went past its timeline's end -> take the key back",
                        me("a").replica(1000).timeline(2).peer(PeerStatus.unreachable("b"))
                                .peer(new PeerStatus("d", true, true, true, 5000, 1, false, 1, "streaming"))
                                .cluster(c -> c.members("a", "b", "d").failover("a", "b", null).timelineEnded(1, 900)),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("the named candidate's WAL went past its timeline's end -> the others race as usual",
                        me("c").replica(1000).timeline(2).peer(new PeerStatus("d", true, true, true, 5000, 1, false, 1,
                                "streaming")).cluster(c -> c.members("a", "c", "d").failover("a", "d", null)
                                .timelineEnded(1, 900)),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("the failover key names me, but my WAL went past the end of my timeline -> do not race",
                        me("d").replica(5000).timeline(1).cluster(c -> c.members("a", "d").failover("a", "d", null)
                                .timelineEnded(1, 900)),
                        Action.Wait.class, PAST_MY_TIMELINES_END),
                row("manual failover to me in a leaderless cluster, but tagged nofailover -> never",
                        me("b").replica(1000).tag("nofailover", true)
                                .cluster(c -> c.members("b").failover(null, "b", null)),
                        Action.Wait.class, "following a different leader because i am not the healthiest node: this member is tagged nofailover"),
                // a named candidate that will not promote is not waited for, whatever keeps it from promoting: the
                // others race as if the key named no one (Patroni's manual_failover_process_no_leader); one that will
                // promote keeps the failover
                row("quorum, the named candidate is a former primary on an abandoned timeline (no vote counts there) -> race (soak seed 185401)",
                        switchoverToAFromC("b", 1),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("quorum, former leader, the candidate is on an abandoned timeline, another member can take over -> defer to it",
                        switchoverToAFromC("c", 1),
                        Action.Wait.class, "following a different leader because i am not the healthiest node: I handed"
                                + " the leader key over and another member can take it"),
                row("async, the named candidate is a former primary past the end of its timeline -> race (Patroni's check_timeline)",
                        me("b").replica(3780).timeline(2).peer(standby("a", 3796, 1)).peer(standby("c", 3780, 2))
                                .cluster(c -> c.members("a", "b", "c").timelineEnded(1, 3780).failover("c", "a", null)),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("quorum, the candidate on the voters' timeline, ahead of them all -> waited for",
                        switchoverToAFromC("b", 2),
                        Action.Wait.class, "following a different leader because i am not the healthiest node: the"
                                + " failover key names 'a' as the candidate"),
                row("quorum, the candidate the sync key names its leader, a member ahead of it and too few votes -> race",
                        me("b").replica(1100).sync(QUORUM, false, 2).peer(standby("a", 1000, 1))
                                .peer(standby("c", 1000, 1)).peer(PeerStatus.unreachable("d"))
                                .received("a", 1000).received("c", 1000)
                                .cluster(c -> c.members("a", "b", "c", "d").syncKey("a", 2, "b", "c", "d")
                                        .failover("d", "a", null)),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("quorum, the candidate lags behind voters (too few votes for it) -> race",
                        me("b").replica(2000).sync(QUORUM, false, 1).peer(standby("a", 1000, 1))
                                .peer(standby("c", 2000, 1)).received("c", 2000)
                                .cluster(c -> c.members("a", "b", "c").syncKey("d", 1, "a", "b", "c")
                                        .failover("d", "a", null)),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("async, the candidate lags past maximum_lag_on_failover -> waited for (it promotes without weighing its lag, as in Patroni)",
                        me("c").replica(5_000_000).peer(standby("b", 900, 1))
                                .cluster(c -> c.members("a", "b", "c").lastLeaderLsn(5_000_000).failover("a", "b", null)),
                        Action.Wait.class, "following a different leader because i am not the healthiest node: the"
                                + " failover key names 'b' as the candidate"),
                row("the candidate is tagged nofailover -> race",
                        me("c").replica(1000).peer(new PeerStatus("b", true, true, true, 1000, 1, true, 1, "streaming"))
                                .cluster(c -> c.members("a", "b", "c").failover("a", "b", null)),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("the candidate's postgres is not running -> race",
                        me("c").replica(1000).peer(new PeerStatus("b", true, false, true, 0, 0, false, 1, null))
                                .cluster(c -> c.members("a", "b", "c").failover("a", "b", null)),
                        Action.AcquireLeader.class, "racing for the leader key to promote self because i am the healthiest node"),
                row("the candidate runs as a primary off the key -> not raced against: it is alive",
                        me("c").replica(1000).peer("b", true, 1000)
                                .cluster(c -> c.members("a", "b", "c").failover("a", "b", null)),
                        Action.Wait.class, "following a different leader because i am not the healthiest node: primary"
                                + " (b) is still alive"),

                // ---- pause (maintenance) mode
                row("paused primary with the key -> lead, nothing else",
                        me("a").paused().primary(1000).cluster(c -> c.leader("a", MY_LEASE).members("a", "b")),
                        Action.LeadAsPrimary.class, "PAUSE: no action. I am (a), the leader with the lock"),
                row("paused primary, lease past its deadline -> keep running (no demotion in pause)",
                        me("a").paused().primary(1000).leaseRenewedSecondsAgo(9, false)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b")),
                        Action.LeadAsPrimary.class, "PAUSE: no action. I am (a), the leader with the lock"),
                row("paused, DCS unreachable, primary -> keep running",
                        me("a").paused().primary(1000).dcsUnreachable(),
                        Action.Wait.class, "PAUSE: DCS is not accessible"),
                row("paused, key holder's postgres is stopped -> release the key, do not start it",
                        me("a").paused().stopped(true).cluster(c -> c.leader("a", MY_LEASE).members("a", "b")),
                        Action.ReleaseLeader.class, "PAUSE: releasing the leader key because postgres is not running"),
                row("pause, a switchover stopped me and was abandoned -> start as primary again, keep the key",
                        me("a").paused().abandonedHandover().cluster(c -> c.leader("a", MY_LEASE).members("a", "b")),
                        Action.StartPostgres.class, "PAUSE: starting postgres as primary again: the switchover was"
                                + " abandoned and I keep the leader key"),
                row("paused, no leader, healthiest replica -> no promotion",
                        me("b").paused().replica(1000).cluster(c -> c.members("b")),
                        Action.Wait.class, "PAUSE: continue to run as replica without lock"),
                row("paused, no leader, running primary -> take the key",
                        me("a").paused().primary(1000).cluster(c -> c.members("a", "b")),
                        Action.AcquireLeader.class, "PAUSE: acquiring the leader key as the running primary"),
                row("paused, primary sees another leader -> keep running",
                        me("a").paused().primary(1000).cluster(c -> c.leader("b", OTHER_LEASE).members("a", "b")),
                        Action.Wait.class, "PAUSE: continue to run as primary without lock"),
                row("paused, stopped replica -> stays stopped",
                        me("c").paused().stopped(false).cluster(c -> c.leader("b", OTHER_LEASE).members("b", "c")),
                        Action.Wait.class, "PAUSE: postgres is not running"),
                row("paused, failover key names me in a leaderless cluster -> promote",
                        me("b").paused().replica(1000).cluster(c -> c.members("b").failover(null, "b", null)),
                        Action.AcquireLeader.class, "PAUSE: racing for the leader key to promote self because the failover key names me"),
                row("paused, switchover without a candidate -> clear it",
                        me("a").paused().primary(1000).peer("b", false, 1000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").failover("a", null, null)),
                        Action.ClearFailoverKey.class, "clearing the failover key because in pause mode a switchover needs a named candidate"),
                row("paused, switchover to a named candidate -> allowed",
                        me("a").paused().primary(1000).peer("b", false, 1000)
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b").failover("a", "b", null)),
                        Action.Switchover.class, "switching over to 'b' as requested: stopping postgres with a checkpoint"),
                row("paused, replica holds the key -> release it",
                        me("b").paused().replica(1000).cluster(c -> c.leader("b", MY_LEASE).members("a", "b")),
                        Action.ReleaseLeader.class, "PAUSE: releasing the leader key because postgres is not running as primary"),

                // ---- operator requests
                row("restart requested on a steady replica -> restart",
                        me("b").replicaFollowing("a", 1000).request(new OperatorRequest.Restart(null))
                                .cluster(c -> c.leader("a", OTHER_LEASE).members("a", "b")),
                        Action.Restart.class, "restarting postgres as requested"),
                row("restart requested for role primary on a replica -> refuse",
                        me("b").replicaFollowing("a", 1000).request(new OperatorRequest.Restart("primary"))
                                .cluster(c -> c.leader("a", OTHER_LEASE).members("a", "b")),
                        Action.Wait.class, "not restarting: this member is a replica, not a primary"),
                row("restart requested while the lease lapses -> safety first",
                        me("a").primary(1000).leaseRenewedSecondsAgo(9, false).request(new OperatorRequest.Restart(null))
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b")),
                        Action.Demote.class, "demoting self because the leader lease could not be renewed"),
                row("reinitialize requested on the leader -> refuse",
                        me("a").primary(1000).request(new OperatorRequest.Reinitialize())
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b")),
                        Action.Wait.class, "not reinitializing: I am the leader, can not reinitialize"),
                row("reinitialize requested with no leader -> refuse",
                        me("b").replica(1000).peer("c", false, 2000).request(new OperatorRequest.Reinitialize())
                                .cluster(c -> c.members("b", "c")),
                        Action.Wait.class, "not reinitializing: cluster has no leader, can not reinitialize"),
                row("reinitialize requested on a replica -> rebuild it from the leader",
                        me("b").replicaFollowing("a", 1000).request(new OperatorRequest.Reinitialize())
                                .cluster(c -> c.leader("a", OTHER_LEASE).members("a", "b")),
                        Action.Reinitialize.class, "reinitializing this replica from leader 'a' as requested"))
                .flatMap(r -> Stream.of(r))
                .collect(java.util.stream.Collectors.collectingAndThen(java.util.stream.Collectors.toList(),
                        l -> Stream.concat(l.stream(), SyncPolicyTest.rows())));
    }

    /** Each refusal of an operator's request says which kind it is, for the requester's answer (not parsed from prose). */
    static Stream<Arguments> refusals() {
        return Stream.of(
                Arguments.of(Named.of("restart, role does not match",
                        me("b").replicaFollowing("a", 1000).request(new OperatorRequest.Restart("primary"))
                                .cluster(c -> c.leader("a", OTHER_LEASE).members("a", "b"))),
                        RequestRefusal.CONDITIONS_NOT_SATISFIED),
                Arguments.of(Named.of("reinitialize on the leader",
                        me("a").primary(1000).request(new OperatorRequest.Reinitialize())
                                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b"))),
                        RequestRefusal.I_AM_THE_LEADER),
                Arguments.of(Named.of("reinitialize with no leader",
                        me("b").replica(1000).peer("c", false, 2000).request(new OperatorRequest.Reinitialize())
                                .cluster(c -> c.members("b", "c"))),
                        RequestRefusal.CLUSTER_HAS_NO_LEADER));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusals")
    void refusesWithAKind(Scenario scenario, RequestRefusal refusal) {
        Action decided = HaPolicy.decide(scenario.observation());
        assertThat(decided).isInstanceOf(Action.Wait.class);
        assertThat(((Action.Wait) decided).refusal()).isEqualTo(refusal);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void decides(Scenario scenario, Class<? extends Action> action, String reason) {
        Action decided = HaPolicy.decide(scenario.observation());
        assertThat(decided).isInstanceOf(action);
        assertThat(decided.reason()).isEqualTo(reason);
    }
}

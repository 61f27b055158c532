package io.pgkeel.agent.ha;

import static io.pgkeel.agent.ha.Scenario.MY_LEASE;
import static io.pgkeel.agent.ha.Scenario.OTHER_LEASE;
import static io.pgkeel.agent.ha.Scenario.me;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** decide, one named row per situation: the action's type and its logged sentence. No mocks, no I/O. */
class HaPolicyTest {

    static Arguments row(String name, Scenario s, Class<? extends Action> action, String reason) {
        return Arguments.of(Named.of(name, s), action, reason);
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

                // ---- postgres not running
                row("stopped primary that still holds the key -> restart in place",
                        me("a").stopped(true).cluster(c -> c.leader("a", MY_LEASE).members("a", "b")),
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
                row("no leader, equal WAL but peer has higher failover_priority -> do not race",
                        me("b").replica(1000).peer(new PeerStatus("c", true, true, true, 1000, 1, false, 5))
                                .cluster(c -> c.members("b", "c")),
                        Action.Wait.class, "following a different leader because i am not the healthiest node: member c has a higher failover priority"),
                row("no leader, the old primary still answers as primary -> do not race",
                        me("b").replica(1000).peer("a", true, 1200).cluster(c -> c.members("a", "b")),
                        Action.Wait.class, "following a different leader because i am not the healthiest node: primary (a) is still alive"),
                row("no leader, ahead peer is nofailover -> race anyway",
                        me("b").replica(900).peer(new PeerStatus("c", true, true, true, 1000, 1, true, 1))
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

                // ---- bootstrap
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
                        Action.Wait.class, "refusing to manage postgres: its system identifier 99 is not the cluster's 42"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void decides(Scenario scenario, Class<? extends Action> action, String reason) {
        Action decided = HaPolicy.decide(scenario.observation());
        assertThat(decided).isInstanceOf(action);
        assertThat(decided.reason()).isEqualTo(reason);
    }
}

package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The agent alone dies or hangs while its PostgreSQL keeps running: the fence guard (a process outside the JVM)
 * stops a primary's PostgreSQL, so clients connected to it directly cannot write to it once a replica may promote.
 * A replica's agent dying, or any agent in pause, stops nothing.
 */
@TestMethodOrder(MethodOrderer.MethodName.class)
class AgentDeathIT extends ClusterTestBase {
    @Override
    protected String scope() {
        return "it-agent-death";
    }

    @Test
    void a_killOfThePrimarysAgentAloneStopsItsPostgresAtOnce() {
        cluster.awaitHealthy(Duration.ofSeconds(90));
        AgentProcess primary = cluster.leader();
        Sql.execute(primary.pgPort, "CREATE TABLE IF NOT EXISTS death_check (id serial PRIMARY KEY, note text)");
        assertThat(primary.postmasterPid()).isPresent();
        long killedAt = System.nanoTime();
        primary.kill9();
        Await.until(Duration.ofSeconds(10), primary.name + "'s postgres to stop once its agent is gone",
                () -> primary.postmasterPid().isEmpty());
        System.out.printf("kill -9 of the primary's agent %s alone: its postgres stopped %.2f s later%n", primary.name,
                (System.nanoTime() - killedAt) / 1e9);
        assertThat(Sql.tryExecute(primary.pgPort, "INSERT INTO death_check (note) VALUES ('old primary')")).isFalse();
        assertThat(primary.logText()).contains("pgkeel fence guard: the agent is gone while primary");

        AgentProcess next = cluster.awaitFirstWriterOtherThan(primary,
                "INSERT INTO death_check (note) VALUES ('new primary')", Duration.ofSeconds(TestCluster.TTL + 20));
        assertThat(next).isNotSameAs(primary);
        cluster.awaitHealthy(Duration.ofSeconds(90)); // the old node's agent starts again and follows
        assertThat(cluster.writablePrimaries()).hasSize(1);
    }

    @Test
    void b_aFrozenPrimaryAgentHasItsPostgresStoppedBeforeItsLeaseCanExpire() {
        cluster.awaitHealthy(Duration.ofSeconds(90));
        AgentProcess primary = cluster.leader();
        Sql.execute(primary.pgPort, "CREATE TABLE IF NOT EXISTS death_check (id serial PRIMARY KEY, note text)");
        long lease = cluster.etcd.leaseOf(cluster.key("leader"));
        // etcd cannot expire the lease before (now + remaining): measured before asking, so the bound is safe, and
        // after the freeze, so that no renewal can land after the question and move the lease past the bound
        Host.signal(primary.pid(), "STOP");
        long frozenAt = System.nanoTime();
        Await.pause(100); // a renewal already on its way arrives
        long askedAt = System.nanoTime();
        long remaining = cluster.etcd.leaseRemainingSeconds(lease);
        assertThat(remaining).isPositive();
        try {
            while (Sql.tryExecute(primary.pgPort, "INSERT INTO death_check (note) VALUES ('frozen agent')")) {
                assertThat(System.nanoTime() - frozenAt).as("still writable long after its agent froze")
                        .isLessThan(Duration.ofSeconds(60).toNanos());
                Await.pause(50);
            }
            long stoppedAfter = System.nanoTime() - askedAt;
            System.out.printf("agent %s frozen: its postgres stopped taking writes %.2f s later; lease had >= %d s left%n",
                    primary.name, (System.nanoTime() - frozenAt) / 1e9, remaining);
            assertThat(stoppedAfter).as("writes stop before the lease can have expired in etcd")
                    .isLessThan(Duration.ofSeconds(remaining).toNanos());
            cluster.awaitFirstWriterOtherThan(primary, "INSERT INTO death_check (note) VALUES ('after the freeze')",
                    Duration.ofSeconds(TestCluster.TTL + 20));
            assertThat(cluster.writablePrimaries()).hasSize(1);
        } finally {
            Host.signal(primary.pid(), "CONT");
        }
        assertThat(primary.logText()).contains("no word from the agent by the lease deadline");
        cluster.awaitHealthy(Duration.ofSeconds(90)); // the thawed agent finds another leader and follows it
        assertThat(cluster.writablePrimaries()).hasSize(1);
    }

    @Test
    void c_killOfAReplicasAgentLeavesItsPostgresStreaming() {
        cluster.awaitHealthy(Duration.ofSeconds(90));
        AgentProcess replica = cluster.nodes.stream().filter(n -> !n.name.equals(cluster.leaderName().orElseThrow()))
                .findFirst().orElseThrow();
        long postmaster = replica.postmasterPid().orElseThrow();
        replica.kill9();
        Await.pause(3000);
        assertThat(replica.postmasterPid()).as("a replica's postgres outlives its agent").hasValue(postmaster);
        cluster.awaitHealthy(Duration.ofSeconds(90));
        assertThat(replica.postmasterPid()).as("and the agent adopts it").hasValue(postmaster);
    }

    @Test
    void d_inPauseNeitherAStopNorAKillOfThePrimarysAgentTouchesItsPostgres() {
        cluster.awaitHealthy(Duration.ofSeconds(90));
        AgentProcess primary = cluster.leader();
        Rest.Answer paused = Rest.call(primary, "PATCH", "/config", "{\"pause\": true}");
        assertThat(paused.status()).as(paused.toString()).isEqualTo(200);
        try {
            awaitEveryMemberReportsPause();
            long postmaster = primary.postmasterPid().orElseThrow();
            primary.terminate(Duration.ofSeconds(30));
            assertThat(primary.postmasterPid()).as("a clean stop in pause leaves postgres running").hasValue(postmaster);
            cluster.startAgent(primary);
            Await.until(Duration.ofSeconds(30), primary.name + "'s agent back, reporting pause", () -> cluster.etcd
                    .get(cluster.key("members/" + primary.name)).map(v -> v.contains("\"pause\":true")
                            && v.contains("\"state\":\"running\"")).orElse(false));
            primary.kill9();
            Await.pause(3000);
            assertThat(primary.postmasterPid()).as("a kill of the agent in pause leaves postgres running")
                    .hasValue(postmaster);
            assertThat(Sql.tryExecute(primary.pgPort, "INSERT INTO death_check (note) VALUES ('paused')")).isTrue();
            cluster.startAgent(primary);
        } finally {
            AgentProcess other = cluster.nodes.stream().filter(n -> n != primary).findFirst().orElseThrow();
            Rest.Answer resumed = Rest.call(other, "PATCH", "/config", "{\"pause\": false}");
            assertThat(resumed.status()).as(resumed.toString()).isEqualTo(200);
        }
        cluster.awaitHealthy(Duration.ofSeconds(90));
        assertThat(cluster.writablePrimaries()).hasSize(1);
    }

    /**
     * In pause the primary's agent dies and its key lapses while its PostgreSQL keeps taking writes; when the pause
     * ends, no other member races for the key (Patroni 3.0 promotes one: two primaries). The agent, started again,
     * takes the key back as the running primary.
     */
    @Test
    void e_endingPauseWhileThePrimarysAgentIsDeadMakesNoSecondPrimary() {
        cluster.awaitHealthy(Duration.ofSeconds(90));
        AgentProcess primary = cluster.leader();
        AgentProcess other = cluster.nodes.stream().filter(n -> n != primary).findFirst().orElseThrow();
        Sql.execute(primary.pgPort, "CREATE TABLE IF NOT EXISTS death_check (id serial PRIMARY KEY, note text)");
        // through a replica: the primary's agent may still be opening its REST API after d_ restarted it
        Rest.Answer paused = Rest.call(other, "PATCH", "/config", "{\"pause\": true}");
        assertThat(paused.status()).as(paused.toString()).isEqualTo(200);
        boolean resumed = false;
        try {
            awaitEveryMemberReportsPause();
            long postmaster = killAgentUntilItsKeyLapses(primary);
            Rest.Answer r = Rest.call(other, "PATCH", "/config", "{\"pause\": false}");
            assertThat(r.status()).as(r.toString()).isEqualTo(200);
            resumed = true;
            long until = System.nanoTime() + Duration.ofSeconds(3L * TestCluster.TTL).toNanos();
            while (System.nanoTime() < until) {
                assertThat(cluster.writablePrimaries()).as("only the paused primary takes writes")
                        .extracting(n -> n.name).containsExactly(primary.name);
                Await.pause(200);
            }
            assertThat(cluster.leaderName()).as("nobody raced for the key").isEmpty();
            assertThat(primary.postmasterPid()).as("the paused primary's postgres was left alone").hasValue(postmaster);
            assertThat(other.logText()).contains("not racing for the leader key: it was vacated while the cluster was"
                    + " paused and member '" + primary.name + "'");
            cluster.startAgent(primary);
            Await.until(Duration.ofSeconds(30), primary.name + " to take its key back",
                    () -> cluster.leaderName().equals(java.util.Optional.of(primary.name)));
        } finally {
            if (!resumed) {
                Rest.call(other, "PATCH", "/config", "{\"pause\": false}");
            }
        }
        cluster.awaitHealthy(Duration.ofSeconds(90));
        assertThat(cluster.writablePrimaries()).extracting(n -> n.name).containsExactly(primary.name);
        assertThat(Sql.tryExecute(primary.pgPort, "INSERT INTO death_check (note) VALUES ('after the pause')")).isTrue();
    }

    /**
     * In pause the primary's agent dies and its key lapses; the operator fails over to a replica while the old
     * primary's PostgreSQL still runs. The candidate's WAL receiver streams from it, so it does not promote (Patroni
     * 3.0 does: two primaries); once that PostgreSQL is stopped by hand (fast shutdown, as pg_ctl's), it promotes.
     */
    @Test
    void f_aFailoverInPauseWaitsWhileTheCandidateStillStreamsFromTheOldPrimary() {
        cluster.awaitHealthy(Duration.ofSeconds(90));
        AgentProcess primary = cluster.leader();
        AgentProcess other = cluster.nodes.stream().filter(n -> n != primary).findFirst().orElseThrow();
        Rest.Answer paused = Rest.call(other, "PATCH", "/config", "{\"pause\": true}");
        assertThat(paused.status()).as(paused.toString()).isEqualTo(200);
        try {
            awaitEveryMemberReportsPause();
            long postmaster = killAgentUntilItsKeyLapses(primary);
            // the API waits 2 x max(10, loop_wait) s for the candidate to take the key; held, it never does, and the
            // key stays for when the old primary is stopped (api.py poll_failover_result: "status unknown")
            Rest.Answer failover = Rest.post(other, "/failover", "{\"candidate\": \"" + other.name + "\"}");
            assertThat(failover.status()).as(failover.toString()).isEqualTo(503);
            assertThat(failover.body()).contains("Failover status unknown");
            assertThat(cluster.etcd.get(cluster.key("failover"))).as("the failover key").isPresent();
            long until = System.nanoTime() + Duration.ofSeconds(2L * TestCluster.TTL).toNanos();
            while (System.nanoTime() < until) {
                assertThat(cluster.writablePrimaries()).as("only the paused primary takes writes")
                        .extracting(n -> n.name).containsExactly(primary.name);
                Await.pause(200);
            }
            assertThat(other.logText()).contains("not racing for the leader key on the failover key: my WAL receiver"
                    + " still streams from member '" + primary.name + "'");
            Host.signal(postmaster, "INT"); // the operator stops it: pg_ctl stop -m fast
            Await.until(Duration.ofSeconds(60), other.name + " to promote once the old primary is stopped",
                    () -> cluster.writablePrimaries().stream().map(n -> n.name).toList().equals(List.of(other.name)));
        } finally {
            Rest.Answer r = Rest.call(other, "PATCH", "/config", "{\"pause\": false}");
            assertThat(r.status()).as(r.toString()).isEqualTo(200);
        }
        cluster.startAgent(primary);
        cluster.awaitHealthy(Duration.ofSeconds(120));
        assertThat(cluster.writablePrimaries()).extracting(n -> n.name).containsExactly(other.name);
    }

    /**
     * A backend outlives its killed postmaster (here stopped with SIGSTOP; in the chaos bench, one hung in its exit
     * path after the fence guard's immediate shutdown) and keeps the old shared memory block attached, so PostgreSQL
     * cannot start in the directory ("pre-existing shared memory block ... is still in use"). The agent kills it
     * before its start, and the replica streams again; before, it never did.
     */
    @Test
    void g_aBackendLeftBehindByAKilledPostmasterDoesNotKeepPostgresDown() throws Exception {
        cluster.awaitHealthy(Duration.ofSeconds(90));
        AgentProcess replica = cluster.nodes.stream().filter(n -> n != cluster.leader()).findFirst().orElseThrow();
        long postmaster = replica.postmasterPid().orElseThrow();
        Connection c = Sql.connect(replica.pgPort);
        long backend;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            backend = rs.getLong(1);
        }
        Host.signal(backend, "STOP");
        Host.signal(postmaster, "KILL");
        try {
            // a start that fails on the old shared memory block writes postmaster.pid for a moment: ask it instead
            Await.until(Duration.ofSeconds(90), replica.name + "'s postgres to answer again",
                    () -> replica.postmasterPid().isPresent() && replica.postmasterPid().getAsLong() != postmaster
                            && Sql.tryExecute(replica.pgPort, "SELECT 1"));
            Await.until(Duration.ofSeconds(10), "the stopped backend " + backend + " to be gone",
                    () -> ProcessHandle.of(backend).map(h -> !h.isAlive()).orElse(true));
        } finally {
            ProcessHandle.of(backend).ifPresent(ProcessHandle::destroyForcibly); // after a failure: do not leave it
            try {
                c.close();
            } catch (SQLException ignored) {
                // its backend was killed under it
            }
        }
        assertThat(replica.logText()).contains("killing process " + backend + " (");
        cluster.awaitHealthy(Duration.ofSeconds(90));
    }

    private void awaitEveryMemberReportsPause() {
        for (AgentProcess n : cluster.nodes) {
            Await.until(Duration.ofSeconds(20), n.name + " reports pause", () -> cluster.etcd
                    .get(cluster.key("members/" + n.name)).map(v -> v.contains("\"pause\":true")).orElse(false));
        }
    }

    /** kill -9 of the primary's agent alone, then its leader key lapses; returns its postmaster's PID. */
    private long killAgentUntilItsKeyLapses(AgentProcess primary) {
        long postmaster = primary.postmasterPid().orElseThrow();
        primary.kill9();
        Await.until(Duration.ofSeconds(TestCluster.TTL + 10), "the dead agent's leader key to lapse",
                () -> cluster.leaderName().isEmpty());
        return postmaster;
    }
}

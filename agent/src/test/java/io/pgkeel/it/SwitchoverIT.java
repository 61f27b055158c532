package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Planned switchover, manual failover, their refusals and pause mode, through the REST API of a real 3-node cluster
 * (etcd, PostgreSQL, pgkeel agents). Each test leaves the cluster healthy for the next.
 */
@TestMethodOrder(MethodOrderer.MethodName.class)
class SwitchoverIT extends ClusterTestBase {

    @Override
    protected String scope() {
        return "it-switchover";
    }

    private List<AgentProcess> replicas() {
        String leader = cluster.leaderName().orElseThrow();
        return cluster.nodes.stream().filter(n -> !n.name.equals(leader)).toList();
    }

    private static int reportedTimeline(AgentProcess n) {
        try {
            return new ObjectMapper().readTree(Rest.call(n, "GET", "/patroni", null).body()).path("timeline").asInt();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private int historyEntries() {
        return cluster.etcd.get(cluster.key("history")).map(h -> h.split("\\]\\s*,\\s*\\[").length).orElse(0);
    }

    @Test
    void a_switchoverToANamedCandidateLosesNoAcknowledgedWriteAndNeedsNoRewind() {
        AgentProcess leader = cluster.leader();
        AgentProcess candidate = replicas().get(0);
        int historyBefore = historyEntries();
        Set<Long> acked;
        long gap;
        try (Writer writer = new Writer(cluster.nodes, "switchover_rows", 20)) {
            Await.until(Duration.ofSeconds(10), "the writer's first rows", () -> writer.count() > 20);
            Rest.Answer a = Rest.post(leader, "/switchover",
                    "{\"leader\": \"" + leader.name + "\", \"candidate\": \"" + candidate.name + "\"}");
            assertThat(a.status()).as(a.toString()).isEqualTo(200);
            assertThat(a.body()).isEqualTo("Successfully switched over to \"" + candidate.name + "\"");
            int before = writer.count();
            Await.until(Duration.ofSeconds(20), "writes on the new primary", () -> writer.count() > before + 20);
            acked = new HashSet<>(writer.acknowledged());
            gap = writer.longestGapMillis();
        }
        assertThat(cluster.leaderName()).contains(candidate.name);
        cluster.awaitHealthy(Duration.ofSeconds(60));
        Set<Long> present = new HashSet<>();
        for (String id : Sql.queryString(candidate.pgPort, "SELECT string_agg(id::text, ',') FROM switchover_rows")
                .split(",")) {
            present.add(Long.parseLong(id));
        }
        assertThat(acked).as("every acknowledged row is on the new primary").isSubsetOf(present);
        assertThat(leader.logText()).as("the old leader rejoined without pg_rewind").doesNotContain("running pg_rewind");
        assertThat(cluster.etcd.get(cluster.key("failover"))).as("the failover key is cleared").isEmpty();
        Await.until(Duration.ofSeconds(10), "a history entry for the promotion", () -> historyEntries() == historyBefore + 1);
        System.out.println("switchover write gap (20 ms writer): " + gap + " ms");
    }

    @Test
    void b_failoverToANamedCandidateWhileTheLeaderIsUp() {
        AgentProcess candidate = replicas().get(1);
        Rest.Answer a = Rest.post(candidate, "/failover", "{\"candidate\": \"" + candidate.name + "\"}");
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        assertThat(a.body()).isEqualTo("Successfully failed over to \"" + candidate.name + "\"");
        cluster.awaitHealthy(Duration.ofSeconds(60));
        assertThat(cluster.leaderName()).contains(candidate.name);
    }

    @Test
    void c_refusals() throws Exception {
        AgentProcess leader = cluster.leader();
        AgentProcess r1 = replicas().get(0);
        AgentProcess r2 = replicas().get(1);
        Rest.Answer self = Rest.post(leader, "/switchover",
                "{\"leader\": \"" + leader.name + "\", \"candidate\": \"" + leader.name + "\"}");
        assertThat(self.status()).as(self.toString()).isEqualTo(400);
        assertThat(self.body()).isEqualTo("Switchover target and source are the same");
        // api.py _read_json_content: an empty object is send_error(400), Python's error page, as in Patroni 3.0 and 4.1
        Rest.Answer empty = Rest.post(leader, "/failover", "{}");
        assertThat(empty.status()).as(empty.toString()).isEqualTo(400);
        assertThat(empty.body()).contains("<p>Error code: 400</p>");
        Rest.Answer noCandidate = Rest.post(leader, "/failover", "{\"leader\": \"" + leader.name + "\"}");
        assertThat(noCandidate.status()).as(noCandidate.toString()).isEqualTo(400);
        assertThat(noCandidate.body()).isEqualTo("Failover could be performed only to a specific candidate");
        Rest.Answer unknown = Rest.post(leader, "/failover", "{\"candidate\": \"nobody\"}");
        assertThat(unknown.status()).as(unknown.toString()).isEqualTo(412);

        // nofailover, set by SIGHUP
        String yaml = java.nio.file.Files.readString(r1.config);
        java.nio.file.Files.writeString(r1.config, yaml + "tags:\n  nofailover: true\n");
        Host.signal(r1.pid(), "HUP");
        Await.until(Duration.ofSeconds(20), "nofailover in " + r1.name + "'s member key", () -> cluster.etcd
                .get(cluster.key("members/" + r1.name)).map(v -> v.contains("\"nofailover\":true")).orElse(false));
        Await.pause(1500); // the member's REST snapshot follows its next cycle
        Rest.Answer tagged = Rest.post(leader, "/switchover",
                "{\"leader\": \"" + leader.name + "\", \"candidate\": \"" + r1.name + "\"}");
        assertThat(tagged.status()).as(tagged.toString()).isEqualTo(412);
        assertThat(tagged.body()).isEqualTo("switchover is not possible: no good candidates have been found");
        java.nio.file.Files.writeString(r1.config, yaml);
        Host.signal(r1.pid(), "HUP");

        // a lagging candidate: its WAL receiver is frozen while the primary writes 4 MB
        long walReceiver = Long.parseLong(Sql.queryString(r2.pgPort, "SELECT pid FROM pg_stat_wal_receiver"));
        Host.signal(walReceiver, "STOP");
        try {
            Sql.execute(leader.pgPort, "CREATE TABLE lag_filler AS SELECT repeat('x', 1000) AS pad"
                    + " FROM generate_series(1, 4000)");
            Rest.Answer lagging = Rest.post(leader, "/switchover",
                    "{\"leader\": \"" + leader.name + "\", \"candidate\": \"" + r2.name + "\"}");
            // refused by the leader on live data (503 and Patroni's text; the reason is the leader's log line)
            assertThat(lagging.status()).as(lagging.toString()).isEqualTo(503);
            assertThat(lagging.body()).isEqualTo("Switchover failed");
            assertThat(leader.logText()).contains("clearing the failover key because no member can take over: '"
                    + r2.name + "' lags ");
        } finally {
            Host.signal(walReceiver, "CONT");
        }
        assertThat(cluster.leaderName()).as("the leader stays").contains(leader.name);
        assertThat(Sql.isPrimary(leader.pgPort)).isTrue();
        cluster.awaitHealthy(Duration.ofSeconds(60));
    }

    @Test
    void d_pauseKeepsPostgresAloneAndAllowsAManualFailoverToANamedCandidate() {
        AgentProcess leader = cluster.leader();
        AgentProcess candidate = replicas().get(0);
        Rest.Answer paused = Rest.call(leader, "PATCH", "/config", "{\"pause\": true}");
        assertThat(paused.status()).as(paused.toString()).isEqualTo(200);
        for (AgentProcess n : cluster.nodes) {
            Await.until(Duration.ofSeconds(20), n.name + " reports pause", () -> cluster.etcd
                    .get(cluster.key("members/" + n.name)).map(v -> v.contains("\"pause\":true")).orElse(false));
        }
        String timeline = Sql.queryString(leader.pgPort, "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)");
        List<AgentProcess> followers = replicas();
        leader.killPostgresTree();
        Await.pause(4000);
        assertThat(leader.postmasterPid()).as("in pause nobody restarts the crashed primary").isEmpty();
        assertThat(cluster.writablePrimaries()).as("and no replica is promoted").isEmpty();
        // a replica whose WAL receiver is gone still reports the timeline of the WAL it has (a_ and b_ switched
        // timelines, and its last restartpoint may still be on an older one)
        int leaderTimeline = Integer.parseInt(timeline, 16);
        for (AgentProcess r : followers) {
            String checkpoint = Sql.queryString(r.pgPort, "SELECT timeline_id FROM pg_control_checkpoint()");
            Await.until(Duration.ofSeconds(10), r.name + " reports timeline " + leaderTimeline,
                    () -> reportedTimeline(r) == leaderTimeline, () -> Rest.call(r, "GET", "/patroni", null).body());
            System.out.printf("%s without a WAL receiver reports timeline %d (its last restartpoint's: %s)%n", r.name,
                    leaderTimeline, checkpoint);
        }
        Await.until(Duration.ofSeconds(20), "the key holder releases the key", () -> cluster.leaderName().isEmpty());

        Rest.Answer failover = Rest.post(candidate, "/failover", "{\"candidate\": \"" + candidate.name + "\"}");
        assertThat(failover.status()).as(failover.toString()).isEqualTo(200);
        assertThat(cluster.leaderName()).contains(candidate.name);
        Await.until(Duration.ofSeconds(20), candidate.name + " promoted", () -> Sql.isPrimary(candidate.pgPort));
        assertThat(leader.postmasterPid()).as("still left alone in pause").isEmpty();

        Rest.Answer resumed = Rest.call(candidate, "PATCH", "/config", "{\"pause\": null}");
        assertThat(resumed.status()).as(resumed.toString()).isEqualTo(200);
        cluster.awaitHealthy(Duration.ofSeconds(90));
        assertThat(cluster.leaderName()).contains(candidate.name);
    }

    @Test
    void e_restartAndReinitializeAReplica() {
        AgentProcess replica = replicas().get(0);
        long postmaster = replica.postmasterPid().orElseThrow();
        Rest.Answer restart = Rest.post(replica, "/restart", null);
        assertThat(restart.status()).as(restart.toString()).isEqualTo(200);
        assertThat(replica.postmasterPid()).as("a new postmaster accepts connections when the answer comes")
                .isPresent().isNotEqualTo(java.util.OptionalLong.of(postmaster));
        assertThat(Sql.queryString(replica.pgPort, "SELECT 1")).isEqualTo("1");
        Rest.Answer refused = Rest.post(cluster.leader(), "/reinitialize", null);
        assertThat(refused.status()).as(refused.toString()).isEqualTo(503);
        assertThat(refused.body()).contains("I am the leader, can not reinitialize");
        Rest.Answer reinit = Rest.post(replica, "/reinitialize", "{\"force\": true}");
        assertThat(reinit.status()).as(reinit.toString()).isEqualTo(200);
        assertThat(reinit.body()).isEqualTo("reinitialize started");
        cluster.awaitHealthy(Duration.ofSeconds(90));
        assertThat(replica.logText()).contains("reinitializing this replica from leader");
    }
}

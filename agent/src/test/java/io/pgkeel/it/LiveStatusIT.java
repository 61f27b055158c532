package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 11 §5 on a real cluster: what GET /patroni and /metrics report follows PostgreSQL as it changes (replay
 * paused and resumed, the WAL senders on the leader, a parameter waiting for a restart, the last replayed
 * transaction's time), as Patroni 4.1 reports it. Each field was a constant before.
 */
@TestMethodOrder(MethodOrderer.MethodName.class)
class LiveStatusIT extends ClusterTestBase {
    private static final Duration SOON = Duration.ofSeconds(20);
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    protected String scope() {
        return "it-live-status";
    }

    private static JsonNode patroni(AgentProcess n) {
        Rest.Answer a = Rest.call(n, "GET", "/patroni", null);
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        try {
            return JSON.readTree(a.body());
        } catch (IOException e) {
            throw new AssertionError("GET /patroni on " + n.name + ": not JSON: " + a.body(), e);
        }
    }

    /** The value of an unlabelled Prometheus sample, as /metrics prints it. */
    private static double metric(AgentProcess n, String name) {
        Rest.Answer a = Rest.call(n, "GET", "/metrics", null);
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        for (String line : a.body().split("\n")) {
            if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new AssertionError("no " + name + " in /metrics of " + n.name + ":\n" + a.body());
    }

    private AgentProcess aReplica() {
        cluster.awaitHealthy(Duration.ofSeconds(90));
        AgentProcess leader = cluster.leader();
        return cluster.nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
    }

    @Test
    void a_replayPausedOnAReplicaShowsInXlogPausedAndItsMetric_untilResumed() {
        AgentProcess replica = aReplica();
        assertThat(patroni(replica).path("xlog").path("paused").asBoolean(true)).isFalse();
        Sql.execute(replica.pgPort, "SELECT pg_wal_replay_pause()");
        try {
            Await.until(SOON, "xlog.paused true on " + replica.name,
                    () -> patroni(replica).path("xlog").path("paused").asBoolean(false),
                    () -> patroni(replica).path("xlog").toString());
            assertThat(metric(replica, "patroni_xlog_paused")).isEqualTo(1.0);
        } finally {
            Sql.execute(replica.pgPort, "SELECT pg_wal_replay_resume()");
        }
        Await.until(SOON, "xlog.paused false on " + replica.name + " once resumed",
                () -> !patroni(replica).path("xlog").path("paused").asBoolean(true),
                () -> patroni(replica).path("xlog").toString());
        assertThat(metric(replica, "patroni_xlog_paused")).isEqualTo(0.0);
    }

    @Test
    void b_theLeaderListsItsWalSendersAsPatroniDoes() {
        aReplica();
        AgentProcess leader = cluster.leader();
        Set<String> replicas = new TreeSet<>();
        cluster.nodes.stream().filter(n -> n != leader).forEach(n -> replicas.add(n.name));
        // pg_stat_replication can lag the leader's snapshot by one cycle after a restart of a replica
        Await.until(SOON, "a replication row per replica on " + leader.name,
                () -> patroni(leader).path("replication").size() == replicas.size(),
                () -> patroni(leader).toString());
        JsonNode rows = patroni(leader).path("replication");
        List<String> names = new ArrayList<>();
        for (JsonNode row : rows) {
            List<String> keys = new ArrayList<>();
            row.fieldNames().forEachRemaining(keys::add);
            assertThat(keys).as("Patroni's columns, in its order").containsExactly("usename", "application_name",
                    "client_addr", "state", "sync_state", "sync_priority");
            assertThat(row.path("usename").asText()).isEqualTo("replicator");
            assertThat(row.path("client_addr").asText()).isEqualTo("127.0.0.1");
            assertThat(row.path("state").asText()).isEqualTo("streaming");
            assertThat(row.path("sync_state").asText()).isEqualTo("async");
            assertThat(row.path("sync_priority").isInt()).as(row.toString()).isTrue();
            assertThat(row.path("sync_priority").asInt()).isZero();
            names.add(row.path("application_name").asText());
        }
        assertThat(new TreeSet<>(names)).isEqualTo(replicas);
        assertThat(patroni(aReplica()).has("replication")).as("a replica without cascading has no WAL senders")
                .isFalse();
    }

    @Test
    void c_theReplayedTimestampMovesWithReplayedTransactions() {
        AgentProcess replica = aReplica();
        AgentProcess leader = cluster.leader();
        Sql.execute(leader.pgPort, "CREATE TABLE IF NOT EXISTS live_status (at timestamptz)");
        Sql.execute(leader.pgPort, "INSERT INTO live_status VALUES (now())");
        Await.until(SOON, "a replayed_timestamp on " + replica.name,
                () -> !patroni(replica).path("xlog").path("replayed_timestamp").isNull(),
                () -> patroni(replica).path("xlog").toString());
        String first = patroni(replica).path("xlog").path("replayed_timestamp").asText();
        assertThat(first).as("Python's str(datetime) with the offset's minutes")
                .matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d(\\.\\d+)?[+-]\\d\\d:\\d\\d");
        double firstMetric = metric(replica, "patroni_xlog_replayed_timestamp");
        assertThat(firstMetric).isPositive();

        Await.pause(1100);
        Sql.execute(leader.pgPort, "INSERT INTO live_status VALUES (now())");
        Await.until(SOON, "replayed_timestamp on " + replica.name + " to move past " + first,
                () -> !patroni(replica).path("xlog").path("replayed_timestamp").asText().equals(first),
                () -> patroni(replica).path("xlog").toString());
        Await.until(SOON, "patroni_xlog_replayed_timestamp to move",
                () -> metric(replica, "patroni_xlog_replayed_timestamp") > firstMetric);
    }

    @Test
    void d_aParameterWaitingForARestartShowsAsPendingRestartWithItsReasonAndMetric() {
        aReplica();
        AgentProcess leader = cluster.leader();
        Rest.Answer set = Rest.call(leader, "PATCH", "/config",
                "{\"postgresql\": {\"parameters\": {\"max_connections\": 50}}}");
        assertThat(set.status()).as(set.toString()).isEqualTo(200);
        try {
            for (AgentProcess n : cluster.nodes) {
                Await.until(SOON, "pending_restart on " + n.name,
                        () -> patroni(n).path("pending_restart").asBoolean(false), () -> patroni(n).toString());
                JsonNode reason = patroni(n).path("pending_restart_reason");
                assertThat(reason.toString()).as(n.name)
                        .isEqualTo("{\"max_connections\":{\"old_value\":\"40\",\"new_value\":\"50\"}}");
                assertThat(metric(n, "patroni_pending_restart")).as(n.name).isEqualTo(1.0);
            }
        } finally {
            Rest.call(leader, "PATCH", "/config", "{\"postgresql\": {\"parameters\": {\"max_connections\": 40}}}");
        }
        for (AgentProcess n : cluster.nodes) {
            Await.until(SOON, "no pending_restart on " + n.name + " once the value is back",
                    () -> !patroni(n).has("pending_restart") && !patroni(n).has("pending_restart_reason"),
                    () -> patroni(n).toString());
            assertThat(metric(n, "patroni_pending_restart")).as(n.name).isEqualTo(0.0);
        }
    }

    @Test
    void e_aPlannedRestartShowsInPatroniAndClusterUntilCancelled_andClusterShowsEachReplicasPositions() {
        AgentProcess replica = aReplica();
        Rest.Answer planned = Rest.post(replica, "/restart",
                "{\"schedule\": \"2099-01-01T01:00:00+00:00\", \"role\": \"replica\"}");
        assertThat(planned.status()).as(planned.toString()).isEqualTo(202);
        try {
            Await.until(SOON, "scheduled_restart in /patroni of " + replica.name,
                    () -> patroni(replica).has("scheduled_restart"), () -> patroni(replica).toString());
            assertThat(patroni(replica).path("scheduled_restart").toString())
                    .isEqualTo("{\"schedule\":\"2099-01-01T01:00:00+00:00\",\"role\":\"replica\"}");
            AgentProcess other = cluster.leader();
            Await.until(SOON, "scheduled_restart of " + replica.name + " in /cluster on " + other.name,
                    () -> clusterMember(other, replica.name).has("scheduled_restart"),
                    () -> clusterMember(other, replica.name).toString());
        } finally {
            Rest.call(replica, "DELETE", "/restart", null);
        }
        Await.until(SOON, "no scheduled_restart once cancelled", () -> !patroni(replica).has("scheduled_restart"));

        JsonNode member = clusterMember(cluster.leader(), replica.name);
        for (String field : new String[] {"receive_lsn", "replay_lsn", "lsn"}) {
            assertThat(member.path(field).asText()).as(field + " of " + member).matches("[0-9A-F]+/[0-9A-F]+");
        }
        for (String field : new String[] {"receive_lag", "replay_lag", "lag"}) {
            assertThat(member.path(field).isNumber()).as(field + " of " + member).isTrue();
        }
        assertThat(member.path("state").asText()).isEqualTo("streaming");
    }

    private static JsonNode clusterMember(AgentProcess on, String name) {
        Rest.Answer a = Rest.call(on, "GET", "/cluster", null);
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
        try {
            for (JsonNode m : JSON.readTree(a.body()).path("members")) {
                if (m.path("name").asText().equals(name)) {
                    return m;
                }
            }
        } catch (IOException e) {
            throw new AssertionError("GET /cluster: not JSON: " + a.body(), e);
        }
        throw new AssertionError("no " + name + " in /cluster: " + a.body());
    }
}

package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 12 on real processes: 3 agents with {@code synchronous_mode: on} in bootstrap.dcs, a client writing a row
 * every 20 ms and recording each acknowledged id. Whatever is killed, every acknowledged id is on the primary that
 * follows, and only a member that holds them all is ever promoted (Patroni's synchronous_mode, strict and quorum).
 * The tests run in order on one cluster: on mode, on with strict, quorum, then on again (each changed at runtime).
 */
@TestMethodOrder(MethodOrderer.MethodName.class)
class SyncReplicationIT extends ClusterTestBase {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path PATRONICTL = Path.of("/usr/bin/patronictl");
    private static final long WRITE_PERIOD_MILLIS = 20;

    @Override
    protected String scope() {
        return "it-sync";
    }

    @Override
    protected TestCluster newCluster() {
        return TestCluster.start(scope(), 3, (name, yaml) -> {
            String anchor = "    maximum_lag_on_failover: 1048576\n";
            assertThat(yaml).contains(anchor);
            return yaml.replace(anchor, anchor + "    synchronous_mode: on\n");
        });
    }

    /** The {@code sync} key as etcd holds it (Patroni's {@code {"leader", "sync_standby": "a,b", "quorum"}}). */
    record SyncKey(String leader, List<String> standbys, int quorum) {}

    private Optional<SyncKey> syncKey() {
        return cluster.etcd.get(cluster.key("sync")).map(v -> {
            try {
                JsonNode n = JSON.readTree(v);
                String standbys = n.path("sync_standby").isTextual() ? n.path("sync_standby").asText() : "";
                return new SyncKey(n.path("leader").asText(""), Arrays.stream(standbys.split(","))
                        .map(String::strip).filter(s -> !s.isEmpty()).toList(), n.path("quorum").asInt(0));
            } catch (IOException e) {
                throw new AssertionError("the sync key is not JSON: " + v, e);
            }
        });
    }

    /**
     * Waits for a healthy cluster whose sync key names the leader and its synchronous standbys (on: exactly one;
     * quorum: both replicas, quorum 1 as synchronous_node_count 1 gives), each of them shown by the leader's
     * pg_stat_replication with {@code syncState} ("sync" or "quorum").
     */
    private SyncKey awaitSynchronous(String syncState) {
        cluster.awaitHealthy(Duration.ofSeconds(120));
        Await.until(Duration.ofSeconds(60), "the sync key to name the leader's " + syncState + " standbys", () -> {
            AgentProcess leader = cluster.leader();
            SyncKey k = syncKey().orElse(null);
            if (k == null || !k.leader().equals(leader.name)) {
                return false;
            }
            boolean shape = syncState.equals("sync") ? k.standbys().size() == 1 && k.quorum() == 0
                    : new HashSet<>(k.standbys()).equals(names(replicasOf(leader))) && k.quorum() == 1;
            return shape && k.standbys().stream().allMatch(s -> syncState.equals(Sql.queryString(leader.pgPort,
                    "SELECT sync_state FROM pg_stat_replication WHERE application_name = '" + s + "'")));
        }, this::describeSync);
        return syncKey().orElseThrow();
    }

    private String describeSync() {
        String ssn = cluster.leaderName().map(l -> {
            try {
                return Sql.queryString(cluster.node(l).pgPort, "SELECT current_setting('synchronous_standby_names')"
                        + " || ' / ' || coalesce((SELECT string_agg(application_name || '=' || sync_state, ',')"
                        + " FROM pg_stat_replication), '')");
            } catch (IllegalStateException e) {
                return e.getMessage();
            }
        }).orElse("no leader");
        return cluster.describe() + ", sync key " + cluster.etcd.get(cluster.key("sync")).orElse("none")
                + ", synchronous_standby_names / pg_stat_replication on the leader: " + ssn;
    }

    private List<AgentProcess> replicasOf(AgentProcess leader) {
        return cluster.nodes.stream().filter(n -> n != leader).toList();
    }

    private static Set<String> names(List<AgentProcess> nodes) {
        return nodes.stream().map(n -> n.name).collect(Collectors.toSet());
    }

    /** Every leader key holder but {@code gone} (null: none left out), in order, until one runs as primary. */
    private List<String> awaitNewLeader(AgentProcess gone, Duration timeout) {
        Set<String> holders = new LinkedHashSet<>();
        Await.until(timeout, "a new leader running as primary", () -> {
            Optional<String> l = cluster.leaderName().filter(n -> gone == null || !n.equals(gone.name));
            l.ifPresent(holders::add);
            return l.isPresent() && Sql.isPrimary(cluster.node(l.get()).pgPort)
                    && cluster.leaderName().equals(l);
        }, () -> describeSync() + ", holders seen " + holders);
        return new ArrayList<>(holders);
    }

    /** Every id the writer has been acknowledged so far is in {@code table} on {@code primary}. */
    private static void assertNoAcknowledgedRowLost(Writer w, AgentProcess primary, String table) {
        List<Long> acked = w.acknowledged();
        Set<Long> present = ids(primary.pgPort, table);
        List<Long> lost = acked.stream().filter(id -> !present.contains(id)).toList();
        System.out.printf("%d acknowledged ids, %d on %s, %d lost%n", acked.size(), present.size(), primary.name,
                lost.size());
        assertThat(acked).as("the writer was acknowledged rows").isNotEmpty();
        assertThat(lost).as("acknowledged ids missing from " + primary.name).isEmpty();
    }

    private static Set<Long> ids(int port, String table) {
        String all = Sql.queryString(port, "SELECT coalesce(string_agg(id::text, ','), '') FROM " + table);
        return Arrays.stream(all.split(",")).filter(s -> !s.isEmpty()).map(Long::parseLong)
                .collect(Collectors.toSet());
    }

    private void patch(String json) {
        Rest.Answer a = Rest.call(cluster.leader(), "PATCH", "/config", json);
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
    }

    /** Kill -9 of the agent, then of its PostgreSQL: a crash of the whole node. */
    private static void crash(AgentProcess n) {
        n.kill9();
        n.killPostgresTree();
    }

    @Test
    void a_patronictlListShowsTheSynchronousStandby() throws IOException {
        SyncKey sync = awaitSynchronous("sync");
        Host.requireExecutable(PATRONICTL, "patroni");
        Path config = cluster.dir.resolve("patronictl.yml");
        Files.writeString(config, "scope: " + scope() + "\nnamespace: /service/\netcd3:\n  hosts: "
                + cluster.etcd.endpoint() + "\n");
        CliRun.Result r = CliRun.run(List.of(PATRONICTL.toString(), "-c", config.toString(), "list"), null,
                Map.of("HOME", cluster.dir.toString()));
        assertThat(r.exit()).as(r.toString()).isZero();
        String standby = sync.standbys().get(0);
        assertThat(r.out()).as(r.toString())
                .containsPattern("\\| " + standby + "\\s+\\|[^\\n]*\\| Sync Standby \\|")
                .containsPattern("\\| " + cluster.leaderName().orElseThrow() + "\\s+\\|[^\\n]*\\| Leader\\s+\\|");
        assertThat(r.out().lines().filter(l -> l.contains("| Replica ")).count()).as(r.out()).isEqualTo(1);
    }

    /** (a): three crashes of the primary; each time the member the sync key named takes over, with every row. */
    @Test
    void b_eachCrashOfThePrimaryPromotesTheSyncStandbyTheKeyNamed_andLosesNoAcknowledgedRow() {
        awaitSynchronous("sync");
        try (Writer w = new Writer(cluster.nodes, "sync_crashes", WRITE_PERIOD_MILLIS)) {
            for (int round = 1; round <= 3; round++) {
                awaitSynchronous("sync");
                int before = w.count();
                Await.until(Duration.ofSeconds(20), "25 acknowledged rows", () -> w.count() >= before + 25);
                AgentProcess old = cluster.leader();
                SyncKey named = syncKey().orElseThrow(); // right before the kill
                assertThat(named.leader()).isEqualTo(old.name);
                assertThat(named.standbys()).hasSize(1);
                long killedAt = System.nanoTime();
                crash(old);
                List<String> holders = awaitNewLeader(old, Duration.ofSeconds(TestCluster.TTL + 30));
                System.out.printf("round %d: kill -9 of %s (sync key %s) -> %s leads after %.1f s%n", round, old.name,
                        named, holders, (System.nanoTime() - killedAt) / 1e9);
                assertThat(holders).as("the leader key holders after the crash of " + old.name)
                        .containsExactly(named.standbys().get(0));
                assertNoAcknowledgedRowLost(w, cluster.node(holders.get(0)), "sync_crashes");
                cluster.startAgent(old);
            }
        }
        cluster.awaitHealthy(Duration.ofSeconds(120));
    }

    /** (b): on mode; the async replica is the one the sync key does not name. */
    @Test
    void c_onMode_theLaggingAsyncReplicaIsNotPromotedWhenThePrimaryAndTheSyncStandbyDie_andNothingIsLost() {
        SyncKey sync = awaitSynchronous("sync");
        AgentProcess primary = cluster.leader();
        AgentProcess standby = cluster.node(sync.standbys().get(0));
        AgentProcess async = replicasOf(primary).stream().filter(n -> n != standby).findFirst().orElseThrow();
        lagThenLoseThePrimaryAndItsStandby(primary, standby, async, "sync_lag_on");
    }

    /**
     * The primary's WAL sender to {@code lagging} is frozen (SIGSTOP) while the writer goes on, then the primary and
     * {@code standby} crash together: {@code lagging} misses acknowledged rows, so it must not be promoted, for
     * 3 x ttl; once the two return, one of them leads with every acknowledged row.
     */
    private void lagThenLoseThePrimaryAndItsStandby(AgentProcess primary, AgentProcess standby,
                                                    AgentProcess lagging, String table) {
        try (Writer w = new Writer(cluster.nodes, table, WRITE_PERIOD_MILLIS)) {
            Await.until(Duration.ofSeconds(20), "the table and a first row on " + lagging.name, () -> Long.parseLong(
                    Sql.queryString(lagging.pgPort, "SELECT count(*) FROM " + table)) > 0);
            long walSender = Long.parseLong(Sql.queryString(primary.pgPort, "SELECT pid FROM pg_stat_replication"
                    + " WHERE application_name = '" + lagging.name + "'"));
            Host.signal(walSender, "STOP");
            SyncKey atKill;
            try {
                int before = w.count();
                Await.until(Duration.ofSeconds(20), "50 rows acknowledged while " + lagging.name + " lags",
                        () -> w.count() >= before + 50, this::describeSync);
                List<Long> acked = w.acknowledged();
                long laggingMax = Long.parseLong(Sql.queryString(lagging.pgPort,
                        "SELECT coalesce(max(id), 0) FROM " + table));
                assertThat(laggingMax).as(lagging.name + " misses acknowledged rows (it lags)")
                        .isLessThan(acked.get(acked.size() - 1));
                atKill = syncKey().orElseThrow();
                crash(primary);
                crash(standby);
            } finally {
                if (ProcessHandle.of(walSender).isPresent()) {
                    Host.signal(walSender, "CONT");
                }
            }
            long killedAt = System.nanoTime();
            System.out.printf("%s and %s crashed; %s lags; sync key %s%n", primary.name, standby.name, lagging.name,
                    atKill);
            long end = killedAt + TimeUnit.SECONDS.toNanos(3L * TestCluster.TTL);
            Set<String> roles = new HashSet<>();
            while (System.nanoTime() - end < 0) {
                assertThat(cluster.leaderName()).as("the leader key, " + lagging.name + " lagging")
                        .isNotEqualTo(Optional.of(lagging.name));
                Rest.Answer status = Rest.call(lagging, "GET", "/patroni", null);
                String role = readTree(status.body()).path("role").asText();
                roles.add(role);
                assertThat(role).as(lagging.name + "'s /patroni role: " + status).isNotIn("master", "primary",
                        "standby_leader");
                assertThat(Sql.isPrimary(lagging.pgPort)).as(lagging.name + " promoted").isFalse();
                Await.pause(500);
            }
            System.out.printf("%s not promoted for %d s (roles seen %s); %s%n", lagging.name, 3 * TestCluster.TTL,
                    roles, describeSync());

            cluster.startAgent(primary);
            cluster.startAgent(standby);
            // Any member may lead now, the lagging one too: it still points at the old primary, which comes back as
            // a standby and serves it the WAL it missed (cascading replication), so it can be as far as anyone when
            // the race starts (two full runs saw it win that way). What must hold: whoever leads has every row.
            List<String> holders = awaitNewLeader(null, Duration.ofSeconds(90));
            System.out.printf("after %s and %s returned: %s lead%n", primary.name, standby.name, holders);
            assertNoAcknowledgedRowLost(w, cluster.node(holders.get(holders.size() - 1)), table);
        }
        cluster.awaitHealthy(Duration.ofSeconds(120));
    }

    private static JsonNode readTree(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + json, e);
        }
    }

    /** (d): on mode with synchronous_mode_strict; both replicas stop, a commit waits, and goes through on the return. */
    @Test
    void d_strictMode_aCommitWaitsWhileBothReplicasAreDown_noFailover_andCompletesWhenOneReturns() throws Exception {
        patch("{\"synchronous_mode_strict\": true}");
        Await.until(Duration.ofSeconds(20), "synchronous_mode_strict in the config key", () -> cluster.etcd
                .get(cluster.key("config")).map(v -> v.matches("(?s).*\"synchronous_mode_strict\":\\s*true.*")).orElse(false));
        SyncKey sync = awaitSynchronous("sync");
        Await.pause(3000); // every agent has read the config key
        AgentProcess leader = cluster.leader();
        Sql.execute(leader.pgPort, "CREATE TABLE IF NOT EXISTS sync_strict (id bigint PRIMARY KEY)");
        AgentProcess named = cluster.node(sync.standbys().get(0));
        AgentProcess other = replicasOf(leader).stream().filter(n -> n != named).findFirst().orElseThrow();
        // the unnamed one first: the sync key goes on naming the other, and the commit waits for that one
        crash(other);
        crash(named);

        CompletableFuture<Void> write = CompletableFuture.runAsync(() -> insertWithoutTimeout(leader.pgPort,
                "INSERT INTO sync_strict VALUES (1)"));
        try {
            Await.pause(5000);
            assertThat(write).as("a commit with no replica up, strict").isNotDone();
            // the replicas' member keys expire with their lease: the leader no longer sees them at all
            Await.until(Duration.ofSeconds(3L * TestCluster.TTL), "the replicas' member keys to expire", () -> cluster.etcd
                    .get(cluster.key("members/" + named.name)).isEmpty() && cluster.etcd
                    .get(cluster.key("members/" + other.name)).isEmpty());
            Await.pause(2000);
            assertThat(write).as("a commit with no replica up and none known, strict; " + describeSync())
                    .isNotDone();
            assertThat(cluster.leaderName()).as("no failover").contains(leader.name);
            assertThat(Sql.isPrimary(leader.pgPort)).as(leader.name + " still runs as primary").isTrue();
            System.out.println("commit waiting, replicas down: " + describeSync());

            // the replica the sync key did not name returns: the leader must move the wait to it
            cluster.startAgent(other);
            write.get(90, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("the waiting commit did not complete after " + other.name + " returned; "
                    + describeSync(), e);
        } catch (ExecutionException e) {
            throw new AssertionError("the waiting commit failed; " + describeSync(), e.getCause());
        }
        assertThat(cluster.leaderName()).as("no failover").contains(leader.name);
        assertThat(Sql.queryString(leader.pgPort, "SELECT count(*) FROM sync_strict")).isEqualTo("1");
        Await.until(Duration.ofSeconds(20), "the row on " + other.name, () -> "1".equals(Sql.queryString(
                other.pgPort, "SELECT count(*) FROM sync_strict")));
        cluster.awaitHealthy(Duration.ofSeconds(120));
        patch("{\"synchronous_mode_strict\": null}");
        Await.until(Duration.ofSeconds(20), "synchronous_mode_strict gone from the config key", () -> cluster.etcd
                .get(cluster.key("config")).map(v -> !v.contains("synchronous_mode_strict")).orElse(false));
    }

    /** (c): quorum mode (set at runtime); both replicas are voters (ANY 1), one lags, the other dies with the primary. */
    @Test
    void e_quorumMode_theLaggingVoterIsNotPromotedWhenThePrimaryAndTheOtherVoterDie_andNothingIsLost() {
        patch("{\"synchronous_mode\": \"quorum\"}");
        SyncKey sync = awaitSynchronous("quorum");
        AgentProcess primary = cluster.leader();
        List<AgentProcess> voters = sync.standbys().stream().map(cluster::node).toList();
        lagThenLoseThePrimaryAndItsStandby(primary, voters.get(1), voters.get(0), "sync_lag_quorum");
    }

    /**
     * Back from quorum to on at runtime, from a quorum of one voter (the other replica crashed): in on mode
     * synchronous_standby_names is FIRST again and pg_stat_replication says "sync", as Patroni 4.1 rewrites an ANY
     * value in on mode (ha.py _process_multisync_replication: "ANY -> FIRST"), even when it names one standby.
     */
    @Test
    void f_backFromAQuorumOfOneToOnMode_synchronousStandbyNamesIsFirstAgain() {
        SyncKey quorum = awaitSynchronous("quorum"); // e_ left quorum mode on
        AgentProcess leader = cluster.leader();
        AgentProcess gone = cluster.node(quorum.standbys().get(0));
        AgentProcess kept = cluster.node(quorum.standbys().get(1));
        crash(gone);
        Await.until(Duration.ofSeconds(30), "a quorum of " + kept.name + " alone", () -> syncKey()
                .equals(Optional.of(new SyncKey(leader.name, List.of(kept.name), 0))) && Sql.queryString(
                leader.pgPort, "SHOW synchronous_standby_names").matches("(ANY 1 \\()?\"?" + kept.name + "\"?\\)?"),
                this::describeSync);
        System.out.println("quorum of one: " + describeSync());
        patch("{\"synchronous_mode\": true}");
        cluster.startAgent(gone);
        SyncKey sync = awaitSynchronous("sync");
        assertThat(Sql.queryString(cluster.leader().pgPort, "SHOW synchronous_standby_names"))
                .as("synchronous_standby_names in on mode").doesNotStartWith("ANY");
        assertThat(sync.quorum()).isZero();
    }

    /** A statement on its own connection with no socket timeout: it waits as long as PostgreSQL makes it wait. */
    private static void insertWithoutTimeout(int port, String sql) {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("password", Sql.PASSWORD);
        p.setProperty("connectTimeout", "2");
        p.setProperty("sslmode", "disable");
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p);
             Statement st = c.createStatement()) {
            st.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("port " + port + ": " + e.getMessage(), e);
        }
    }
}

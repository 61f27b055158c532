package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Real etcd + 3 agents + 3 real PostgreSQL on loopback (ttl 10, loop_wait 1, retry_timeout 4). Each test starts
 * from a healthy cluster: 1 primary holding the leader key and 2 streaming replicas.
 */
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.MethodName.class)
class HaClusterIT extends ClusterTestBase {
    @Override
    protected String scope() {
        return "it-ha";
    }

    @BeforeEach
    void healthy() {
        cluster.awaitHealthy(Duration.ofSeconds(90));
    }

    @Test
    void a_bootstrapsOnePrimaryAndTwoStreamingReplicas_andARowWrittenOnThePrimaryIsReadOnBoth() {
        AgentProcess primary = cluster.leader();
        assertThat(cluster.writablePrimaries()).containsExactly(primary);
        assertThat(cluster.etcd.get(cluster.key("initialize"))).hasValueSatisfying(v -> assertThat(v).matches("\\d+"));
        assertThat(cluster.etcd.get(cluster.key("config"))).hasValueSatisfying(v -> assertThat(v).contains("\"ttl\":10"));
        for (AgentProcess n : cluster.nodes) {
            assertThat(cluster.etcd.get(cluster.key("members/" + n.name)))
                    .hasValueSatisfying(v -> assertThat(v).contains("\"api_url\":\"http://127.0.0.1:" + n.apiPort + "/patroni\""));
        }

        Sql.execute(primary.pgPort, "CREATE TABLE IF NOT EXISTS bootstrap_check (id int PRIMARY KEY, note text)");
        Sql.execute(primary.pgPort, "INSERT INTO bootstrap_check VALUES (1, 'written on the primary')");
        for (AgentProcess replica : replicas(primary)) {
            Await.until(Duration.ofSeconds(20), "the row on " + replica.name, () -> "written on the primary".equals(
                    Sql.queryString(replica.pgPort, "SELECT note FROM bootstrap_check WHERE id = 1")));
            assertThat(Sql.tryExecute(replica.pgPort, "INSERT INTO bootstrap_check VALUES (2, 'x')"))
                    .as("a replica refuses writes").isFalse();
        }
    }

    @Test
    void b_killOfPrimaryAgentAndPostmaster_promotesAnother_thirdFollows_andTheDivergedOldPrimaryRejoinsThroughRewind() {
        AgentProcess old = cluster.leader();
        Sql.execute(old.pgPort, "CREATE TABLE IF NOT EXISTS crash_check (id int PRIMARY KEY, note text)");
        Sql.execute(old.pgPort, "INSERT INTO crash_check VALUES (1, 'before the crash')");
        for (AgentProcess r : replicas(old)) {
            Await.until(Duration.ofSeconds(20), "row 1 on " + r.name,
                    () -> "1".equals(Sql.queryString(r.pgPort, "SELECT count(*) FROM crash_check")));
        }
        // Make the old primary diverge: freeze its WAL senders, commit a row only it has, then crash it whole.
        List<Long> walsenders = List.of(Sql.queryString(old.pgPort,
                "SELECT string_agg(pid::text, ',') FROM pg_stat_replication").split(",")).stream()
                .map(Long::parseLong).toList();
        walsenders.forEach(pid -> Host.signal(pid, "STOP"));
        Sql.execute(old.pgPort, "INSERT INTO crash_check VALUES (2, 'only on the old primary')");
        long killedAt = System.nanoTime();
        old.kill9();
        old.killPostgresTree();

        AgentProcess[] next = {cluster.awaitFirstWriterOtherThan(old, "INSERT INTO crash_check VALUES (3, 'after failover')",
                Duration.ofSeconds(TestCluster.TTL + 20))};
        double seconds = (System.nanoTime() - killedAt) / 1e9;
        System.out.printf("kill -9 of %s -> first write on %s: %.2f s%n", old.name, next[0].name, seconds);
        assertThat(seconds).as("failover bounded by ttl plus a few seconds").isLessThan(TestCluster.TTL + 5);
        assertThat(cluster.leaderName()).hasValue(next[0].name);
        Await.until(Duration.ofSeconds(10), "the history key to record the promotion of " + next[0].name,
                () -> cluster.etcd.get(cluster.key("history")).map(h -> h.contains("\"" + next[0].name + "\"]"))
                        .orElse(false), () -> cluster.etcd.get(cluster.key("history")).orElse("none"));

        AgentProcess third = replicas(old).stream().filter(n -> n != next[0]).findFirst().orElseThrow();
        Await.until(Duration.ofSeconds(30), third.name + " streaming from " + next[0].name, () -> "1".equals(
                Sql.queryString(next[0].pgPort, "SELECT count(*) FROM pg_stat_replication WHERE application_name = '"
                        + third.name + "' AND state = 'streaming'")));
        Await.until(Duration.ofSeconds(20), "row 3 on " + third.name,
                () -> "after failover".equals(Sql.queryString(third.pgPort, "SELECT note FROM crash_check WHERE id = 3")));

        cluster.startAgent(old);
        Await.until(Duration.ofSeconds(60), old.name + " streaming from " + next[0].name, () -> "1".equals(
                Sql.queryString(next[0].pgPort, "SELECT count(*) FROM pg_stat_replication WHERE application_name = '"
                        + old.name + "' AND state = 'streaming'")), cluster::describe);
        assertThat(old.logText()).as("the old primary went through pg_rewind").contains("pg_rewind: Done!");
        Sql.execute(next[0].pgPort, "INSERT INTO crash_check VALUES (4, 'after rejoin')");
        Await.until(Duration.ofSeconds(20), "row 4 on the rejoined node",
                () -> "after rejoin".equals(Sql.queryString(old.pgPort, "SELECT note FROM crash_check WHERE id = 4")));
        assertThat(Sql.queryString(old.pgPort, "SELECT count(*) FROM crash_check WHERE id = 2"))
                .as("the diverged row was rewound away").isEqualTo("0");
        assertThat(Sql.isPrimary(old.pgPort)).isFalse();
    }

    @Test
    void c_sigtermOfTheLeaderAgent_handsOverWithinThreeSeconds() {
        AgentProcess old = cluster.leader();
        Sql.execute(old.pgPort, "CREATE TABLE IF NOT EXISTS handover_check (id serial PRIMARY KEY, note text)");
        long sentAt = System.nanoTime();
        Host.signal(old.pid(), "TERM");
        AgentProcess[] next = {cluster.awaitFirstWriterOtherThan(old,
                "INSERT INTO handover_check (note) VALUES ('after handover')", Duration.ofSeconds(30))};
        double seconds = (System.nanoTime() - sentAt) / 1e9;
        System.out.printf("SIGTERM of %s -> first write on %s: %.2f s%n", old.name, next[0].name, seconds);
        assertThat(seconds).isLessThan(3.0);
        old.terminate(Duration.ofSeconds(30));
        assertThat(old.logText()).contains("released the leader key after a clean stop");
        assertThat(old.postmasterPid()).as("postgres of the stopped agent is down").isEmpty();
    }

    @Test
    void e_killedPostmasterOfThePrimary_isRestartedInPlaceOnTheSameTimeline() {
        AgentProcess leader = cluster.leader();
        String timeline = Sql.queryString(leader.pgPort, "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)");
        long postmaster = leader.postmasterPid().orElseThrow();
        Host.signal(postmaster, "KILL");
        long killedAt = System.nanoTime();
        Await.until(Duration.ofSeconds(60), leader.name + " to accept writes again",
                () -> Sql.tryExecute(leader.pgPort, "SELECT txid_current()") && Sql.isPrimary(leader.pgPort));
        System.out.printf("postmaster kill on %s -> writable again: %.2f s%n", leader.name,
                (System.nanoTime() - killedAt) / 1e9);
        assertThat(leader.postmasterPid()).isPresent().isNotEqualTo(java.util.OptionalLong.of(postmaster));
        assertThat(cluster.leaderName()).hasValue(leader.name);
        assertThat(Sql.queryString(leader.pgPort, "SELECT substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8)"))
                .as("no timeline change").isEqualTo(timeline);
        assertThat(leader.logText()).contains("starting primary after failure");
    }

    @Test
    void f2_sighupAppliesNewParametersAndTagsWithoutARestart() throws Exception {
        AgentProcess replica = cluster.nodes.stream().filter(n -> !n.name.equals(cluster.leaderName().orElse("")))
                .findFirst().orElseThrow();
        long postmaster = replica.postmasterPid().orElseThrow();
        String yaml = java.nio.file.Files.readString(replica.config);
        java.nio.file.Files.writeString(replica.config, yaml.replace("    shared_buffers: 16MB\n",
                "    shared_buffers: 16MB\n    work_mem: 7MB\n") + "tags:\n  zone: east\n");
        Host.signal(replica.pid(), "HUP");
        Await.until(Duration.ofSeconds(20), "work_mem reloaded on " + replica.name,
                () -> "7MB".equals(Sql.queryString(replica.pgPort, "SHOW work_mem")));
        Await.until(Duration.ofSeconds(20), "the new tag in the member key", () -> cluster.etcd
                .get(cluster.key("members/" + replica.name)).map(v -> v.contains("\"zone\":\"east\"")).orElse(false));
        assertThat(replica.postmasterPid()).as("no restart").hasValue(postmaster);
        assertThat(Sql.queryString(replica.pgPort, "SELECT status FROM pg_stat_wal_receiver"))
                .as("still streaming from the same primary after the reload").isEqualTo("streaming");
        java.nio.file.Files.writeString(replica.config, yaml);
        Host.signal(replica.pid(), "HUP");
    }

    /**
     * After bootstrap, clones, a crash with pg_rewind, a handover, a postmaster restart and a reload: no agent log line
     * carries a password (the superuser's, the replication user's) or a connection string with one.
     */
    @Test
    void z_noSecretInAnyAgentLog() {
        for (AgentProcess n : cluster.nodes) {
            String log = n.logText();
            assertThat(log).as(n.name + "'s log").isNotBlank().doesNotContain(Sql.PASSWORD).doesNotContain(Sql.REPLICATION_PASSWORD)
                    .doesNotContainPattern("(?i)password\\s*=\\s*\\S");
        }
    }

    private List<AgentProcess> replicas(AgentProcess primary) {
        return cluster.nodes.stream().filter(n -> n != primary).toList();
    }
}

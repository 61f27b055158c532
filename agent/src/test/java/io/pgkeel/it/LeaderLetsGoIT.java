package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Issue 11 §8 and §9 on a real cluster: a leader that cannot run its PostgreSQL lets go after primary_start_timeout;
 * a failed pg_rewind keeps the data directory unless the operator allows removing it; a second agent under a live
 * member's name refuses to start; a switchover abandoned in pause leaves the old leader running as primary.
 *
 * <p>Every node's bin_dir is a directory of links to PostgreSQL's tools whose pg_rewind fails while the file
 * {@code fail-rewind} exists in it (a pg_rewind that fails for real needs a corrupted cluster).
 */
@TestMethodOrder(MethodOrderer.MethodName.class)
class LeaderLetsGoIT extends ClusterTestBase {
    private final Path binDir = Host.tempDir("pgkeel-it-bin-");

    @Override
    protected String scope() {
        return "it-lets-go";
    }

    @Override
    protected TestCluster newCluster() {
        Path real = Host.pgBinDir();
        try (Stream<Path> tools = Files.list(real)) {
            for (Path tool : tools.toList()) {
                if (!tool.getFileName().toString().equals("pg_rewind")) {
                    Files.createSymbolicLink(binDir.resolve(tool.getFileName()), tool);
                }
            }
            Path rewind = binDir.resolve("pg_rewind");
            Files.writeString(rewind, "#!/bin/sh\nif [ -e '" + binDir.resolve("fail-rewind") + "' ]; then\n"
                    + "  echo 'pg_rewind: error: could not find common ancestor (simulated by the test)' >&2\n"
                    + "  exit 1\nfi\nexec '" + real.resolve("pg_rewind") + "' \"$@\"\n");
            Files.setPosixFilePermissions(rewind, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.setPosixFilePermissions(binDir, PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return TestCluster.start(scope(), 3, (name, yaml) -> hbaInTheConfigKey(
                yaml.replace("bin_dir: " + real, "bin_dir: " + binDir)));
    }

    private static final String HBA = """
              - local all all trust
              - host all all 127.0.0.1/32 scram-sha-256
              - host replication replicator 127.0.0.1/32 scram-sha-256
            """;

    /** pg_hba where Patroni's postgres0.yml has it, in bootstrap.dcs.postgresql, and none in the local section. */
    private static String hbaInTheConfigKey(String yaml) {
        String local = "  pg_hba:\n" + HBA.lines().map(l -> "    " + l.strip() + "\n").reduce("", String::concat);
        String dynamic = "      pg_hba:\n" + HBA.lines().map(l -> "        " + l.strip() + "\n")
                .reduce("", String::concat);
        assertThat(yaml).contains(local).contains("    postgresql:\n      use_pg_rewind: true\n");
        return yaml.replace(local, "").replace("    postgresql:\n      use_pg_rewind: true\n",
                "    postgresql:\n" + dynamic + "      use_pg_rewind: true\n");
    }

    @AfterAll
    void removeBinDir() {
        Host.deleteTree(binDir);
    }

    private AgentProcess replicaOtherThan(AgentProcess leader) {
        return cluster.nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
    }

    private void patch(AgentProcess node, String json) {
        Rest.Answer a = Rest.call(node, "PATCH", "/config", json);
        assertThat(a.status()).as(a.toString()).isEqualTo(200);
    }

    @Test
    void a_anAgentStartedUnderTheNameOfALiveMemberRefusesToStart() {
        cluster.awaitHealthy(Duration.ofSeconds(90));
        AgentProcess live = cluster.nodes.get(1);
        AgentProcess twin = cluster.extraNode("twin", live.name);
        twin.start();
        OptionalInt exit = twin.awaitExit(Duration.ofSeconds(60));
        assertThat(exit).as("the twin exits by itself").isPresent();
        assertThat(exit.getAsInt()).isEqualTo(1);
        assertThat(twin.logText()).contains("Can't start; there is already a node named '" + live.name + "' running");
        assertThat(cluster.isHealthy()).as("the live member was not disturbed").isTrue();
    }

    @Test
    void b_aLeaderWhosePostgresWillNotStartReleasesTheKeyAfterPrimaryStartTimeout() throws IOException {
        cluster.awaitHealthy(Duration.ofSeconds(90));
        AgentProcess leader = cluster.leader();
        patch(leader, "{\"primary_start_timeout\": 3}");
        Await.pause(2000); // every agent has read it
        // the postmaster dies and something else takes its port: PostgreSQL cannot start again ("could not bind")
        try (ServerSocket squatter = new ServerSocket()) {
            leader.killPostgresTree();
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (!squatter.isBound()) {
                try {
                    squatter.bind(new InetSocketAddress("127.0.0.1", leader.pgPort));
                } catch (IOException e) {
                    if (System.nanoTime() - deadline > 0) {
                        throw e;
                    }
                    Await.pause(5);
                }
            }
            long downAt = System.nanoTime();
            Await.until(Duration.ofSeconds(60), "another member to hold the leader key",
                    () -> cluster.leaderName().filter(l -> !l.equals(leader.name)).isPresent(), cluster::describe);
            System.out.printf("leader key released %.1f s after the postmaster died (primary_start_timeout 3 s)%n",
                    (System.nanoTime() - downAt) / 1e9);
            AgentProcess successor = cluster.node(cluster.leaderName().orElseThrow());
            Await.until(Duration.ofSeconds(30), successor.name + " to take writes",
                    () -> Sql.tryExecute(successor.pgPort, "CREATE TABLE IF NOT EXISTS after_start_timeout (x int)"));
            assertThat(leader.logText()).contains("primary_start_timeout 3 s").contains("can take over");
        }
        cluster.awaitHealthy(Duration.ofSeconds(120)); // the port is free again: the old leader rejoins
        patch(cluster.leader(), "{\"primary_start_timeout\": null}");
    }

    @Test
    void c_aFailedPgRewindKeepsTheDataDirectoryUnlessRemovalIsAllowed() throws IOException {
        cluster.awaitHealthy(Duration.ofSeconds(90));
        AgentProcess old = cluster.leader();
        Path marker = binDir.resolve("fail-rewind");
        Files.writeString(marker, "");
        try {
            old.kill9();
            old.killPostgresTree();
            Await.until(Duration.ofSeconds(60), "a new leader", () -> cluster.leaderName()
                    .filter(l -> !l.equals(old.name)).isPresent(), cluster::describe);
            old.start();
            Await.until(Duration.ofSeconds(60), old.name + " to report the failed pg_rewind",
                    () -> old.logText().contains("remove_data_directory_on_rewind_failure is off"));
            Await.pause(3000); // several more cycles
            assertThat(old.dataDir().resolve("PG_VERSION")).as("Patroni's default: the data directory is kept")
                    .exists();
            assertThat(old.postmasterPid()).as("and not started as it is").isEmpty();

            // the operator allows it: the directory is removed and cloned anew from the leader
            patch(cluster.leader(), "{\"postgresql\": {\"remove_data_directory_on_rewind_failure\": true}}");
            cluster.awaitHealthy(Duration.ofSeconds(120));
            assertThat(old.logText()).contains("remove_data_directory_on_rewind_failure is on");
        } finally {
            Files.deleteIfExists(marker);
        }
        patch(cluster.leader(), "{\"postgresql\": {\"remove_data_directory_on_rewind_failure\": null}}");
    }

    /**
     * §9: in pause, a switchover to a replica that cannot receive the leader's shutdown checkpoint (its WAL receiver
     * frozen with SIGSTOP, so it still looks healthy) is abandoned; the old leader must keep the key and run as
     * primary again, not release the key and leave the cluster without one.
     */
    @Test
    void d_inPauseASwitchoverThatCannotCompleteLeavesTheOldLeaderRunningAsPrimary() {
        cluster.awaitHealthy(Duration.ofSeconds(90));
        AgentProcess leader = cluster.leader();
        AgentProcess candidate = replicaOtherThan(leader);
        // the stop of the leader waits for its WAL senders; with the receiver frozen, wal_sender_timeout bounds it
        patch(leader, "{\"pause\": true, \"postgresql\": {\"parameters\": {\"wal_sender_timeout\": \"3s\"}}}");
        Await.until(Duration.ofSeconds(20), "wal_sender_timeout 3s on the leader",
                () -> "3s".equals(Sql.queryString(leader.pgPort, "SHOW wal_sender_timeout")));
        long receiver = Long.parseLong(Sql.queryString(candidate.pgPort, "SELECT pid FROM pg_stat_wal_receiver"));
        Host.signal(receiver, "STOP");
        try {
            Rest.Answer a = Rest.post(leader, "/switchover",
                    "{\"leader\": \"" + leader.name + "\", \"candidate\": \"" + candidate.name + "\"}");
            System.out.println("switchover answer: " + a);
            Await.until(Duration.ofSeconds(60), leader.name + " to give the switchover up",
                    () -> leader.logText().contains("the switchover is abandoned"));
            Await.until(Duration.ofSeconds(30), leader.name + " to run as primary again, holding the key",
                    () -> cluster.leaderName().equals(java.util.Optional.of(leader.name))
                            && Sql.tryExecute(leader.pgPort, "CREATE TABLE IF NOT EXISTS after_abandon (x int)"),
                    cluster::describe);
            Await.pause(3000);
            assertThat(cluster.leaderName()).as("it keeps the key").contains(leader.name);
            assertThat(Sql.isPrimary(leader.pgPort)).isTrue();
        } finally {
            Host.signal(receiver, "CONT");
        }
        patch(leader, "{\"pause\": null, \"postgresql\": {\"parameters\": {\"wal_sender_timeout\": null}}}");
        cluster.awaitHealthy(Duration.ofSeconds(90));
    }

    /** §9 as reported: in pause, a switchover requested just after the candidate's postmaster was killed. */
    @Test
    void e_inPauseASwitchoverToAReplicaWhosePostmasterWasJustKilledLeavesAPrimary() {
        cluster.awaitHealthy(Duration.ofSeconds(90));
        AgentProcess leader = cluster.leader();
        AgentProcess candidate = replicaOtherThan(leader);
        patch(leader, "{\"pause\": true}");
        Await.pause(2000);
        candidate.killPostgresTree();
        Rest.Answer a = Rest.post(leader, "/switchover",
                "{\"leader\": \"" + leader.name + "\", \"candidate\": \"" + candidate.name + "\"}");
        System.out.println("switchover answer: " + a);
        Await.pause(8000); // longer than a handover may wait (5 s)
        Await.until(Duration.ofSeconds(30), leader.name + " running as primary, holding the key",
                () -> cluster.leaderName().equals(java.util.Optional.of(leader.name))
                        && Sql.tryExecute(leader.pgPort, "CREATE TABLE IF NOT EXISTS after_killed_candidate (x int)"),
                cluster::describe);
        patch(leader, "{\"pause\": null}");
        cluster.awaitHealthy(Duration.ofSeconds(90));
    }

    /**
     * A cluster moved onto pgkeel with a safety setting pgkeel cannot honour yet (standby_cluster) in the DCS config
     * key (written by patronictl or another tool): a starting agent stops with the key named, as the same setting in
     * its YAML does.
     */
    @Test
    void a2_anAgentStartingWhileTheConfigKeyAsksForARefusedSafetySettingRefusesToStart() {
        cluster.awaitHealthy(Duration.ofSeconds(90));
        String key = cluster.key("config");
        String before = cluster.etcd.get(key).orElseThrow();
        cluster.etcd.put(key, before.replaceFirst("^\\{", "{\"standby_cluster\": {\"host\": \"10.0.0.9\"}, "));
        try {
            AgentProcess newcomer = cluster.extraNode("newcomer", "node9");
            newcomer.start();
            OptionalInt exit = newcomer.awaitExit(Duration.ofSeconds(60));
            assertThat(exit).as("the newcomer exits by itself").isPresent();
            assertThat(exit.getAsInt()).isEqualTo(1);
            assertThat(newcomer.logText()).contains("the DCS config key " + key + " asks for what pgkeel cannot"
                    + " honour yet: config.standby_cluster = {host=10.0.0.9}");
            assertThat(newcomer.dataDir()).as("nothing was touched").doesNotExist();
        } finally {
            cluster.etcd.put(key, before);
        }
    }

    /**
     * Patroni's postgres0.yml keeps pg_hba in bootstrap.dcs, so in the config key: this cluster was built that way
     * (no local pg_hba), and every node's pg_hba.conf holds those lines; an edit of the key reaches every node.
     */
    @Test
    void f_pgHbaFromTheConfigKeyIsWrittenOnEveryNodeAndFollowsItsChanges() throws IOException {
        cluster.awaitHealthy(Duration.ofSeconds(90));
        for (AgentProcess n : cluster.nodes) {
            assertThat(Files.readString(n.dataDir().resolve("pg_hba.conf"))).as(n.name)
                    .isEqualTo(HBA.lines().map(l -> l.strip().substring(2) + "\n").reduce("", String::concat));
        }
        patch(cluster.leader(), "{\"postgresql\": {\"pg_hba\": [\"local all all trust\","
                + " \"host all all 127.0.0.1/32 scram-sha-256\","
                + " \"host replication replicator 127.0.0.1/32 scram-sha-256\","
                + " \"host all all 127.0.0.2/32 reject\"]}}");
        for (AgentProcess n : cluster.nodes) {
            Await.until(Duration.ofSeconds(20), n.name + "'s pg_hba.conf to take the new line", () -> {
                try {
                    return Files.readString(n.dataDir().resolve("pg_hba.conf")).contains("127.0.0.2/32 reject");
                } catch (IOException e) {
                    return false;
                }
            });
            // in force once reloaded: a login from 127.0.0.2 meets the new line ("rejects") instead of no line at all
            Await.until(Duration.ofSeconds(20), n.name + " to have reloaded it",
                    () -> loginFrom127002(n.pgPort).contains("rejects connection"), () -> loginFrom127002(n.pgPort));
        }
        assertThat(cluster.isHealthy()).isTrue();
    }

    private static String loginFrom127002(int port) {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("user", "postgres");
        p.setProperty("password", Sql.PASSWORD);
        p.setProperty("connectTimeout", "2");
        p.setProperty("sslmode", "disable");
        p.setProperty("localSocketAddress", "127.0.0.2");
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + port + "/postgres", p)) {
            return "logged in";
        } catch (java.sql.SQLException e) {
            return String.valueOf(e.getMessage());
        }
    }
}

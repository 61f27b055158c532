package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.common.pg.SyncStandbyNames;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * synchronous_standby_names managed by the PostgresController on real PostgreSQL: a primary and one streaming
 * standby, each controller in its own process ({@link LocalPostgresDriver}; no etcd, no HA loop). The standby's
 * member name needs quoting everywhere (a quote and a space in primary_conninfo, a double quote in
 * synchronous_standby_names): PostgreSQL matches synchronous_standby_names against application_name, which
 * primary_conninfo sets to the member name.
 */
class SyncStandbyNamesIT {
    private static final String PRIMARY = "node-a";
    private static final String STANDBY = "o'neil-b \"1\"";
    private final Path dir = Host.tempDir("pgkeel-it-sync-");
    private final AgentProcess a = node(PRIMARY, "a");
    private final AgentProcess b = node(STANDBY, "b");
    private ControllerProcess pgA;
    private ControllerProcess pgB;

    private AgentProcess node(String name, String dirName) {
        Path nodeDir = dir.resolve(dirName);
        int pg = Host.freePort();
        try {
            Files.createDirectories(nodeDir);
            Host.giveToAgentUser(nodeDir);
            Path config = nodeDir.resolve("pgkeel.yml");
            Files.writeString(config, """
                    scope: it-sync
                    name: '%s'
                    restapi:
                      listen: 127.0.0.1:%d
                    etcd3:
                      hosts: 127.0.0.1:1
                    """.formatted(name.replace("'", "''"), Host.freePort()) + TestCluster.postgresqlYaml(pg, nodeDir));
            Host.giveToAgentUser(config);
            return new AgentProcess(name, nodeDir, 0, pg, config);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private ControllerProcess controller(AgentProcess n) {
        return new ControllerProcess(n.config, n.dir.resolve("controller.log"));
    }

    @AfterEach
    void tearDown() {
        for (ControllerProcess c : new ControllerProcess[] {pgA, pgB}) {
            if (c != null) {
                c.close();
            }
        }
        a.killPostgresTree();
        b.killPostgresTree();
        if (System.getenv("PGKEEL_IT_KEEP") == null) {
            Host.deleteTree(dir);
        }
    }

    /** One probe: the run state and role, synchronous_standby_names, managed, and the WAL senders. */
    private record Probe(String state, String synchronousStandbyNames, boolean managed, List<String> walSenders) {
        static Probe of(String answer) {
            String[] f = answer.split("\t", -1);
            List<String> senders = Arrays.stream(f).skip(3).filter(s -> !s.isEmpty()).toList();
            return new Probe(f[0], f[1], Boolean.parseBoolean(f[2]), senders);
        }
    }

    private Probe probe(ControllerProcess c) {
        return Probe.of(c.call("probe"));
    }

    /** The standby's WAL sender as {@code name|state|sync_state}, flush position left out. */
    private List<String> senders(Probe p) {
        return p.walSenders().stream().map(s -> s.substring(0, s.lastIndexOf('|'))).toList();
    }

    private Probe awaitPrimaryWith(ControllerProcess c, String sender) {
        Probe[] last = {null};
        Await.until(Duration.ofSeconds(60), "the primary streaming to " + sender, () -> {
            last[0] = probe(c);
            return last[0].state().equals("RUNNING primary") && senders(last[0]).contains(sender);
        }, () -> String.valueOf(last[0]));
        return last[0];
    }

    private CompletableFuture<Void> commitInBackground(String sql) {
        return CompletableFuture.runAsync(() -> {
            try (Connection c = Sql.connect(a.pgPort, 60); Statement st = c.createStatement()) {
                st.execute(sql);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @Test
    void aCommitWaitsForTheListedStandbyAndTheValueOutlivesRestarts() throws Exception {
        String firstB = "FIRST 1 (" + SyncStandbyNames.format(false, 1, List.of(STANDBY)) + ")";
        assertThat(firstB).isEqualTo("FIRST 1 (\"o'neil-b \"\"1\"\"\")");

        pgA = controller(a);
        pgA.call("bootstrap");
        pgB = controller(b);
        pgB.call("clone " + a.pgPort + " " + PRIMARY);
        pgB.call("start-replica " + a.pgPort + " " + PRIMARY);
        Probe before = awaitPrimaryWith(pgA, STANDBY + "|streaming|async");
        assertThat(before.synchronousStandbyNames()).isEmpty();
        assertThat(before.managed()).isFalse();
        assertThat(Sql.queryString(a.pgPort, "SELECT application_name FROM pg_stat_replication"))
                .as("primary_conninfo's application_name is the member name, quote and space included")
                .isEqualTo(STANDBY);
        assertThat(probe(pgB)).as("a standby reports no synchronous replication state")
                .isEqualTo(new Probe("RUNNING standby", "null", false, List.of()));

        // in force when the call returns: the probe's next statement shows it, and the standby is synchronous
        pgA.call("set " + firstB);
        Probe sync = probe(pgA);
        assertThat(sync.synchronousStandbyNames()).isEqualTo(firstB);
        assertThat(sync.managed()).isTrue();
        assertThat(senders(sync)).containsExactly(STANDBY + "|streaming|sync");
        assertThat(Long.parseLong(sync.walSenders().get(0).replaceAll(".*\\|", ""))).as("flush LSN").isPositive();
        Sql.execute(a.pgPort, "CREATE TABLE t (id int)");

        // the standby gone: a commit waits for it, until synchronous_standby_names lists nobody
        pgB.call("stop");
        CompletableFuture<Void> blocked = commitInBackground("INSERT INTO t VALUES (1)");
        Thread.sleep(2000);
        assertThat(blocked).as("a commit with its synchronous standby stopped").isNotDone();
        pgA.call("set ");
        blocked.get(20, TimeUnit.SECONDS);
        assertThat(probe(pgA).synchronousStandbyNames()).isEmpty();
        assertThat(probe(pgA).managed()).as("'' is managed: wait for nobody").isTrue();

        // kept across a restart of PostgreSQL, and across a restart of the agent (a new controller process)
        pgA.call("set " + firstB);
        pgA.call("stop");
        pgA.call("start-primary");
        Await.until(Duration.ofSeconds(30), "the primary up again", () -> probe(pgA).state().equals("RUNNING primary"));
        assertThat(probe(pgA)).isEqualTo(new Probe("RUNNING primary", firstB, true, List.of()));
        pgA.close();
        pgA = controller(a);
        assertThat(probe(pgA)).as("read back by the next agent").isEqualTo(new Probe("RUNNING primary", firstB, true,
                List.of()));
        pgA.call("stop");
        pgA.call("start-primary");
        Await.until(Duration.ofSeconds(30), "the primary up again", () -> probe(pgA).state().equals("RUNNING primary"));
        assertThat(probe(pgA).synchronousStandbyNames()).as("the next agent's own start keeps it").isEqualTo(firstB);
        CompletableFuture<Void> waiting = commitInBackground("INSERT INTO t VALUES (2)");
        Thread.sleep(2000);
        assertThat(waiting).as("a commit after both restarts, its synchronous standby still stopped").isNotDone();

        // the standby back: the commit completes
        pgB.call("start-replica " + a.pgPort + " " + PRIMARY);
        waiting.get(60, TimeUnit.SECONDS);
        assertThat(senders(awaitPrimaryWith(pgA, STANDBY + "|streaming|sync"))).hasSize(1);

        // no longer managed: the configured value (none) applies, now and for the next agent
        pgA.call("unset");
        Probe unmanaged = probe(pgA);
        assertThat(unmanaged.synchronousStandbyNames()).isEmpty();
        assertThat(unmanaged.managed()).isFalse();
        assertThat(senders(unmanaged)).containsExactly(STANDBY + "|streaming|async");
        pgA.close();
        pgA = controller(a);
        assertThat(probe(pgA).managed()).isFalse();
    }

    @Test
    void anUnreadableValueIsRefusedAndChangesNothing() {
        pgA = controller(a);
        pgA.call("bootstrap");
        assertThat(pgA.answer("set FIRST 1 (a")).startsWith("error synchronous_standby_names 'FIRST 1 (a'");
        assertThat(probe(pgA)).isEqualTo(new Probe("RUNNING primary", "", false, List.of()));
    }
}

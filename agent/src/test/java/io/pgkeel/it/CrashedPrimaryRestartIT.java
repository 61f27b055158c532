package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * At ttl 5 (loop_wait 1, retry_timeout 2, the chaos run's timing), a kill -9 of the primary's postmaster while one
 * of its backends is busy: that backend does not notice the postmaster's death and keeps the shared memory attached,
 * so every start refuses ("pre-existing shared memory block is still in use") until it ends. The agent keeps its
 * leader key meanwhile (Patroni's loop renews it while it starts PostgreSQL: ha.py, {@code recover}) and starts
 * PostgreSQL as primary on the same member once the backend is gone (docs/chaos.md, "What the runs found").
 */
class CrashedPrimaryRestartIT extends ClusterTestBase {
    private static final TestCluster.Timing TTL_5 = new TestCluster.Timing(5, 1, 2);
    /** How long the busy backend outlives its postmaster: longer than the ttl. */
    private static final int BUSY_SECONDS = 9;

    @Override
    protected String scope() {
        return "it-crash-restart";
    }

    @Override
    protected TestCluster newCluster() {
        return TestCluster.start(scope(), 2, TTL_5);
    }

    @Test
    void aPrimaryWhoseOldBackendsHoldTheSharedMemoryLongerThanTheTtlKeepsItsKeyAndComesBackAsPrimary()
            throws Exception {
        cluster.awaitHealthy(Duration.ofSeconds(90));
        AgentProcess leader = cluster.leader();
        long postmaster = leader.postmasterPid().orElseThrow();
        // a CPU-bound loop: no latch wait, so nothing in it looks at the postmaster
        Thread busy = new Thread(() -> {
            try (Connection c = Sql.connect(leader.pgPort, BUSY_SECONDS + 20); Statement st = c.createStatement()) {
                st.execute("DO $$ BEGIN WHILE clock_timestamp() < statement_timestamp() + interval '" + BUSY_SECONDS
                        + " s' LOOP END LOOP; END $$");
            } catch (java.sql.SQLException e) {
                // the backend ends with its loop, or earlier when the test is over
            }
        }, "busy-backend");
        busy.setDaemon(true);
        busy.start();
        Await.until(Duration.ofSeconds(10), "the busy backend running", () -> "1".equals(Sql.queryString(
                leader.pgPort, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'DO $$%' AND state = 'active'")));

        Host.signal(postmaster, "KILL");
        long killedAt = System.nanoTime();
        List<String> otherLeaders = new ArrayList<>();
        while (!(Sql.tryExecute(leader.pgPort, "SELECT txid_current()") && Sql.isPrimary(leader.pgPort))) {
            Optional<String> holder = cluster.leaderName();
            if (!holder.equals(Optional.of(leader.name))) {
                otherLeaders.add(String.format("%.2f s: %s", (System.nanoTime() - killedAt) / 1e9,
                        holder.orElse("no leader key")));
            }
            assertThat(System.nanoTime() - killedAt).as("writable again within a minute; %s", cluster.describe())
                    .isLessThan(Duration.ofSeconds(60).toNanos());
            Thread.sleep(50);
        }
        double seconds = (System.nanoTime() - killedAt) / 1e9;
        System.out.printf("kill -9 of %s's postmaster with a backend busy for %d s (ttl %d): writable again as primary"
                + " after %.2f s%n", leader.name, BUSY_SECONDS, TTL_5.ttl(), seconds);

        assertThat(otherLeaders).as("the leader key stays with %s", leader.name).isEmpty();
        assertThat(cluster.leaderName()).hasValue(leader.name);
        assertThat(seconds).as("it waited for the busy backend").isGreaterThan(BUSY_SECONDS - 2);
        String log = leader.logText();
        assertThat(log).contains("starting primary after failure")
                .contains("postgres did not start")
                .doesNotContain("could not be renewed before its deadline");
        assertThat(cluster.writablePrimaries()).containsExactly(leader);
    }
}

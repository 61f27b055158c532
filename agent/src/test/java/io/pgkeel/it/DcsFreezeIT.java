package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * (d) etcd frozen with SIGSTOP: the primary stops taking writes before its lease can have expired in etcd, nobody
 * promotes while etcd is frozen, and after SIGCONT the cluster has one primary again.
 */
class DcsFreezeIT extends ClusterTestBase {
    @Override
    protected String scope() {
        return "it-freeze";
    }

    @Test
    void frozenEtcdMakesThePrimaryStopWritesBeforeItsLeaseCanExpireAndNobodyPromotes() {
        AgentProcess primary = cluster.leader();
        Sql.execute(primary.pgPort, "CREATE TABLE IF NOT EXISTS freeze_check (id serial PRIMARY KEY)");
        long lease = cluster.etcd.leaseOf(cluster.key("leader"));
        assertThat(lease).as("the leader key rides on a lease").isNotZero();
        // etcd cannot expire the lease before (now + remaining): measured before asking, so the bound is safe. The
        // agent is held still meanwhile: a renewal landing between this question and the freeze would move the
        // lease (and the agent's deadline) past the bound measured here
        long askedAt;
        long remaining;
        Host.signal(primary.pid(), "STOP");
        try {
            Await.pause(100); // a renewal already on its way arrives
            askedAt = System.nanoTime();
            remaining = cluster.etcd.leaseRemainingSeconds(lease);
            cluster.etcd.freeze();
        } finally {
            Host.signal(primary.pid(), "CONT");
        }
        long frozenAt = System.nanoTime();
        try {
            assertThat(remaining).isPositive();
            while (Sql.tryExecute(primary.pgPort, "INSERT INTO freeze_check DEFAULT VALUES")) {
                assertThat(System.nanoTime() - askedAt).as("still writable %d s after etcd froze",
                        (System.nanoTime() - frozenAt) / 1_000_000_000L).isLessThan(Duration.ofSeconds(60).toNanos());
                Await.pause(50);
            }
            long stoppedAfter = System.nanoTime() - askedAt;
            System.out.printf("etcd frozen: primary %s stopped taking writes %.2f s after the freeze; lease had >= %d s"
                    + " left%n", primary.name, (System.nanoTime() - frozenAt) / 1e9, remaining);
            assertThat(stoppedAfter).as("writes stop before the lease can have expired in etcd")
                    .isLessThan(Duration.ofSeconds(remaining).toNanos());

            long until = frozenAt + Duration.ofSeconds(TestCluster.TTL + 3).toNanos();
            while (System.nanoTime() - until < 0) {
                assertThat(cluster.writablePrimaries()).as("nobody takes writes while etcd is frozen").isEmpty();
                Await.pause(200);
            }
        } finally {
            cluster.etcd.thaw();
        }
        cluster.awaitHealthy(Duration.ofSeconds(90));
        assertThat(cluster.writablePrimaries()).hasSize(1);
        assertThat(primary.logText()).contains("demoting self because the leader lease could not be renewed");
    }
}

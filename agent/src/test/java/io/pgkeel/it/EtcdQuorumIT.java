package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A 3-node pgkeel cluster on a 3-member etcd with TLS (peers with mutual TLS, clients with certificates) and auth:
 * losing one etcd member changes nothing a client sees; losing etcd's
 * quorum stops the primary before its lease could expire (failsafe off), and nobody promotes until etcd is back.
 */
@TestMethodOrder(MethodOrderer.MethodName.class)
class EtcdQuorumIT extends ClusterTestBase {
    /**
     * The longest write gap allowed while one etcd member is down. The writer writes every 50 ms to PostgreSQL, which
     * does not wait for etcd; a gap is either the primary demoting (seconds) or scheduling noise on this shared
     * machine (tens of ms). 1 s separates the two with room to spare.
     */
    private static final Duration MAX_GAP = Duration.ofSeconds(1);

    @Override
    protected String scope() {
        return "it-etcd-quorum";
    }

    @Override
    protected TestCluster newCluster() {
        // production's etcd: TLS for clients and peers, client certificates required, and auth on; the agents log in
        // as a user whose role reaches only /service/ (EtcdCluster)
        return TestCluster.start(scope(), 3, EtcdCluster.Options.secured(3).withClientCertAuth(), (name, yaml) -> yaml);
    }

    /** kill -9 of each etcd member in turn, each down for 2 x ttl, then back: no leader change, no write gap. */
    @Test
    void a_eachEtcdMemberKilledInTurnForTwoTtl_noLeaderChange_noWriteGapOverOneSecond() {
        cluster.awaitHealthy(Duration.ofSeconds(90));
        String leader = cluster.leaderName().orElseThrow();
        long lease = cluster.etcd.leaseOf(cluster.key("leader"));
        List<String> gaps = new ArrayList<>();
        try (Writer writer = new Writer(cluster.nodes, "member_loss", 50)) {
            for (int i = 0; i < cluster.etcd.size(); i++) {
                Await.pause(1_000);
                long killedAt = System.nanoTime();
                cluster.etcd.kill(i);
                long until = killedAt + Duration.ofSeconds(TestCluster.TTL * 2L).toNanos();
                int answers = 0;
                while (System.nanoTime() - until < 0) {
                    Optional<String> seen;
                    try {
                        seen = cluster.leaderName();
                    } catch (IllegalStateException e) {
                        Await.pause(200);
                        continue; // etcd electing a new raft leader answers errors for a moment: that proves nothing
                    }
                    answers++;
                    assertThat(seen).as("the leader key while etcd member %d is down", i + 1).hasValue(leader);
                    Await.pause(200);
                }
                assertThat(answers).as("etcd answered while member %d was down", i + 1)
                        .isGreaterThan(TestCluster.TTL * 2 * 5 / 2);
                long downUntil = System.nanoTime();
                cluster.etcd.restart(i);
                long gap = writer.longestGapMillisAround(killedAt, downUntil);
                gaps.add("etcd" + (i + 1) + ": " + gap + " ms");
                System.out.printf("etcd member %d killed for %d s: longest write gap %d ms%n", i + 1,
                        TestCluster.TTL * 2, gap);
                assertThat(Duration.ofMillis(gap)).as("write gap while etcd member %d is down", i + 1)
                        .isLessThan(MAX_GAP);
            }
            Await.pause(1_000);
            assertThat(writer.longestGapMillis()).as("longest write gap over the whole test (%s)", gaps)
                    .isLessThan(MAX_GAP.toMillis());
        }
        assertThat(cluster.leaderName()).hasValue(leader);
        assertThat(cluster.etcd.leaseOf(cluster.key("leader"))).as("the same lease all along").isEqualTo(lease);
        assertThat(cluster.node(leader).logText()).doesNotContain("demoting self");
        assertThat(cluster.etcd.isHealthy()).isTrue();
        cluster.awaitHealthy(Duration.ofSeconds(30));
    }

    /**
     * Two etcd members frozen for 2.5 x ttl (no quorum; the third answers nothing useful): the primary stops taking
     * writes before its lease can have expired in etcd, and nobody takes writes until etcd has its quorum again.
     */
    @Test
    void b_quorumLostForTwoAndAHalfTtl_failsafeOff_primaryStopsBeforeItsLeaseCouldExpire_nobodyPromotes() {
        cluster.awaitHealthy(Duration.ofSeconds(90));
        AgentProcess primary = cluster.leader();
        DcsOutage.assertPrimaryStopsBeforeItsLeaseCanExpire(cluster, primary, new DcsOutage.Fault(() -> {
            cluster.etcd.freeze(0);
            cluster.etcd.freeze(1);
        }, () -> {
            cluster.etcd.thaw(0);
            cluster.etcd.thaw(1);
        }), Duration.ofMillis(TestCluster.TTL * 2500L), "etcd quorum lost (2 of 3 members frozen)");
        cluster.awaitHealthy(Duration.ofSeconds(90));
        assertThat(cluster.writablePrimaries()).hasSize(1);
        assertThat(primary.logText()).contains("the leader lease could not be renewed");
    }

    /**
     * failsafe_mode on, two etcd members frozen for 2.5 x ttl: every member still answers the primary's POST /failsafe,
     * so writes go on with no gap over 1 s and nobody else takes writes; etcd back: the same primary, all healthy.
     */
    @Test
    void c_quorumLostForTwoAndAHalfTtl_failsafeOn_writesGoOn_andAfterwardsTheSamePrimaryAndAllHealthy() {
        cluster.awaitHealthy(Duration.ofSeconds(90));
        AgentProcess primary = cluster.leader();
        DcsOutage.switchFailsafeModeOn(cluster, primary, n -> "http://127.0.0.1:" + n.apiPort + "/patroni");
        long gap;
        try (Writer writer = new Writer(cluster.nodes, "failsafe_rows", 50)) {
            Await.until(Duration.ofSeconds(20), "the writer's first rows", () -> writer.count() > 20);
            long lostAt = System.nanoTime();
            cluster.etcd.freeze(0);
            cluster.etcd.freeze(1);
            try {
                long until = lostAt + Duration.ofMillis(TestCluster.TTL * 2500L).toNanos();
                while (System.nanoTime() - until < 0) {
                    assertThat(cluster.writablePrimaries()).as("only the primary takes writes without etcd's quorum")
                            .containsExactly(primary);
                    Await.pause(200);
                }
            } finally {
                cluster.etcd.thaw(0);
                cluster.etcd.thaw(1);
            }
            gap = writer.longestGapMillisAround(lostAt, System.nanoTime());
            System.out.printf("etcd quorum lost for %d s with failsafe_mode on: longest write gap %d ms%n",
                    TestCluster.TTL * 5 / 2, gap);
        }
        assertThat(Duration.ofMillis(gap)).as("writes go on through the quorum loss").isLessThan(MAX_GAP);
        assertThat(primary.logText())
                .contains("continue to run as a leader because failsafe mode is enabled and all members are accessible");
        cluster.awaitHealthy(Duration.ofSeconds(90));
        assertThat(cluster.leaderName()).as("the primary keeps its role after the outage").hasValue(primary.name);
        assertThat(cluster.writablePrimaries()).containsExactly(primary);
        DcsOutage.switchFailsafeMode(primary, false);
    }
}

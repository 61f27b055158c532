package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * One etcd member of three lost, killed (kill -9) or frozen (SIGSTOP, a hung or partitioned member): the agents
 * go on through the other two, the leader's lease keeps renewing (a lost member costs at most one call timeout)
 * and the leader does not change.
 */
@TestMethodOrder(MethodOrderer.MethodName.class)
class EtcdMemberLossIT extends ClusterTestBase {
    /** ttl 10 s, loop 1 s, call timeout 2.5 s: a renewal at least every loop + one timeout, with slack for load. */
    private static final long LEAST_REMAINING = TestCluster.TTL - 6;

    @Override
    protected String scope() {
        return "it-etcd-member-loss";
    }

    @Override
    protected TestCluster newCluster() {
        return TestCluster.start(scope(), 2, EtcdCluster.Options.secured(3), (name, yaml) -> yaml);
    }

    @Test
    void a_aKilledMemberCostsTheLeaderNothing() {
        int victim = memberServingNothingOfTheHarness();
        try {
            watchTheLeaderWhile(() -> cluster.etcd.kill(victim), "etcd member " + victim + " killed");
        } finally {
            cluster.etcd.restart(victim);
        }
        cluster.awaitHealthy(Duration.ofSeconds(30));
    }

    @Test
    void b_aFrozenMemberCostsTheLeaderAtMostOneCallTimeout() {
        int victim = memberServingNothingOfTheHarness();
        try {
            watchTheLeaderWhile(() -> cluster.etcd.freeze(victim), "etcd member " + victim + " frozen");
        } finally {
            cluster.etcd.thaw(victim);
        }
        cluster.awaitHealthy(Duration.ofSeconds(30));
    }

    /** Any member does (the harness reads through the running ones): the last. */
    private int memberServingNothingOfTheHarness() {
        return cluster.etcd.size() - 1;
    }

    /**
     * Does {@code fault}, then for 2 x ttl samples the leader key and its lease twice a second: same leader, same
     * lease, never less than {@link #LEAST_REMAINING} seconds left on it (so renewals kept succeeding).
     */
    private void watchTheLeaderWhile(Runnable fault, String what) {
        String leader = cluster.leaderName().orElseThrow();
        long lease = cluster.etcd.leaseOf(cluster.key("leader"));
        fault.run();
        long end = System.nanoTime() + Duration.ofSeconds(2L * TestCluster.TTL).toNanos();
        List<Long> remaining = new ArrayList<>();
        while (System.nanoTime() - end < 0) {
            assertThat(cluster.leaderName()).as("leader after " + what).hasValue(leader);
            assertThat(cluster.etcd.leaseOf(cluster.key("leader"))).as("leader lease after " + what).isEqualTo(lease);
            long left = cluster.etcd.leaseRemainingSeconds(lease);
            remaining.add(left);
            assertThat(left).as("seconds left on the leader lease after " + what + "; so far " + remaining)
                    .isGreaterThanOrEqualTo(LEAST_REMAINING);
            Await.pause(500);
        }
        System.out.println(what + ": seconds left on the leader lease, sampled twice a second: " + remaining);
        assertThat(cluster.writablePrimaries()).extracting(n -> n.name).containsExactly(leader);
    }
}

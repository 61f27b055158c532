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
        DcsOutage.assertPrimaryStopsBeforeItsLeaseCanExpire(cluster, primary, new DcsOutage.Fault(
                cluster.etcd::freeze, cluster.etcd::thaw), Duration.ofSeconds(TestCluster.TTL + 3), "etcd frozen");
        cluster.awaitHealthy(Duration.ofSeconds(90));
        assertThat(cluster.writablePrimaries()).hasSize(1);
        assertThat(primary.logText()).contains("demoting self because the leader lease could not be renewed");
    }
}

package io.pgkeel.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;

/** One real 3-node cluster per test class, stopped after it; agent logs are printed when a test fails. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(ClusterLogsOnFailure.class)
abstract class ClusterTestBase implements ClusterLogsOnFailure.HasCluster {
    protected TestCluster cluster;

    /** The cluster's scope (etcd prefix), distinct per class. */
    protected abstract String scope();

    @BeforeAll
    void startCluster() {
        cluster = newCluster();
    }

    /** Starts the class's cluster: 3 nodes of the usual YAML unless a class needs another. */
    protected TestCluster newCluster() {
        return TestCluster.start(scope(), 3);
    }

    @AfterAll
    void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Override
    public TestCluster cluster() {
        return cluster;
    }
}

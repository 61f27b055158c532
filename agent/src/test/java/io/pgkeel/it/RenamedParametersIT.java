package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Patroni's acceptance configuration sets {@code wal_keep_segments: 100}, a parameter PostgreSQL 13 renamed: the
 * cluster starts anyway, with the same amount of WAL kept under the new name (100 x 16MB).
 */
class RenamedParametersIT extends ClusterTestBase {
    @Override
    protected String scope() {
        return "it-renamed-parameters";
    }

    @Override
    protected TestCluster newCluster() {
        // in the config key (bootstrap.dcs) for every node, and in one node's local parameters as well
        return TestCluster.start(scope(), 2, (name, yaml) -> {
            String edited = yaml.replace("wal_keep_size: 64MB", "wal_keep_segments: 100");
            return name.equals("node2")
                    ? edited.replace("    shared_buffers: 16MB\n", "    shared_buffers: 16MB\n    wal_keep_segments: 50\n")
                    : edited;
        });
    }

    @Test
    void walKeepSegmentsBecomesWalKeepSizeOnEveryNode() {
        assertThat(Sql.queryString(cluster.node("node1").pgPort, "SHOW wal_keep_size")).isEqualTo("1600MB");
        assertThat(Sql.queryString(cluster.node("node2").pgPort, "SHOW wal_keep_size")).isEqualTo("800MB");
        assertThat(cluster.node("node1").logText())
                .contains("wal_keep_segments = '100' written as wal_keep_size = '1600MB'");
    }
}

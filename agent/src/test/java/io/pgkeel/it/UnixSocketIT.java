package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.agent.pg.UnixSocketFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * {@code postgresql.use_unix_socket: true} with a pg_hba that admits the superuser only over the unix socket (TCP
 * rejected): the agent connects through the first directory of unix_socket_directories, bootstraps and replicates.
 */
class UnixSocketIT extends ClusterTestBase {
    @Override
    protected String scope() {
        return "it-unix-socket";
    }

    private Path sockets;

    @Override
    protected TestCluster newCluster() {
        // one socket directory for every node (their ports differ), known before the nodes are
        sockets = Host.tempDir("pgkeel-sock-");
        // the test's own connections take the socket as well: TCP is closed to the superuser
        Sql.loginOverride = port -> {
            Properties p = new Properties();
            p.setProperty("socketFactory", UnixSocketFactory.class.getName());
            p.setProperty("socketFactoryArg", sockets.resolve(".s.PGSQL." + port).toString());
            return p;
        };
        return TestCluster.start(scope(), 2, (name, yaml) -> yaml
                .replaceFirst("unix_socket_directories: '[^']*'", "unix_socket_directories: '" + sockets + "'")
                .replace("  pg_hba:\n", "  use_unix_socket: true\n  pg_hba:\n")
                .replace("    - host all all 127.0.0.1/32 scram-sha-256\n",
                        "    - host all postgres 127.0.0.1/32 reject\n    - host all all 127.0.0.1/32 scram-sha-256\n"));
    }

    @AfterAll
    void resetLogin() {
        Sql.loginOverride = null;
        if (sockets != null) {
            Host.deleteTree(sockets);
        }
    }

    @Test
    void theAgentConnectsThroughTheSocketWhenTcpIsClosedToTheSuperuser() {
        AgentProcess primary = cluster.leader();
        for (AgentProcess n : cluster.nodes) {
            // a unix-socket backend has no client address
            assertThat(Sql.queryString(n.pgPort, "SELECT count(*) FROM pg_stat_activity WHERE application_name ="
                    + " 'pgkeel' AND client_addr IS NULL AND client_port = -1")).as(n.name).isEqualTo("1");
        }
        Sql.execute(primary.pgPort, "CREATE TABLE socket_it AS SELECT 1 AS x");
        AgentProcess replica = cluster.nodes.stream().filter(n -> n != primary).findFirst().orElseThrow();
        Await.until(Duration.ofSeconds(20), "the table on the replica",
                () -> "1".equals(Sql.queryString(replica.pgPort, "SELECT count(*) FROM socket_it")));
    }
}

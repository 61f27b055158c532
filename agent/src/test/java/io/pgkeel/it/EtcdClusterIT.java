package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The secured etcd harness itself: TLS, peer mTLS, client certificates, auth, and member faults. */
class EtcdClusterIT {
    @Test
    void aSecuredThreeMemberClusterServesRootAndConfinesItsUsersAndSurvivesAMemberKilledAndFrozen() {
        Path dir = Host.tempDir("pgkeel-it-etcd-cluster-");
        try (EtcdCluster etcd = EtcdCluster.start(dir, EtcdCluster.Options.secured(3).withClientCertAuth())) {
            assertThat(etcd.urls()).allMatch(u -> u.startsWith("https://127.0.0.1:")).hasSize(3);
            etcd.put("/service/x/k", "v");
            assertThat(etcd.get("/service/x/k")).hasValue("v");
            // the client certificate's CN is the user pgkeel: its role reaches /service/ only
            List<String> asUser = new ArrayList<>(List.of("--endpoints", String.join(",", etcd.urls()),
                    "--cacert", etcd.caCert().toString(), "--cert", etcd.clientCert().toString(),
                    "--key", etcd.clientKeyPkcs1().toString()));
            assertThat(ctl(dir, asUser, "get", "/service/x/k", "--print-value-only")).contains("v");
            assertThatThrownBy(() -> ctl(dir, asUser, "put", "/elsewhere/k", "v"))
                    .hasMessageContaining("permission denied");
            assertThatThrownBy(() -> ctl(dir, List.of("--endpoints", etcd.urls().get(0), "--cacert",
                    etcd.caCert().toString()), "get", "/service/x/k")).hasMessageContaining("failed");
            etcd.kill(0);
            // the member killed may have been raft's leader: a write may time out while the others elect one
            writeWithin(etcd, "after kill");
            etcd.restart(0);
            etcd.freeze(1);
            try {
                writeWithin(etcd, "while frozen");
            } finally {
                etcd.thaw(1);
            }
            assertThat(etcd.get("/service/x/k")).hasValue("while frozen");
            assertThat(etcd.isHealthy()).isTrue();
        } finally {
            Host.deleteTree(dir);
        }
    }

    @Test
    void aPlainMemberIsWhatTheStandardItsRunOn() {
        Path dir = Host.tempDir("pgkeel-it-etcd-cluster-");
        try (EtcdCluster etcd = EtcdCluster.start(dir)) {
            assertThat(etcd.etcd3Yaml()).isEqualTo("etcd3:\n  hosts: " + etcd.endpoint() + "\n");
            etcd.put("/service/y/k", "v");
            assertThat(etcd.get("/service/y/k")).hasValue("v");
        } finally {
            Host.deleteTree(dir);
        }
    }

    private static String ctl(Path dir, List<String> connection, String... args) {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/etcdctl", "--dial-timeout", "3s", "--command-timeout",
                "5s"));
        cmd.addAll(connection);
        cmd.addAll(List.of(args));
        return EtcdCluster.Certificates.run(cmd, dir);
    }

    /** Writes {@code value} to /service/x/k, again while etcd answers that it is electing a leader (15 s at most). */
    private static void writeWithin(EtcdCluster etcd, String value) {
        Await.until(java.time.Duration.ofSeconds(15), "etcd to take the write '" + value + "'", () -> {
            try {
                etcd.put("/service/x/k", value);
                return true;
            } catch (AssertionError | RuntimeException e) {
                if (!String.valueOf(e.getMessage()).contains("request timed out")
                        && !String.valueOf(e.getMessage()).contains("no leader")) {
                    throw e;
                }
                return false;
            }
        });
    }
}

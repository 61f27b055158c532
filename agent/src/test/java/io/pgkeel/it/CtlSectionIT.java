package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * {@code pgkeel ctl} calls a REST API that requires a client certificate and a password with Patroni's {@code ctl}
 * section: {@code ctl.certfile/keyfile} as the client certificate, {@code ctl.cacert} and {@code ctl.authentication}
 * over {@code restapi}'s. With only the {@code restapi} settings (a wrong password, and a certificate that Patroni
 * 4.1 never presents as a client one) the same commands are refused.
 */
@TestMethodOrder(MethodOrderer.MethodName.class)
class CtlSectionIT extends ClusterTestBase {
    private Path certs;

    @Override
    protected String scope() {
        return "it-ctl-section";
    }

    @Override
    protected TestCluster newCluster() {
        certs = Host.tempDir("pgkeel-ctl-certs-");
        makeCertificates(certs);
        return TestCluster.start(scope(), 2, (name, yaml) -> yaml.replace("""
                  connect_address: 127.0.0.1:%d
                """.formatted(apiPort(yaml)), """
                  connect_address: 127.0.0.1:%d
                  certfile: %s
                  keyfile: %s
                  cafile: %s
                  verify_client: required
                  authentication: {username: admin, password: right}
                """.formatted(apiPort(yaml), certs.resolve("server.crt"), certs.resolve("server.key"),
                certs.resolve("ca.crt"))));
    }

    /** The REST API port in a node's YAML: its restapi.connect_address. */
    private static int apiPort(String yaml) {
        return Integer.parseInt(yaml.replaceAll("(?s).*restapi:\\n  listen: 127\\.0\\.0\\.1:(\\d+)\\n.*", "$1"));
    }

    @AfterAll
    void deleteCertificates() {
        if (certs != null && System.getenv("PGKEEL_IT_KEEP") == null) {
            Host.deleteTree(certs);
        }
    }

    /**
     * node1's YAML for ctl, with restapi's password wrong, and {@code ctl} (which may be empty) appended.
     */
    private Path ctlConfig(String file, String ctl) {
        try {
            String yaml = Files.readString(cluster.nodes.get(0).config)
                    .replace("password: right}", "password: wrong}") + ctl;
            Path f = certs.resolve(file);
            Files.writeString(f, yaml);
            return f;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private Path withCtlSection() {
        return ctlConfig("ctl.yml", """
                ctl:
                  certfile: %s
                  keyfile: %s
                  cacert: %s
                  authentication:
                    username: admin
                    password: right
                """.formatted(certs.resolve("ctl.crt"), certs.resolve("ctl.key"), certs.resolve("ca.crt")));
    }

    private static CliRun.Result ctl(Path config, String... args) {
        List<String> full = new ArrayList<>(List.of("ctl", "-c", config.toString()));
        full.addAll(List.of(args));
        return CliRun.pgkeel(null, Map.of(), full.toArray(String[]::new));
    }

    private String replica() {
        String leader = cluster.leaderName().orElseThrow();
        return cluster.nodes.stream().map(n -> n.name).filter(n -> !n.equals(leader)).findFirst().orElseThrow();
    }

    @Test
    void a_onlyRestapisSettingsAreRefused() {
        String leader = cluster.leaderName().orElseThrow();
        // no ctl section: restapi.certfile is not a client certificate (Patroni 4.1), so no TLS session
        CliRun.Result reload = ctl(ctlConfig("restapi-only.yml", ""), "reload", "--force", replica());
        assertThat(reload.exit()).as(reload.toString()).isEqualTo(1);
        assertThat(reload.out()).contains("Failed: reload for member " + replica() + ", status code=0");
        // ctl's certificate without ctl.authentication: restapi's (wrong) password is sent, and refused
        Path certOnly = ctlConfig("cert-only.yml", """
                ctl:
                  certfile: %s
                  keyfile: %s
                """.formatted(certs.resolve("ctl.crt"), certs.resolve("ctl.key")));
        CliRun.Result switchover = ctl(certOnly, "switchover", "--leader", leader, "--candidate", replica(),
                "--force");
        assertThat(switchover.exit()).as(switchover.toString()).isEqualTo(1);
        assertThat(switchover.toString()).contains("Switchover failed, details: 401");
        assertThat(cluster.leaderName()).contains(leader);
    }

    @Test
    void b_listAndReloadWithTheCtlSection() {
        Path config = withCtlSection();
        CliRun.Result list = ctl(config, "list");
        assertThat(list.exit()).as(list.toString()).isZero();
        for (AgentProcess n : cluster.nodes) {
            assertThat(list.out()).contains("| " + n.name + " ");
        }
        CliRun.Result reload = ctl(config, "reload", "--force");
        assertThat(reload.exit()).as(reload.toString()).isZero();
        assertThat(reload.out()).contains("Reload request received for member " + replica());
    }

    @Test
    void c_switchoverWithTheCtlSectionGoesThroughTheRestApi() {
        String leader = cluster.leaderName().orElseThrow();
        String candidate = replica();
        CliRun.Result r = ctl(withCtlSection(), "switchover", "--leader", leader, "--candidate", candidate,
                "--force");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.toString()).doesNotContain("falling back to DCS");
        cluster.awaitHealthy(Duration.ofSeconds(90));
        assertThat(cluster.leaderName()).contains(candidate);
    }

    /** A CA; the REST API's certificate for 127.0.0.1 and ctl's client certificate, both signed by it. */
    static void makeCertificates(Path dir) {
        try {
            Files.writeString(dir.resolve("server.ext"), "subjectAltName=IP:127.0.0.1\n");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        ClientCertificateIT.openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
                "ca.crt", "-days", "2", "-subj", "/CN=pgkeel-it-ctl-ca");
        for (String cn : List.of("server", "ctl")) {
            ClientCertificateIT.openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", cn + ".key", "-out",
                    cn + ".csr", "-subj", "/CN=" + cn);
            List<String> sign = new ArrayList<>(List.of("x509", "-req", "-in", cn + ".csr", "-CA", "ca.crt",
                    "-CAkey", "ca.key", "-CAcreateserial", "-out", cn + ".crt", "-days", "2"));
            if (cn.equals("server")) {
                sign.addAll(List.of("-extfile", "server.ext"));
            }
            ClientCertificateIT.openssl(dir, sign.toArray(String[]::new));
        }
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
                Host.giveToAgentUser(f);
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}

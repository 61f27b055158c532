package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A cluster whose pg_hba admits the superuser and the replication role over TCP only with a client certificate
 * ({@code hostssl ... cert}), as in Patroni's acceptance setup with certificates: the agent's own connection, the
 * clone (pg_basebackup) and streaming (primary_conninfo) all present the configured certificates. One node's
 * superuser key is PKCS-8 PEM, the other's traditional RSA PEM (both forms libpq reads).
 */
class ClientCertificateIT extends ClusterTestBase {
    private Path certs;

    @Override
    protected String scope() {
        return "it-client-certificates";
    }

    @Override
    protected TestCluster newCluster() {
        certs = Host.tempDir("pgkeel-certs-");
        makeCertificates(certs);
        Properties login = new Properties();
        login.setProperty("sslmode", "verify-ca");
        login.setProperty("sslcert", certs.resolve("postgres.crt").toString());
        login.setProperty("sslkey", certs.resolve("postgres.pk8").toString());
        login.setProperty("sslrootcert", certs.resolve("ca.crt").toString());
        Sql.loginOverride = port -> login;
        return TestCluster.start(scope(), 2, (name, yaml) -> yaml
                .replace("    shared_buffers: 16MB\n", "    shared_buffers: 16MB\n    ssl: 'on'\n"
                        + "    ssl_cert_file: " + certs.resolve("server.crt") + "\n"
                        + "    ssl_key_file: " + certs.resolve("server.key") + "\n"
                        + "    ssl_ca_file: " + certs.resolve("ca.crt") + "\n")
                .replace("superuser: {username: postgres,", "superuser: {sslmode: verify-ca, sslcert: "
                        + certs.resolve("postgres.crt") + ", sslkey: "
                        + certs.resolve(name.equals("node1") ? "postgres.key" : "postgres.rsa.key")
                        + ", sslrootcert: " + certs.resolve("ca.crt") + ", username: postgres,")
                .replace("replication: {username: replicator,", "replication: {sslmode: verify-full, sslcert: "
                        + certs.resolve("replicator.crt") + ", sslkey: " + certs.resolve("replicator.key")
                        + ", sslrootcert: " + certs.resolve("ca.crt") + ", username: replicator,")
                .replace("""
                            - host all all 127.0.0.1/32 scram-sha-256
                            - host replication replicator 127.0.0.1/32 scram-sha-256
                        """, """
                            - hostssl all postgres 127.0.0.1/32 cert
                            - hostssl replication replicator 127.0.0.1/32 cert
                        """));
    }

    @AfterAll
    void resetLogin() {
        Sql.loginOverride = null;
        if (certs != null && System.getenv("PGKEEL_IT_KEEP") == null) {
            Host.deleteTree(certs);
        }
    }

    @Test
    void bootstrapsAndReplicatesWithClientCertificatesOnly() {
        AgentProcess primary = cluster.leader();
        AgentProcess replica = cluster.nodes.stream().filter(n -> n != primary).findFirst().orElseThrow();
        // the replica streams over TLS as the replication role, authenticated by its certificate
        assertThat(Sql.queryString(primary.pgPort, "SELECT s.ssl AND s.client_dn = '/CN=replicator'"
                + " FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid)"
                + " WHERE r.application_name = '" + replica.name + "'")).isEqualTo("t");
        Sql.execute(primary.pgPort, "CREATE TABLE certs_it AS SELECT 1 AS x");
        Await.until(Duration.ofSeconds(20), "the table on the replica",
                () -> "1".equals(Sql.queryString(replica.pgPort, "SELECT count(*) FROM certs_it")));
        // every agent's own connection, as the superuser, is a certificate login over TLS too
        for (AgentProcess n : cluster.nodes) {
            assertThat(Sql.queryString(n.pgPort, "SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s"
                    + " USING (pid) WHERE a.application_name = 'pgkeel' AND s.ssl AND s.client_dn = '/CN=postgres'"))
                    .as(n.name + "'s agent connection").isEqualTo("1");
        }
    }

    /** A CA, a server certificate for 127.0.0.1 and client certificates for postgres and replicator, by openssl. */
    private static void makeCertificates(Path dir) {
        Path ext = dir.resolve("server.ext");
        try {
            Files.writeString(ext, "subjectAltName=IP:127.0.0.1\n");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days",
                "2", "-subj", "/CN=pgkeel-it-ca");
        for (String cn : List.of("server", "postgres", "replicator")) {
            openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", cn + ".key", "-out", cn + ".csr", "-subj",
                    "/CN=" + (cn.equals("server") ? "127.0.0.1" : cn));
            List<String> sign = new ArrayList<>(List.of("x509", "-req", "-in", cn + ".csr", "-CA", "ca.crt",
                    "-CAkey", "ca.key", "-CAcreateserial", "-out", cn + ".crt", "-days", "2"));
            if (cn.equals("server")) {
                sign.addAll(List.of("-extfile", ext.toString()));
            }
            openssl(dir, sign.toArray(String[]::new));
        }
        // the test's own JDBC login reads DER; the agent is given the PEM forms libpq reads
        openssl(dir, "pkcs8", "-topk8", "-nocrypt", "-in", "postgres.key", "-outform", "DER", "-out", "postgres.pk8");
        openssl(dir, "rsa", "-in", "postgres.key", "-traditional", "-out", "postgres.rsa.key");
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
                Host.giveToAgentUser(f);
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** {@code openssl ARGS...} in {@code dir}, failing the test with its output when it fails. */
    static void openssl(Path dir, String... args) {
        List<String> cmd = new ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (p.waitFor() != 0) {
                throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}

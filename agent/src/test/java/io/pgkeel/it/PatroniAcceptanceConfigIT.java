package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgkeel.agent.pg.UnixSocketFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * Patroni's own acceptance configuration, as its behave suite writes it for every node (Patroni 4.1
 * {@code features/environment.py}: {@code _make_patroni_test_config} on top of {@code postgres0.yml}, and the
 * certificate and {@code PATRONI_*} environment of {@code before_all}), runs on pgkeel as written: the cluster
 * bootstraps, the replicas stream over TLS as the replication role with a client certificate, the REST API asks for
 * a client certificate and, for writes, the password, and a switchover completes, through the REST API and through
 * {@code pgkeel ctl} with behave's ctl environment. Two things are ours, because they are Python scripts in
 * Patroni's tree: the on_role_change callback and the archive/restore commands ({@code cp}).
 */
@TestMethodOrder(MethodOrderer.MethodName.class)
class PatroniAcceptanceConfigIT extends ClusterTestBase {
    /** behave's {@code /CN=batman.patroni} self-signed certificate: server, client and CA at once. */
    private static final String CLIENT_DN = "/CN=batman.patroni";
    private static final String P12_PASSWORD = "it-p12";

    /** behave's output directory: certificate, csv logs, sockets, the wal archive, the callback's record. */
    private Path work;
    private Path certfile;
    private Path keyfile;
    private HttpClient https;
    private HttpClient httpsWithoutCertificate;

    @Override
    protected String scope() {
        return "batman";
    }

    @Override
    protected TestCluster newCluster() {
        work = Host.tempDir("pgkeel-behave-");
        certfile = work.resolve("patroni.crt");
        keyfile = work.resolve("patroni.key");
        // before_all, as behave runs it
        ClientCertificateIT.openssl(work, "req", "-nodes", "-new", "-x509", "-subj", "/CN=batman.patroni", "-addext",
                "subjectAltName=IP:127.0.0.1", "-keyout", keyfile.toString(), "-out", certfile.toString());
        // the test's own HTTPS client reads the pair as PKCS#12
        ClientCertificateIT.openssl(work, "pkcs12", "-export", "-in", certfile.toString(), "-inkey",
                keyfile.toString(), "-out", work.resolve("patroni.p12").toString(), "-passout", "pass:" + P12_PASSWORD);
        Path sockets = mkdir(work.resolve("sockets"));
        Path archive = mkdir(work.resolve("wal_archive"));
        Path callback = work.resolve("callback.sh");
        try {
            Files.setPosixFilePermissions(keyfile, PosixFilePermissions.fromString("rw-------"));
            Host.giveToAgentUser(keyfile);
            Host.giveToAgentUser(certfile);
            // Patroni's features/callback2.py writes a label; ours records its arguments
            Files.writeString(callback, "#!/bin/sh\necho \"$*\" >> " + work.resolve("callbacks.log") + "\n");
            Files.setPosixFilePermissions(callback, PosixFilePermissions.fromString("rwxr-xr-x"));
            https = client(true);
            httpsWithoutCertificate = client(false);
        } catch (IOException | GeneralSecurityException e) {
            throw new AssertionError(e);
        }
        // the test's own connections take the unix socket, which pg_hba trusts ('local all all trust')
        Sql.loginOverride = port -> {
            Properties p = new Properties();
            p.setProperty("socketFactory", UnixSocketFactory.class.getName());
            p.setProperty("socketFactoryArg", sockets.resolve(".s.PGSQL." + port).toString());
            return p;
        };
        return TestCluster.start(scope(), 3, new TestCluster.NodeFactory() {
            @Override
            public String yaml(TestCluster.NodeSlot node) {
                return behaveConfig(node, sockets, archive, callback);
            }

            @Override
            public Map<String, String> environment(TestCluster.NodeSlot node) {
                return behaveEnvironment(node.etcdEndpoint());
            }
        });
    }

    @AfterAll
    void resetLogin() {
        Sql.loginOverride = null;
        if (work != null && System.getenv("PGKEEL_IT_KEEP") == null) {
            Host.deleteTree(work);
        }
    }

    @Test
    void a_replicasStreamOverTlsAsTheReplicatorWithTheClientCertificate() {
        AgentProcess primary = cluster.leader();
        for (AgentProcess replica : cluster.nodes) {
            if (replica == primary) {
                continue;
            }
            assertThat(Sql.queryString(primary.pgPort, "SELECT r.usename || ' ' || s.ssl || ' ' || s.client_dn"
                    + " FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid) WHERE r.state = 'streaming'"
                    + " AND r.application_name = '" + replica.name + "'"))
                    .as(replica.name + "'s walsender").isEqualTo("replicator true " + CLIENT_DN);
        }
        // the archive_command of bootstrap.dcs runs: the wal archive fills
        Sql.execute(primary.pgPort, "CREATE TABLE behave_it AS SELECT 1 AS x");
        Sql.execute(primary.pgPort, "SELECT pg_switch_wal()");
        Await.until(Duration.ofSeconds(30), "a WAL segment in the archive", () -> {
            try (var files = Files.list(work.resolve("wal_archive"))) {
                return files.findAny().isPresent();
            } catch (IOException e) {
                return false;
            }
        });
    }

    @Test
    void b_walKeepSegmentsBecomesWalKeepSize() {
        for (AgentProcess n : cluster.nodes) {
            // 100 segments of 16 MB
            assertThat(Sql.queryString(n.pgPort, "SHOW wal_keep_size")).as(n.name).isEqualTo("1600MB");
        }
    }

    @Test
    void c_theLogsNameWhatIsIgnoredAndHaveNoError() {
        for (AgentProcess n : cluster.nodes) {
            String log = n.logText();
            List<String> warnings = log.lines().filter(l -> l.contains(" WARN ")).toList();
            for (String key : List.of("bootstrap.post_bootstrap", "postgresql.basebackup", "log.format",
                    "log.loggers")) {
                assertThat(warnings).as(n.name + ": a warning naming " + key).anyMatch(l -> l.contains(key));
            }
            assertThat(log.lines().filter(l -> l.contains(" ERROR ")).toList()).as(n.name + "'s errors").isEmpty();
        }
        // and pgkeel validate, given behave's environment, calls the file valid and names the same settings
        CliRun.Result validate = CliRun.pgkeel(null, behaveEnvironment(cluster.etcd.endpoint()), "validate",
                cluster.nodes.get(0).config.toString());
        assertThat(validate.exit()).as(validate.toString()).isZero();
        assertThat(validate.out() + validate.err()).contains("bootstrap.post_bootstrap", "postgresql.basebackup",
                "log.format");
    }

    /**
     * postgres0.yml's tags are all false (noloadbalance, clonefrom, nostream): Patroni leaves them out of the member
     * key, and so must pgkeel; nor are they warned about, since off asks for nothing.
     */
    @Test
    void c2_falseTagsAreLeftOutOfTheMemberKeyAndNotWarnedAbout() {
        for (AgentProcess n : cluster.nodes) {
            String key = cluster.etcd.get(cluster.key("members/" + n.name)).orElseThrow();
            assertThat(key).as(n.name + "'s member key").doesNotContain("noloadbalance").doesNotContain("clonefrom")
                    .doesNotContain("nostream");
            assertThat(n.logText()).as(n.name).doesNotContain("tags.clonefrom").doesNotContain("tags.nostream");
        }
    }

    @Test
    void d_theRestApiWantsTheClientCertificateAndForWritesThePassword() throws Exception {
        AgentProcess n = cluster.nodes.get(0);
        HttpResponse<String> status = send(https, n, "GET", "/patroni", null, false);
        assertThat(status.statusCode()).as(status.body()).isEqualTo(200);
        assertThat(status.body()).contains("\"state\":\"running\"");
        assertThatThrownBy(() -> send(httpsWithoutCertificate, n, "GET", "/patroni", null, false))
                .as("verify_client: required").isInstanceOf(IOException.class);
        HttpResponse<String> noAuth = send(https, n, "POST", "/reload", "{}", false);
        assertThat(noAuth.statusCode()).as(noAuth.body()).isEqualTo(401);
        HttpResponse<String> auth = send(https, n, "POST", "/reload", "{}", true);
        assertThat(auth.statusCode()).as(auth.body()).isEqualTo(202);
    }

    @Test
    void e_aSwitchoverThroughTheRestApiCompletes() throws Exception {
        AgentProcess leader = cluster.leader();
        AgentProcess candidate = cluster.nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
        String body = "{\"leader\":\"" + leader.name + "\",\"candidate\":\"" + candidate.name + "\"}";
        assertThat(send(https, leader, "POST", "/switchover", body, false).statusCode()).isEqualTo(401);
        HttpResponse<String> r = send(https, leader, "POST", "/switchover", body, true);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        cluster.awaitHealthy(Duration.ofSeconds(90));
        assertThat(cluster.leaderName()).contains(candidate.name);
        // the on_role_change callback ran on the new leader, with behave's arguments before Patroni's
        Await.until(Duration.ofSeconds(20), "the callback on " + candidate.name, () -> callbacks().lines()
                .anyMatch(l -> l.startsWith(candidate.name + " " + candidate.pgPort + " on_role_change ")));
    }

    @Test
    void f_aSwitchoverThroughCtlWithBehavesEnvironmentCompletes() {
        AgentProcess leader = cluster.leader();
        AgentProcess candidate = cluster.nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
        CliRun.Result r = CliRun.pgkeel(null, behaveEnvironment(cluster.etcd.endpoint()), "ctl", "-c",
                cluster.nodes.get(0).config.toString(), "switchover", "--leader", leader.name, "--candidate",
                candidate.name, "--force");
        assertThat(r.exit()).as(r.toString()).isZero();
        cluster.awaitHealthy(Duration.ofSeconds(90));
        assertThat(cluster.leaderName()).contains(candidate.name);
    }

    /** {@code _make_patroni_test_config} for one node, over the settings of Patroni's {@code postgres0.yml}. */
    private String behaveConfig(TestCluster.NodeSlot node, Path sockets, Path archive, Path callback) {
        Map<String, Object> config = new Yaml().load(POSTGRES0_YML);
        config.remove("etcd");
        Map<String, Object> restapi = map(config, "restapi");
        restapi.put("listen", "127.0.0.1:" + node.apiPort());
        restapi.put("connect_address", "127.0.0.1:" + node.apiPort());
        Map<String, Object> pg = map(config, "postgresql");
        pg.put("listen", "127.0.0.1:" + node.pgPort());
        pg.put("connect_address", "127.0.0.1:" + node.pgPort());
        config.put("name", node.name());
        pg.put("data_dir", node.dir().resolve("data").toString());
        pg.put("basebackup", List.of(Map.of("checkpoint", "fast")));
        pg.put("callbacks", new LinkedHashMap<>(Map.of("on_role_change", callback + " " + node.name())));
        pg.put("use_unix_socket", true);
        pg.put("use_unix_socket_repl", true);
        pg.put("pgpass", node.dir().resolve("pgpass_" + node.name()).toString());
        Map<String, Object> parameters = map(pg, "parameters");
        parameters.putAll(Map.of("logging_collector", "on", "log_destination", "csvlog", "log_directory",
                work.toString(), "log_filename", node.name() + ".log", "log_statement", "all", "log_min_messages",
                "debug1", "shared_buffers", "1MB", "unix_socket_directories", sockets.toString()));
        List<String> hba = new ArrayList<>(List.of("local all all trust", "local replication all trust",
                "host replication replicator all md5", "host all all all md5"));
        // the SSL branch: behave's certificate for the server, for every role's connections, and in pg_hba
        parameters.putAll(Map.of("ssl", "on", "ssl_ca_file", certfile.toString(), "ssl_cert_file",
                certfile.toString(), "ssl_key_file", keyfile.toString()));
        for (Object user : map(pg, "authentication").values()) {
            @SuppressWarnings("unchecked")
            Map<String, Object> options = (Map<String, Object>) user;
            options.putAll(Map.of("sslmode", "verify-ca", "sslrootcert", certfile.toString(), "sslcert",
                    certfile.toString(), "sslkey", keyfile.toString()));
        }
        hba.replaceAll(line -> line.endsWith("md5") ? "hostssl" + line.substring(4) + " clientcert=verify-ca" : line);
        pg.put("pg_hba", hba);
        Map<String, Object> bootstrap = map(config, "bootstrap");
        bootstrap.put("post_bootstrap", "psql -w -c \"SELECT 1\"");
        @SuppressWarnings("unchecked")
        List<Object> initdb = (List<Object>) bootstrap.get("initdb");
        initdb.addAll(List.of(Map.of("auth", "md5"), Map.of("auth-host", "md5")));
        recursiveUpdate(config, Map.of(
                "log", Map.of(
                        "format", "%(asctime)s %(levelname)s [%(pathname)s:%(lineno)d - %(funcName)s]: %(message)s",
                        "loggers", Map.of("patroni.postgresql.callback_executor", "DEBUG")),
                "bootstrap", Map.of("dcs", Map.of(
                        "loop_wait", 2,
                        "postgresql", Map.of("parameters", Map.of(
                                "wal_keep_segments", 100,
                                "archive_mode", "on",
                                "archive_command", "test ! -f " + archive + "/%f && cp %p " + archive + "/%f",
                                "restore_command", "cp " + archive + "/%f %p"))))));
        Map<String, Object> callbacks = map(pg, "callbacks");
        callbacks.put("on_role_change", callbacks.get("on_role_change") + " " + node.pgPort());
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        return new Yaml(options).dump(config);
    }

    /** behave's {@code before_all}: the REST API's password and certificates, and ctl's; our etcd, as the DCS. */
    private Map<String, String> behaveEnvironment(String etcd) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATRONI_ETCD3_HOST", etcd);
        env.put("PATRONI_RESTAPI_USERNAME", "username");
        env.put("PATRONI_RESTAPI_PASSWORD", "password");
        env.put("PATRONI_RESTAPI_CAFILE", certfile.toString());
        env.put("PATRONI_RESTAPI_CERTFILE", certfile.toString());
        env.put("PATRONI_RESTAPI_KEYFILE", keyfile.toString());
        env.put("PATRONI_RESTAPI_VERIFY_CLIENT", "required");
        env.put("PATRONI_CTL_INSECURE", "on");
        env.put("PATRONI_CTL_CERTFILE", certfile.toString());
        env.put("PATRONI_CTL_KEYFILE", keyfile.toString());
        return env;
    }

    /**
     * The settings of Patroni 4.1's {@code postgres0.yml} (its comments and commented-out keys left out), which
     * behave's {@code _make_patroni_test_config} starts from.
     */
    private static final String POSTGRES0_YML = """
            scope: batman
            name: postgresql0
            restapi:
              listen: 127.0.0.1:8008
              connect_address: 127.0.0.1:8008
            etcd:
              host: 127.0.0.1:2379
            bootstrap:
              dcs:
                ttl: 30
                loop_wait: 10
                retry_timeout: 10
                maximum_lag_on_failover: 1048576
                postgresql:
                  use_pg_rewind: true
                  pg_hba:
                  - host replication replicator 127.0.0.1/32 md5
                  - host all all 0.0.0.0/0 md5
              initdb:
              - encoding: UTF8
              - data-checksums
            postgresql:
              listen: 127.0.0.1:5432
              connect_address: 127.0.0.1:5432
              data_dir: data/postgresql0
              pgpass: /tmp/pgpass0
              authentication:
                replication:
                  username: replicator
                  password: rep-pass
                superuser:
                  username: postgres
                  password: patroni
                rewind:
                  username: rewind_user
                  password: rewind_password
              parameters:
                unix_socket_directories: '..'
            tags:
                noloadbalance: false
                clonefrom: false
                nostream: false
            """;

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Map<String, Object> parent, String key) {
        return (Map<String, Object>) parent.get(key);
    }

    /** behave's {@code recursive_update}: maps merge key by key, anything else replaces. */
    @SuppressWarnings("unchecked")
    private static void recursiveUpdate(Map<String, Object> dst, Map<String, Object> src) {
        src.forEach((k, v) -> {
            if (dst.get(k) instanceof Map && v instanceof Map) {
                recursiveUpdate((Map<String, Object>) dst.get(k), (Map<String, Object>) v);
            } else {
                dst.put(k, v instanceof Map ? new LinkedHashMap<>((Map<String, Object>) v) : v);
            }
        });
    }

    private String callbacks() {
        try {
            Path f = work.resolve("callbacks.log");
            return Files.exists(f) ? Files.readString(f) : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** An HTTPS client trusting behave's certificate, presenting it as the client certificate or not. */
    private HttpClient client(boolean withCertificate) throws IOException, GeneralSecurityException {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(certfile)) {
            trust.setCertificateEntry("patroni", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ssl = SSLContext.getInstance("TLS");
        if (withCertificate) {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(work.resolve("patroni.p12"))) {
                keys.load(in, P12_PASSWORD.toCharArray());
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, P12_PASSWORD.toCharArray());
            ssl.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        } else {
            ssl.init(null, tmf.getTrustManagers(), null);
        }
        return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(2)).build();
    }

    private static HttpResponse<String> send(HttpClient client, AgentProcess node, String method, String path,
                                             String body, boolean withPassword)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + node.apiPort + path))
                .timeout(Duration.ofSeconds(60))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        if (withPassword) {
            b.header("Authorization", "Basic " + Base64.getEncoder()
                    .encodeToString("username:password".getBytes(StandardCharsets.UTF_8)));
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static Path mkdir(Path dir) {
        try {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            Host.giveToAgentUser(dir);
            return dir;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}

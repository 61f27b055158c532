package io.pgkeel.agent.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.agent.tls.RestApiTls;
import io.pgkeel.config.PgkeelConfig;
import io.pgkeel.testing.FakeClock;
import io.pgkeel.testing.FakeDcs;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** restapi.certfile/keyfile (and cafile + verify_client) on a real server, with a certificate made by openssl. */
class RestApiTlsTest {
    @TempDir
    Path dir;

    private final AtomicReference<NodeSnapshot> snapshot = new AtomicReference<>(Snapshots.primary());

    private void openssl(String... args) throws Exception {
        Path openssl = Path.of("/usr/bin/openssl");
        assertThat(openssl).as("openssl is needed to make test certificates: apt-get install -y openssl").isExecutable();
        List<String> cmd = new java.util.ArrayList<>(List.of(openssl.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
    }

    private RestApiServer start(PgkeelConfig.Tls tls, int port) {
        FakeClock clock = new FakeClock();
        AdminActions admin = new AdminActions(new FakeDcs(clock).session("n1"), snapshot::get, new AdminActions.Hooks(() -> { }, () -> { }, members -> java.util.List.of(), new FakeOperator(), clock));
        return RestApiServer.start("127.0.0.1", port, snapshot::get, clock,
                new Metrics("demo", "n1", "0.1.0", snapshot::get), admin, Optional.empty(), List.of(), Optional.of(tls));
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private SSLContext clientContext(boolean withClientCert) throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream in = new FileInputStream(dir.resolve("ca.pem").toFile())) {
            trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        KeyManagerFactory kmf = null;
        if (withClientCert) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try (InputStream in = new FileInputStream(dir.resolve("client.p12").toFile())) {
                ks.load(in, "pw".toCharArray());
            }
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, "pw".toCharArray());
        }
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }

    private void makeCertificates() throws Exception {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1",
                "-subj", "/CN=pgkeel test CA");
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
                "-subj", "/CN=localhost");
        Files.writeString(dir.resolve("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
        openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "server.pem", "-days", "1", "-extfile", "san.ext");
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "client.key", "-out", "client.csr",
                "-subj", "/CN=operator");
        openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "client.pem", "-days", "1");
        openssl("pkcs12", "-export", "-in", "client.pem", "-inkey", "client.key", "-out", "client.p12",
                "-passout", "pass:pw");
    }

    @Test
    void servesHttpsAndRequiresAClientCertificateWhenAsked() throws Exception {
        makeCertificates();
        int port = freePort();
        RestApiServer server = start(new PgkeelConfig.Tls(dir.resolve("server.pem"), dir.resolve("server.key"),
                Optional.empty(), Optional.of(dir.resolve("ca.pem")), "required"), port);
        try {
            HttpRequest health = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/health"))
                    .timeout(Duration.ofSeconds(5)).build();
            HttpClient withCert = HttpClient.newBuilder().sslContext(clientContext(true)).build();
            assertThat(withCert.send(health, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            HttpClient withoutCert = HttpClient.newBuilder().sslContext(clientContext(false)).build();
            assertThatThrownBy(() -> withoutCert.send(health, HttpResponse.BodyHandlers.ofString()))
                    .as("no client certificate, no answer").isInstanceOf(IOException.class);
        } finally {
            server.close();
        }
    }

    private PgkeelConfig.Tls requiringClientCertificates() {
        return new PgkeelConfig.Tls(dir.resolve("server.pem"), dir.resolve("server.key"), Optional.empty(),
                Optional.of(dir.resolve("ca.pem")), "required");
    }

    /** The restapi section of a member whose certificate is client.pem. */
    private PgkeelConfig.Tls clientTls() {
        return new PgkeelConfig.Tls(dir.resolve("client.pem"), dir.resolve("client.key"), Optional.empty(),
                Optional.of(dir.resolve("ca.pem")), "required");
    }

    private static io.pgkeel.common.cluster.Member memberAt(int port) {
        return new io.pgkeel.common.cluster.Member("n1", "postgres://127.0.0.1:5432/postgres",
                "https://127.0.0.1:" + port + "/patroni", "running", "primary", 2, 5000, null, java.util.Map.of(), 1);
    }

    @Test
    void peersTrustTheCaFileAndPresentTheirCertificateToMembersThatRequireOne() throws Exception {
        makeCertificates();
        int port = freePort();
        RestApiServer server = start(requiringClientCertificates(), port);
        try {
            io.pgkeel.common.cluster.Member peer = memberAt(port);
            var tls = RestApiTls.peer(Optional.of(clientTls()));
            HttpPeerClient trusting = new HttpPeerClient(Duration.ofSeconds(2), io.pgkeel.common.Clock.system(), tls);
            assertThat(trusting.fetch(List.of(peer))).singleElement()
                    .satisfies(p -> assertThat(p.reachable()).as("trusted through restapi.cafile").isTrue())
                    .satisfies(p -> assertThat(p.walPosition()).isEqualTo(5000));
            HttpPeerClient defaults = new HttpPeerClient(Duration.ofSeconds(2), io.pgkeel.common.Clock.system());
            assertThat(defaults.fetch(List.of(peer))).singleElement()
                    .satisfies(p -> assertThat(p.reachable()).as("the JVM's trust store does not know the CA").isFalse());
        } finally {
            server.close();
        }
    }

    private static java.math.BigInteger servedSerial(HttpClient client, int port) throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/health"))
                .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return ((java.security.cert.X509Certificate) r.sslSession().orElseThrow().getPeerCertificates()[0])
                .getSerialNumber();
    }

    private static java.math.BigInteger serialOf(Path pem) throws Exception {
        try (InputStream in = Files.newInputStream(pem)) {
            return ((java.security.cert.X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(in)).getSerialNumber();
        }
    }

    /** Patroni's reload_config / reload_local_certificate: SIGHUP re-reads the files; new connections use them. */
    @Test
    void sighupRereadsTheCertificateAndVerifyClient() throws Exception {
        makeCertificates();
        int port = freePort();
        PgkeelConfig.Tls none = new PgkeelConfig.Tls(dir.resolve("server.pem"), dir.resolve("server.key"),
                Optional.empty(), Optional.of(dir.resolve("ca.pem")), "none");
        FakeClock clock = new FakeClock();
        AdminActions admin = new AdminActions(new FakeDcs(clock).session("n1"), snapshot::get, new AdminActions.Hooks(
                () -> { }, () -> { }, members -> List.of(), new FakeOperator(), clock));
        io.pgkeel.config.HostPort listen = new io.pgkeel.config.HostPort("127.0.0.1", port);
        RestApiServer server = RestApiServer.start(new PgkeelConfig.RestApi(listen, listen, Optional.empty(),
                List.of(), Optional.of(none)), snapshot::get, clock, new Metrics("demo", "n1", "0.1.0", snapshot::get),
                admin);
        try {
            java.math.BigInteger first = serialOf(dir.resolve("server.pem"));
            assertThat(servedSerial(HttpClient.newBuilder().sslContext(clientContext(false)).build(), port))
                    .isEqualTo(first);
            // the certificate is renewed in place (same paths, new serial), and client certificates become required
            openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                    "-out", "server.pem", "-days", "2", "-extfile", "san.ext");
            java.math.BigInteger renewed = serialOf(dir.resolve("server.pem"));
            assertThat(renewed).isNotEqualTo(first);
            List<String> notApplied = server.reconfigure(new PgkeelConfig.RestApi(listen, listen, Optional.empty(),
                    List.of(), Optional.of(new PgkeelConfig.Tls(none.certfile(), none.keyfile(), Optional.empty(),
                            none.cafile(), "required"))));
            assertThat(notApplied).isEmpty();
            assertThat(servedSerial(HttpClient.newBuilder().sslContext(clientContext(true)).build(), port))
                    .as("a new connection gets the renewed certificate").isEqualTo(renewed);
            HttpClient withoutCert = HttpClient.newBuilder().sslContext(clientContext(false)).build();
            assertThatThrownBy(() -> servedSerial(withoutCert, port))
                    .as("verify_client required now: no certificate, no answer").isInstanceOf(IOException.class);
            // files that cannot be used: the ones in use stay, and the warning names them
            Files.writeString(dir.resolve("server.pem"), "garbage");
            assertThat(server.reconfigure(new PgkeelConfig.RestApi(listen, listen, Optional.empty(), List.of(),
                    Optional.of(none)))).singleElement().asString().contains("restapi.certfile");
            assertThat(servedSerial(HttpClient.newBuilder().sslContext(clientContext(true)).build(), port))
                    .as("still served").isEqualTo(renewed);
        } finally {
            server.close();
        }
    }

    /** Patroni's PatroniRequest.reload_config: after SIGHUP the calls to the members use the new certificate. */
    @Test
    void peerClientsTakeTheNewCertificateOnReconfigure() throws Exception {
        makeCertificates();
        int port = freePort();
        RestApiServer server = start(requiringClientCertificates(), port);
        try {
            io.pgkeel.common.cluster.Member peer = memberAt(port);
            HttpPeerClient client = new HttpPeerClient(Duration.ofSeconds(2), io.pgkeel.common.Clock.system());
            assertThat(client.fetch(List.of(peer))).singleElement()
                    .satisfies(p -> assertThat(p.reachable()).as("no certificate yet").isFalse());
            client.reconfigure(RestApiTls.peer(Optional.of(clientTls())), Optional.empty());
            assertThat(client.fetch(List.of(peer))).singleElement()
                    .satisfies(p -> assertThat(p.reachable()).as("the new certificate and CA").isTrue());
        } finally {
            server.close();
        }
    }

    @Test
    void aKeyThatIsNotAKeyIsAClearError() throws Exception {
        Files.writeString(dir.resolve("bad.pem"), "not a certificate");
        assertThatThrownBy(() -> RestApiTls.server(new PgkeelConfig.Tls(dir.resolve("bad.pem"),
                dir.resolve("bad.pem"), Optional.empty(), Optional.empty(), "none")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("restapi TLS");
    }
}

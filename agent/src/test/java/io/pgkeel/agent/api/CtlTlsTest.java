package io.pgkeel.agent.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.agent.tls.RestApiTls;
import io.pgkeel.config.PgkeelConfig;
import io.pgkeel.testing.FakeClock;
import io.pgkeel.testing.FakeDcs;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TLS of pgkeel ctl's REST calls from Patroni's {@code ctl} section, against a real REST API server, as
 * Patroni 4.1's {@code PatroniRequest} sets up urllib3: {@code ctl.certfile} is the client certificate;
 * {@code insecure} without a client certificate checks nothing ({@code CERT_NONE}), and with one still checks the
 * chain but not the host name ({@code assert_hostname=False}).
 */
class CtlTlsTest {
    @TempDir
    Path dir;

    private final AtomicReference<NodeSnapshot> snapshot = new AtomicReference<>(Snapshots.primary());
    private final List<RestApiServer> servers = new ArrayList<>();

    private void openssl(String... args) throws Exception {
        Path openssl = Path.of("/usr/bin/openssl");
        assertThat(openssl).as("openssl is needed to make test certificates: apt-get install -y openssl").isExecutable();
        List<String> cmd = new ArrayList<>(List.of(openssl.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
    }

    /** ca.pem; server certificates for 127.0.0.1 and for another host, both by the CA; a rogue self-signed one. */
    @BeforeEach
    void certificates() throws Exception {
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1",
                "-subj", "/CN=pgkeel test CA");
        Files.writeString(dir.resolve("here.ext"), "subjectAltName=IP:127.0.0.1\n");
        Files.writeString(dir.resolve("elsewhere.ext"), "subjectAltName=DNS:elsewhere.example\n");
        for (String cn : List.of("here", "elsewhere", "ctl")) {
            openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", cn + ".key", "-out", cn + ".csr",
                    "-subj", "/CN=" + cn);
            List<String> sign = new ArrayList<>(List.of("x509", "-req", "-in", cn + ".csr", "-CA", "ca.pem",
                    "-CAkey", "ca.key", "-CAcreateserial", "-out", cn + ".pem", "-days", "1"));
            if (!cn.equals("ctl")) {
                sign.addAll(List.of("-extfile", cn + ".ext"));
            }
            openssl(sign.toArray(String[]::new));
        }
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "rogue.key", "-out", "rogue.pem",
                "-days", "1", "-subj", "/CN=rogue", "-addext", "subjectAltName=IP:127.0.0.1");
    }

    @AfterEach
    void stop() {
        servers.forEach(RestApiServer::close);
    }

    /** A REST API serving {@code cert}; with {@code verifyClient} "required" it asks for a certificate by ca.pem. */
    private int server(String cert, String verifyClient) throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        FakeClock clock = new FakeClock();
        AdminActions admin = new AdminActions(new FakeDcs(clock).session("n1"), snapshot::get,
                new AdminActions.Hooks(() -> { }, () -> { }, members -> List.of(), new FakeOperator(), clock));
        servers.add(RestApiServer.start("127.0.0.1", port, snapshot::get, clock,
                new Metrics("demo", "n1", "0.1.0", snapshot::get), admin, Optional.empty(), List.of(),
                Optional.of(new PgkeelConfig.Tls(dir.resolve(cert + ".pem"), dir.resolve(cert + ".key"),
                        Optional.empty(), Optional.of(dir.resolve("ca.pem")), verifyClient))));
        return port;
    }

    private PgkeelConfig.Ctl ctl(boolean insecure, String cacert, String certfile) {
        return new PgkeelConfig.Ctl(insecure, Optional.ofNullable(cacert).map(c -> dir.resolve(c + ".pem")),
                Optional.ofNullable(certfile).map(c -> dir.resolve(c + ".pem")),
                Optional.ofNullable(certfile).map(c -> dir.resolve(c + ".key")), Optional.empty(), Optional.empty());
    }

    /** GET /health with pgkeel ctl's TLS; the status, or the failure's text when there is no answer. */
    private String get(PgkeelConfig.Ctl ctl, int port) {
        HttpClient client = HttpClient.newBuilder().sslContext(RestApiTls.ctl(ctl)).build();
        try {
            return String.valueOf(client.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port
                    + "/health")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString())
                    .statusCode());
        } catch (IOException e) {
            return "failed: " + e;
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void theClientCertificateIsCtlCertfile() throws Exception {
        int required = server("here", "required");
        assertThat(get(ctl(false, "ca", "ctl"), required)).isEqualTo("200");
        assertThat(get(ctl(false, "ca", null), required)).as("no ctl.certfile: no client certificate")
                .startsWith("failed");
        assertThat(get(ctl(false, "ca", "rogue"), required)).as("a certificate the server's CA did not sign")
                .startsWith("failed");
    }

    @Test
    void withoutInsecureTheChainAndTheHostNameAreChecked() throws Exception {
        int here = server("here", "none");
        int elsewhere = server("elsewhere", "none");
        int rogue = server("rogue", "none");
        assertThat(get(ctl(false, "ca", null), here)).isEqualTo("200");
        assertThat(get(ctl(false, "ca", null), elsewhere)).as("host name").startsWith("failed");
        assertThat(get(ctl(false, "ca", null), rogue)).as("chain").startsWith("failed");
        assertThat(get(ctl(false, null, null), here)).as("the JVM's trust store does not know the CA")
                .startsWith("failed");
    }

    @Test
    void insecureWithoutAClientCertificateChecksNothing() throws Exception {
        int elsewhere = server("elsewhere", "none");
        int rogue = server("rogue", "none");
        assertThat(get(ctl(true, null, null), elsewhere)).isEqualTo("200");
        assertThat(get(ctl(true, null, null), rogue)).isEqualTo("200");
        assertThat(get(ctl(true, "ca", null), rogue)).as("a cacert does not bring the check back").isEqualTo("200");
    }

    @Test
    void insecureWithAClientCertificateStillChecksTheChainButNotTheHostName() throws Exception {
        int elsewhere = server("elsewhere", "required");
        int rogue = server("rogue", "required");
        assertThat(get(ctl(true, "ca", "ctl"), elsewhere)).isEqualTo("200");
        assertThat(get(ctl(true, "ca", "ctl"), rogue)).as("chain still checked").startsWith("failed");
    }

    @Test
    void anUnusableFileIsAnErrorNamingIt() throws IOException {
        Files.writeString(dir.resolve("garbage.pem"), "not a certificate");
        Files.writeString(dir.resolve("garbage.key"), "not a key");
        assertThatThrownBy(() -> RestApiTls.ctl(ctl(false, "ca", "garbage"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ctl").hasMessageContaining("garbage.pem");
    }
}

package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.agent.tls.RestApiTls;
import io.pgkeel.config.Credentials;
import io.pgkeel.config.PgkeelConfig;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * SIGHUP applies the REST API's security settings to a running agent, as Patroni's reload_config: a new password,
 * extra headers, an allowlist by host name (and one that resolves to nobody, which stays closed), verify_client,
 * allowlist_include_members (not for POST /failsafe), and a certificate renewed in place, which new connections get. What cannot apply (restapi.listen) is named in the
 * restart-needed warning.
 */
@TestMethodOrder(MethodOrderer.MethodName.class)
class RestApiReloadIT extends ClusterTestBase {
    private Path certs;
    private String baseYaml;

    @Override
    protected String scope() {
        return "it-restapi-reload";
    }

    @Override
    protected TestCluster newCluster() {
        certs = Host.tempDir("pgkeel-reload-certs-");
        CtlSectionIT.makeCertificates(certs);
        return TestCluster.start(scope(), 2, (name, yaml) -> yaml.replaceFirst("(restapi:\\n(  .*\\n)*)", "$1"
                + restapi("old", "[127.0.0.1]", "none", "")));
    }

    /** The restapi keys this test changes, appended to the section. */
    private String restapi(String password, String allowlist, String verifyClient, String more) {
        return """
                  certfile: %s
                  keyfile: %s
                  cafile: %s
                  verify_client: %s
                  authentication: {username: admin, password: %s}
                  allowlist: %s
                """.formatted(certs.resolve("server.crt"), certs.resolve("server.key"), certs.resolve("ca.crt"),
                verifyClient, password, allowlist) + more;
    }

    @AfterAll
    void deleteCertificates() {
        if (certs != null && System.getenv("PGKEEL_IT_KEEP") == null) {
            Host.deleteTree(certs);
        }
    }

    private AgentProcess node() {
        return cluster.nodes.get(0);
    }

    /** The node's YAML with {@code restapi} lines (as {@link #restapi}) in place of those it started with. */
    private void rewrite(String restapiLines) throws IOException {
        if (baseYaml == null) {
            baseYaml = Files.readString(node().config);
        }
        String started = restapi("old", "[127.0.0.1]", "none", "");
        assertThat(baseYaml).contains(started);
        Files.writeString(node().config, baseYaml.replace(started, restapiLines));
        Host.signal(node().pid(), "HUP");
    }

    private SSLContext tls(boolean clientCertificate) {
        return RestApiTls.ctl(new PgkeelConfig.Ctl(false, Optional.of(certs.resolve("ca.crt")),
                clientCertificate ? Optional.of(certs.resolve("ctl.crt")) : Optional.empty(),
                clientCertificate ? Optional.of(certs.resolve("ctl.key")) : Optional.empty(), Optional.empty(),
                Optional.<Credentials>empty()));
    }

    /** POST /sigterm (a write that changes nothing outside Windows) with {@code password}, on a new connection. */
    private HttpResponse<String> post(String password, boolean clientCertificate) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + node().apiPort + "/sigterm"))
                .timeout(Duration.ofSeconds(10)).POST(HttpRequest.BodyPublishers.noBody());
        if (password != null) {
            b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(("admin:" + password)
                    .getBytes(StandardCharsets.UTF_8)));
        }
        return send(b.build(), clientCertificate);
    }

    private HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + node().apiPort + path))
                .timeout(Duration.ofSeconds(10)).build(), false);
    }

    private HttpResponse<String> send(HttpRequest request, boolean clientCertificate) {
        // a client per request: a new connection, so a renewed certificate shows
        HttpClient http = HttpClient.newBuilder().sslContext(tls(clientCertificate)).build();
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new AssertionError(request + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static BigInteger serial(HttpResponse<?> r) {
        try {
            return ((X509Certificate) r.sslSession().orElseThrow().getPeerCertificates()[0]).getSerialNumber();
        } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
            throw new AssertionError(e);
        }
    }

    private BigInteger serialOnDisk() throws Exception {
        try (InputStream in = Files.newInputStream(certs.resolve("server.crt"))) {
            return ((X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in)).getSerialNumber();
        }
    }

    /** A new certificate for the same key, written over server.crt (as a renewal tool does). */
    private void renewCertificate() throws IOException {
        ClientCertificateIT.openssl(certs, "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", "renewed.crt", "-days", "3", "-extfile", "server.ext");
        Path renewed = certs.resolve("renewed.crt");
        Files.setPosixFilePermissions(renewed, PosixFilePermissions.fromString("rw-------"));
        Host.giveToAgentUser(renewed);
        Files.move(renewed, certs.resolve("server.crt"), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
    }

    @Test
    void a_sighupAppliesPasswordHeadersAllowlistByNameAndTheRenewedCertificate() throws Exception {
        assertThat(post("old", false).statusCode()).isEqualTo(202);
        assertThat(post("new", false).statusCode()).isEqualTo(401);
        BigInteger first = serialOnDisk();
        assertThat(serial(get("/health"))).isEqualTo(first);

        renewCertificate();
        rewrite(restapi("new", "[localhost]", "none", """
                  http_extra_headers:
                    X-Frame-Options: DENY
                  https_extra_headers:
                    Strict-Transport-Security: max-age=31536000
                """));
        Await.until(Duration.ofSeconds(20), "the new password in force", () -> post("new", false).statusCode() == 202,
                () -> post("new", false).toString());
        assertThat(post("old", false).statusCode()).as("the old password no longer").isEqualTo(401);
        HttpResponse<String> health = get("/health");
        assertThat(serial(health)).as("a new connection gets the renewed certificate").isEqualTo(serialOnDisk())
                .isNotEqualTo(first);
        assertThat(health.headers().firstValue("X-Frame-Options")).hasValue("DENY");
        assertThat(health.headers().firstValue("Strict-Transport-Security")).hasValue("max-age=31536000");
        assertThat(post("new", false).headers().firstValue("X-Frame-Options")).hasValue("DENY");
    }

    @Test
    void b_anAllowlistThatResolvesToNobodyStaysClosed() throws Exception {
        rewrite(restapi("new", "[no-such-host.invalid]", "none", ""));
        Await.until(Duration.ofSeconds(20), "the allowlist in force", () -> post("new", false).statusCode() == 403);
        assertThat(post("new", false).body()).isEqualTo("Access is denied");
        assertThat(get("/health").statusCode()).as("reads stay open").isEqualTo(200);
    }

    @Test
    void c_verifyClientOptionalAsksWritesForACertificate() throws Exception {
        rewrite(restapi("new", "[127.0.0.1]", "optional", ""));
        // the test before left a 403 of its own ("Access is denied"): wait for this reload's answer, not any 403
        Await.until(Duration.ofSeconds(20), "verify_client in force",
                () -> "client certificate required".equals(post("new", false).body()),
                () -> post("new", false).toString());
        assertThat(post("new", false).statusCode()).isEqualTo(403);
        assertThat(post("new", true).statusCode()).isEqualTo(202);
    }

    /** POST /failsafe (a write every member is asked for) with a client certificate and the password. */
    private HttpResponse<String> postFailsafe() {
        return send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + node().apiPort + "/failsafe"))
                .timeout(Duration.ofSeconds(10)).header("Authorization", "Basic " + Base64.getEncoder()
                        .encodeToString("admin:new".getBytes(StandardCharsets.UTF_8)))
                .POST(HttpRequest.BodyPublishers.ofString("{\"name\": \"x\"}")).build(), true);
    }

    @Test
    void cc_allowlistIncludeMembersLetsTheMembersHostsIn_butNotOnPostFailsafe() throws Exception {
        // every member's api_url is on 127.0.0.1; the allowlist itself lets nobody in
        rewrite(restapi("new", "[no-such-host.invalid]", "optional", "  allowlist_include_members: true\n"));
        // Patroni's @check_access(allowlist_check_members=False): only the allowlist counts for POST /failsafe.
        // The test before allowed 127.0.0.1 (POST /failsafe answered 502), so this 403 shows the reload in force.
        Await.until(Duration.ofSeconds(20), "the new allowlist in force", () -> postFailsafe().statusCode() == 403,
                () -> postFailsafe().toString());
        assertThat(postFailsafe().body()).isEqualTo("Access is denied");
        HttpResponse<String> member = post("new", true);
        assertThat(member.statusCode()).as("the members' hosts allowed: " + member.body()).isEqualTo(202);
        rewrite(restapi("new", "[127.0.0.1]", "optional", "  allowlist_include_members: true\n"));
        Await.until(Duration.ofSeconds(20), "the allowlist in force", () -> postFailsafe().statusCode() != 403);
        assertThat(postFailsafe().statusCode()).as("failsafe_mode off: 502").isEqualTo(502);
    }

    @Test
    void d_aNewListenAddressIsNamedForARestart() throws Exception {
        String moved = Files.readString(node().config);
        Files.writeString(node().config, moved.replace("listen: 127.0.0.1:" + node().apiPort,
                "listen: 127.0.0.1:" + (node().apiPort + 1)));
        Host.signal(node().pid(), "HUP");
        Await.until(Duration.ofSeconds(20), "the restart-needed warning", () -> {
            try {
                return Files.readString(node().log).contains("restapi.listen changed; these apply only when pgkeel"
                        + " restarts");
            } catch (IOException e) {
                return false;
            }
        });
        assertThat(post("new", true).statusCode()).as("still served where it was bound").isEqualTo(202);
    }
}

package io.pgkeel.agent.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.config.Credentials;
import io.pgkeel.testing.FakeClock;
import io.pgkeel.testing.FakeDcs;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * restapi.http_extra_headers / https_extra_headers on every kind of response, and check_access's refusals, on an
 * EmbeddedChannel with the server's own pipeline.
 */
class RestApiExtraHeadersTest {
    private final AtomicReference<NodeSnapshot> snapshot = new AtomicReference<>(Snapshots.primary());
    private final FakeClock clock = new FakeClock();
    private final AtomicReference<SecurityRefresher.RestSecurity> security = new AtomicReference<>();

    private static Map<String, String> headers() {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("X-Frame-Options", "DENY");
        h.put("Strict-Transport-Security", "max-age=31536000");
        h.put("X-Custom", "a, b");
        return h;
    }

    private EmbeddedChannel channel(AccessPolicy access) {
        security.set(new SecurityRefresher.RestSecurity(access, headers(), null));
        AdminActions admin = new AdminActions(new FakeDcs(clock).session("n1"), snapshot::get, new AdminActions.Hooks(
                () -> { }, () -> { }, members -> List.of(), new FakeOperator(), clock));
        return EmbeddedRest.channel(new RestApiHandler(snapshot::get, clock, new StatusJson(),
                        new Metrics("demo", "n1", "0.1.0", snapshot::get), admin, Runnable::run, security::get));
    }

    private static String exchange(EmbeddedChannel ch, String request) {
        return EmbeddedRest.exchange(ch, request);
    }

    private static String post(String path, String body) {
        return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
    }

    private static final AccessPolicy PASSWORD = new AccessPolicy(Optional.of(new Credentials("admin", "s3cret")),
            List.of());
    private static final AccessPolicy ALLOWLIST = new AccessPolicy(Optional.empty(), List.of("10.0.0.0/8"));

    static Stream<Arguments> responses() {
        return Stream.of(
                Arguments.of("a health check's 200 with the status JSON", AccessPolicy.OPEN,
                        "GET /primary HTTP/1.1\r\nHost: x\r\n\r\n", "200"),
                Arguments.of("a health check's 503", AccessPolicy.OPEN, "GET /replica HTTP/1.1\r\nHost: x\r\n\r\n",
                        "503"),
                Arguments.of("HEAD: the status only", AccessPolicy.OPEN, "HEAD /primary HTTP/1.1\r\nHost: x\r\n\r\n",
                        "200"),
                Arguments.of("OPTIONS: the status only", AccessPolicy.OPEN, "OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n",
                        "200"),
                Arguments.of("/liveness (no body)", AccessPolicy.OPEN, "GET /liveness HTTP/1.1\r\nHost: x\r\n\r\n",
                        "503"),
                Arguments.of("/metrics", AccessPolicy.OPEN, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", "200"),
                Arguments.of("/cluster", AccessPolicy.OPEN, "GET /cluster HTTP/1.1\r\nHost: x\r\n\r\n", "200"),
                Arguments.of("an error page (send_error)", AccessPolicy.OPEN,
                        "GET /failsafe HTTP/1.1\r\nHost: x\r\n\r\n", "502"),
                Arguments.of("a write's text answer", AccessPolicy.OPEN, post("/reload", ""), "202"),
                Arguments.of("a write's 400 for a bad body", AccessPolicy.OPEN, post("/switchover", "[1]"), "400"),
                Arguments.of("an unknown method's 501", AccessPolicy.OPEN, post("/nothing", "{}"), "501"),
                Arguments.of("401 from check_access", PASSWORD, post("/reload", ""), "401"),
                Arguments.of("403 from check_access", ALLOWLIST, post("/reload", ""), "403"),
                Arguments.of("a malformed request's 400", AccessPolicy.OPEN, "BLAH\r\n\r\n", "400"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("responses")
    void everyResponseCarriesTheExtraHeadersInTheirOrder(String what, AccessPolicy access, String request,
                                                         String status) {
        String r = exchange(channel(access), request);
        assertThat(r).startsWith("HTTP/1.1 " + status + " ");
        String head = r.substring(0, r.indexOf("\r\n\r\n") + 2);
        assertThat(head).containsSubsequence("X-Frame-Options: DENY\r\n",
                "Strict-Transport-Security: max-age=31536000\r\n", "X-Custom: a, b\r\n");
        assertThat(head.split("X-Frame-Options", -1)).as("once").hasSize(2);
    }

    @Test
    void checkAccessAnswersWithPatronisTexts() {
        String noHeader = exchange(channel(PASSWORD), post("/reload", ""));
        assertThat(noHeader).startsWith("HTTP/1.1 401").contains("www-authenticate: Basic realm=\"Patroni\"")
                .endsWith("\r\n\r\nno auth header received");
        String wrong = exchange(channel(PASSWORD), "POST /reload HTTP/1.1\r\nHost: x\r\nAuthorization: Basic eDp5\r\n"
                + "Content-Length: 0\r\n\r\n");
        assertThat(wrong).startsWith("HTTP/1.1 401").endsWith("\r\n\r\nnot authenticated");
        // an EmbeddedChannel has no IP address: outside every network
        assertThat(exchange(channel(ALLOWLIST), post("/reload", ""))).startsWith("HTTP/1.1 403")
                .endsWith("\r\n\r\nAccess is denied");
        AccessPolicy certificate = new AccessPolicy(Optional.empty(), false, List.of(), false, List.of(), true);
        assertThat(exchange(channel(certificate), post("/reload", ""))).as("verify_client optional, no certificate")
                .startsWith("HTTP/1.1 403").endsWith("\r\n\r\nclient certificate required");
        assertThat(exchange(channel(certificate), "GET /primary HTTP/1.1\r\nHost: x\r\n\r\n"))
                .as("reads are open").startsWith("HTTP/1.1 200");
    }

    @Test
    void postFailsafeIsNotAllowedByBeingAMember_butAMemberOnlyListDoesNotGuardIt() {
        AccessPolicy membersOnly = new AccessPolicy(Optional.empty(), false, List.of(), true, List.of(), false);
        assertThat(exchange(channel(membersOnly), post("/reload", ""))).startsWith("HTTP/1.1 403");
        assertThat(exchange(channel(membersOnly), post("/failsafe", "{\"name\": \"n2\"}")))
                .as("Patroni: @check_access(allowlist_check_members=False)").doesNotStartWith("HTTP/1.1 403");
        assertThat(exchange(channel(ALLOWLIST), post("/failsafe", "{\"name\": \"n2\"}")))
                .as("the allowlist still applies").startsWith("HTTP/1.1 403");
    }
}

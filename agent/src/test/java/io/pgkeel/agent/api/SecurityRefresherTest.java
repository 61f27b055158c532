package io.pgkeel.agent.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.config.Credentials;
import io.pgkeel.config.HostPort;
import io.pgkeel.config.PgkeelConfig;
import io.pgkeel.testing.FakeClock;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * restapi.allowlist host names, allowlist_include_members and SIGHUP's new restapi section, resolved through a table
 * instead of DNS (okhttp's FakeDns idea) and checked as Patroni's check_access does.
 */
class SecurityRefresherTest {
    private static final HostPort LISTEN = new HostPort("127.0.0.1", 8008);

    private final FakeClock clock = new FakeClock();
    /** What the "DNS" answers; a name not in it does not resolve. */
    private final Map<String, List<InetAddress>> dns = new HashMap<>();
    private final AtomicInteger lookups = new AtomicInteger();
    private final AtomicReference<NodeSnapshot> snapshot = new AtomicReference<>(Snapshots.primary());

    private SecurityRefresher refresher(PgkeelConfig.RestApi restapi) {
        return new SecurityRefresher(restapi, snapshot::get, host -> {
            lookups.incrementAndGet();
            List<InetAddress> found = dns.get(host);
            if (found == null) {
                throw new UnknownHostException(host);
            }
            return found;
        }, clock);
    }

    private static PgkeelConfig.RestApi restapi(List<String> allowlist, boolean includeMembers) {
        return new PgkeelConfig.RestApi(LISTEN, LISTEN, Optional.empty(), allowlist, Optional.empty(), includeMembers,
                Map.of(), Map.of());
    }

    private static InetAddress ip(String s) {
        try {
            return InetAddress.getByName(s);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(s, e);
        }
    }

    private static boolean allows(SecurityRefresher r, String client) {
        return r.current().access().check(ip(client), null, false, true).isEmpty();
    }

    /** The snapshot with these members' api_urls in the cluster view. */
    private void members(String... apiUrls) {
        NodeSnapshot s = Snapshots.primary();
        ClusterView c = s.cluster();
        List<Member> members = new ArrayList<>();
        for (int i = 0; i < apiUrls.length; i++) {
            members.add(new Member("m" + i, "postgres://x:5432/postgres", apiUrls[i], "running", "replica", 2, 0, null,
                    Map.of(), 1));
        }
        snapshot.set(Snapshots.with(s, new ClusterView(c.initialize(), c.config(), c.leader(), members,
                c.lastLeaderLsn(), c.failover(), c.history(), c.revision()), true, 1));
    }

    static Stream<Arguments> forms() {
        return Stream.of(
                Arguments.of("an address", List.of("10.0.0.7"), false, "10.0.0.7", true),
                Arguments.of("an address, another client", List.of("10.0.0.7"), false, "10.0.0.8", false),
                Arguments.of("a network", List.of("10.0.0.0/8"), false, "10.200.1.1", true),
                Arguments.of("an IPv6 network", List.of("fd00::/8"), false, "fd12::1", true),
                Arguments.of("a host name: its first address", List.of("ops.example"), false, "192.0.2.10", true),
                Arguments.of("a host name: its second address", List.of("ops.example"), false, "2001:db8::10", true),
                Arguments.of("a host name: not its address", List.of("ops.example"), false, "192.0.2.11", false),
                Arguments.of("a name that does not resolve allows nobody", List.of("gone.example"), false,
                        "192.0.2.10", false),
                Arguments.of("...and the other entries still count", List.of("gone.example", "10.0.0.0/8"), false,
                        "10.1.1.1", true),
                Arguments.of("members: a member's host name", List.of(), true, "192.0.2.21", true),
                Arguments.of("members: a member's IPv4 address", List.of(), true, "192.0.2.22", true),
                Arguments.of("members: a member's bracketed IPv6 address", List.of(), true, "2001:db8::23", true),
                Arguments.of("members: anyone else", List.of(), true, "192.0.2.99", false),
                Arguments.of("members and an allowlist: either", List.of("10.0.0.0/8"), true, "10.1.1.1", true),
                Arguments.of("members off: a member is nobody special", List.of("10.0.0.0/8"), false, "192.0.2.21",
                        false),
                Arguments.of("nothing configured: everyone", List.of(), false, "203.0.113.5", true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("forms")
    void allowlistFormsAreResolvedOffTheRequest(String what, List<String> allowlist, boolean includeMembers,
                                                String client, boolean allowed) {
        dns.put("ops.example", List.of(ip("192.0.2.10"), ip("2001:db8::10")));
        dns.put("db1.example", List.of(ip("192.0.2.21")));
        dns.put("192.0.2.22", List.of(ip("192.0.2.22")));
        dns.put("2001:db8::23", List.of(ip("2001:db8::23")));
        members("http://db1.example:8008/patroni", "https://192.0.2.22:8008/patroni", "http://[2001:db8::23]:8008/patroni",
                null, "not a url");
        assertThat(allows(refresher(restapi(allowlist, includeMembers)), client)).isEqualTo(allowed);
    }

    @Test
    void postFailsafeSkipsTheMembersButNotTheAllowlist() {
        dns.put("db1.example", List.of(ip("192.0.2.21")));
        members("http://db1.example:8008/patroni");
        AccessPolicy onlyMembers = refresher(restapi(List.of(), true)).current().access();
        // Patroni: @check_access(allowlist_check_members=False) -- no allowlist, so no address check at all
        assertThat(onlyMembers.check(ip("203.0.113.5"), null, false, false)).isEmpty();
        assertThat(onlyMembers.check(ip("203.0.113.5"), null, false, true)).hasValue(
                new AccessPolicy.Refusal(403, "Access is denied"));
        AccessPolicy both = refresher(restapi(List.of("10.0.0.0/8"), true)).current().access();
        assertThat(both.check(ip("192.0.2.21"), null, false, false)).as("a member is not in the allowlist")
                .hasValue(new AccessPolicy.Refusal(403, "Access is denied"));
        assertThat(both.check(ip("10.1.1.1"), null, false, false)).isEmpty();
    }

    @Test
    void aMemberThatJoinsIsAllowedAtTheNextLook_andDnsIsAskedAgainOnlyAfterReresolve() {
        dns.put("db1.example", List.of(ip("192.0.2.21")));
        dns.put("db2.example", List.of(ip("192.0.2.22")));
        members("http://db1.example:8008/patroni");
        SecurityRefresher r = refresher(restapi(List.of("ops.example"), true));
        assertThat(allows(r, "192.0.2.22")).isFalse();
        members("http://db1.example:8008/patroni", "http://db2.example:8008/patroni");
        r.refreshIfStale();
        assertThat(allows(r, "192.0.2.22")).as("the member hosts changed: resolved at once").isTrue();
        int asked = lookups.get();
        r.refreshIfStale();
        assertThat(lookups.get()).as("nothing changed: DNS is not asked").isEqualTo(asked);
        dns.put("ops.example", List.of(ip("192.0.2.10")));
        assertThat(allows(r, "192.0.2.10")).isFalse();
        clock.advance(SecurityRefresher.RERESOLVE);
        r.refreshIfStale();
        assertThat(allows(r, "192.0.2.10")).as("a name that resolves now, after RERESOLVE").isTrue();
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void sighupAppliesAuthenticationAllowlistAndHeadersAtOnce() {
        SecurityRefresher r = refresher(new PgkeelConfig.RestApi(LISTEN, LISTEN,
                Optional.of(new Credentials("admin", "old")), List.of("10.0.0.0/8"), Optional.empty(), false,
                Map.of("X-Frame-Options", "SAMEORIGIN"), Map.of()));
        assertThat(r.current().access().check(ip("10.1.1.1"), basic("admin", "old"), false, true)).isEmpty();
        dns.put("ops.example", List.of(ip("192.0.2.10")));
        List<String> notApplied = r.reconfigure(new PgkeelConfig.RestApi(new HostPort("0.0.0.0", 9999), LISTEN,
                Optional.of(new Credentials("admin", "new")), List.of("ops.example"), Optional.empty(), false,
                Map.of("X-Frame-Options", "DENY"), Map.of("Strict-Transport-Security", "max-age=1")));
        assertThat(notApplied).as("listen is the caller's to compare").isEmpty();
        AccessPolicy p = r.current().access();
        assertThat(p.check(ip("192.0.2.10"), basic("admin", "old"), false, true))
                .hasValue(new AccessPolicy.Refusal(401, "not authenticated"));
        assertThat(p.check(ip("192.0.2.10"), basic("admin", "new"), false, true)).isEmpty();
        assertThat(p.check(ip("10.1.1.1"), basic("admin", "new"), false, true))
                .hasValue(new AccessPolicy.Refusal(403, "Access is denied"));
        assertThat(p.check(ip("192.0.2.10"), null, false, true))
                .hasValue(new AccessPolicy.Refusal(401, "no auth header received"));
        assertThat(r.current().extraHeaders()).as("no TLS: the https ones stay unsent")
                .containsExactly(Map.entry("X-Frame-Options", "DENY"));
        assertThat(r.settings().listen()).as("the listen address in force is the one bound").isEqualTo(LISTEN);
        r.reconfigure(restapi(List.of(), false));
        assertThat(r.current().access().check(ip("203.0.113.5"), null, false, true)).as("everything removed").isEmpty();
    }

    @Test
    void tlsSwitchedOnIsNamedForARestartAndNotApplied() {
        SecurityRefresher r = refresher(restapi(List.of(), false));
        List<String> notApplied = r.reconfigure(new PgkeelConfig.RestApi(LISTEN, LISTEN, Optional.empty(), List.of(),
                Optional.of(new PgkeelConfig.Tls(java.nio.file.Path.of("/nonexistent/cert.pem"),
                        java.nio.file.Path.of("/nonexistent/key.pem"), Optional.empty(), Optional.empty(), "none")),
                false, Map.of(), Map.of("Strict-Transport-Security", "max-age=1")));
        assertThat(notApplied).singleElement().asString().contains("restapi.certfile").contains("TLS switched on");
        assertThat(r.current().ssl()).isNull();
        assertThat(r.current().extraHeaders()).as("still plain http: no https headers").isEmpty();
        assertThat(r.settings().tls()).isEmpty();
    }
}

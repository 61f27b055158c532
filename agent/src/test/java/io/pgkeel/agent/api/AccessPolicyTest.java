package io.pgkeel.agent.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.config.Credentials;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AccessPolicyTest {
    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    @Test
    void openByDefault() throws Exception {
        assertThat(AccessPolicy.OPEN.check(ip("10.1.2.3"), null)).isZero();
    }

    @Test
    void basicAuthenticationIsRequiredWhenConfigured() throws Exception {
        AccessPolicy p = new AccessPolicy(Optional.of(new Credentials("admin", "s3cret")), List.of());
        assertThat(p.check(ip("127.0.0.1"), basic("admin", "s3cret"))).isZero();
        assertThat(p.check(ip("127.0.0.1"), basic("admin", "wrong"))).isEqualTo(401);
        assertThat(p.check(ip("127.0.0.1"), null)).isEqualTo(401);
        assertThat(p.check(ip("127.0.0.1"), "Basic !!!not-base64")).isEqualTo(401);
        assertThat(p.check(ip("127.0.0.1"), "Bearer abc")).isEqualTo(401);
    }

    @Test
    void allowlistIsCheckedBeforeCredentials() throws Exception {
        AccessPolicy p = new AccessPolicy(Optional.of(new Credentials("admin", "s3cret")),
                List.of("10.0.0.0/8", "192.168.1.7", "fd00::/8"));
        assertThat(p.check(ip("10.200.3.4"), basic("admin", "s3cret"))).isZero();
        assertThat(p.check(ip("192.168.1.7"), basic("admin", "s3cret"))).isZero();
        assertThat(p.check(ip("192.168.1.8"), basic("admin", "s3cret"))).isEqualTo(403);
        assertThat(p.check(ip("11.0.0.1"), null)).as("403 before 401").isEqualTo(403);
        assertThat(p.check(ip("fd12::1"), basic("admin", "s3cret"))).isZero();
        assertThat(p.check(null, basic("admin", "s3cret"))).as("unknown address").isEqualTo(403);
    }

    @Test
    void partialOctetPrefixes() throws Exception {
        AccessPolicy p = new AccessPolicy(Optional.empty(), List.of("172.16.0.0/12"));
        assertThat(p.check(ip("172.31.255.255"), null)).isZero();
        assertThat(p.check(ip("172.32.0.1"), null)).isEqualTo(403);
    }
}

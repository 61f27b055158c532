package io.pgkeel.agent.api;

import io.pgkeel.config.Credentials;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/**
 * Who may call the write endpoints ({@code restapi.allowlist}, {@code restapi.authentication}), checked as
 * Patroni does: the address first (403), then the credentials (401). Health and status reads are open.
 */
final class AccessPolicy {
    static final AccessPolicy OPEN = new AccessPolicy(Optional.empty(), List.of());

    private record Range(byte[] network, int prefix) {}

    private final Optional<Credentials> credentials;
    private final List<Range> allowlist;

    AccessPolicy(Optional<Credentials> credentials, List<String> allowlist) {
        this.credentials = credentials;
        this.allowlist = allowlist.stream().map(AccessPolicy::range).toList();
    }

    /** 0 when allowed, else the HTTP status to answer: 403 (address not allowed) or 401 (bad credentials). */
    int check(InetAddress client, String authorization) {
        if (!allowlist.isEmpty() && (client == null || allowlist.stream().noneMatch(r -> contains(r, client)))) {
            return 403;
        }
        if (credentials.isPresent() && !matches(authorization)) {
            return 401;
        }
        return 0;
    }

    private boolean matches(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            return false;
        }
        byte[] given;
        try {
            given = Base64.getDecoder().decode(authorization.substring(6).trim());
        } catch (IllegalArgumentException e) {
            return false;
        }
        Credentials c = credentials.get();
        byte[] expected = (c.username() + ":" + c.password()).getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(given, expected);
    }

    private static Range range(String entry) {
        int slash = entry.indexOf('/');
        try {
            byte[] addr = InetAddress.getByName(slash < 0 ? entry : entry.substring(0, slash)).getAddress();
            int prefix = slash < 0 ? addr.length * 8 : Integer.parseInt(entry.substring(slash + 1));
            if (prefix < 0 || prefix > addr.length * 8) {
                throw new IllegalArgumentException("bad prefix length in allowlist entry " + entry);
            }
            return new Range(addr, prefix);
        } catch (UnknownHostException | NumberFormatException e) {
            throw new IllegalArgumentException("bad allowlist entry " + entry, e);
        }
    }

    private static boolean contains(Range r, InetAddress client) {
        byte[] a = client.getAddress();
        if (a.length != r.network().length) {
            return false;
        }
        int full = r.prefix() / 8;
        for (int i = 0; i < full; i++) {
            if (a[i] != r.network()[i]) {
                return false;
            }
        }
        int rest = r.prefix() % 8;
        if (rest == 0) {
            return true;
        }
        int mask = 0xFF << (8 - rest) & 0xFF;
        return (a[full] & mask) == (r.network()[full] & mask);
    }
}

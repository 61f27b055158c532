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
 * Who may call the write endpoints, checked as Patroni 4.1's {@code RestApiServer.check_access} does: the client's
 * address against {@code restapi.allowlist} and, with {@code allowlist_include_members}, the members' REST API hosts
 * (403 {@code Access is denied}); then a client certificate when {@code verify_client} asks for one (403
 * {@code client certificate required}); then the credentials (401). Health and status reads are open.
 *
 * <p>Immutable: every address is resolved before the policy is built (by {@link SecurityRefresher}, off the event
 * loop), so a check never looks anything up.
 */
final class AccessPolicy {
    static final AccessPolicy OPEN = new AccessPolicy(Optional.empty(), false, List.of(), false, List.of(), false);

    /** An address and how many of its leading bits a client's must share (all of them for a single host). */
    record Network(byte[] address, int prefix) {
        static Network of(InetAddress a) {
            return new Network(a.getAddress(), a.getAddress().length * 8);
        }

        boolean contains(InetAddress client) {
            byte[] a = client.getAddress();
            if (a.length != address.length) {
                return false;
            }
            int full = prefix / 8;
            for (int i = 0; i < full; i++) {
                if (a[i] != address[i]) {
                    return false;
                }
            }
            int rest = prefix % 8;
            if (rest == 0) {
                return true;
            }
            int mask = 0xFF << (8 - rest) & 0xFF;
            return (a[full] & mask) == (address[full] & mask);
        }
    }

    /** Why a request is refused: the status and Patroni's text for it. */
    record Refusal(int status, String text) {}

    private final Optional<Credentials> credentials;
    private final boolean hasAllowlist;
    private final List<Network> allowlist;
    private final boolean includeMembers;
    private final List<Network> members;
    private final boolean clientCertificateRequired;

    /**
     * @param hasAllowlist              {@code restapi.allowlist} has entries: the address is checked even when none
     *                                  of them resolved (Patroni then checks nothing and lets everyone in; a list
     *                                  that names nobody reachable must not open the API, docs/decisions.md)
     * @param allowlist                 {@code restapi.allowlist}, host names already resolved
     * @param includeMembers            {@code restapi.allowlist_include_members}
     * @param members                   the members' api_url hosts, resolved (used only with includeMembers)
     * @param clientCertificateRequired TLS with {@code verify_client} optional or required
     */
    AccessPolicy(Optional<Credentials> credentials, boolean hasAllowlist, List<Network> allowlist,
                 boolean includeMembers, List<Network> members, boolean clientCertificateRequired) {
        this.credentials = credentials;
        this.hasAllowlist = hasAllowlist || !allowlist.isEmpty();
        this.allowlist = List.copyOf(allowlist);
        this.includeMembers = includeMembers;
        this.members = List.copyOf(members);
        this.clientCertificateRequired = clientCertificateRequired;
    }

    /** Addresses and networks only (no host names, nothing resolved): for tests and the simplest setups. */
    AccessPolicy(Optional<Credentials> credentials, List<String> allowlist) {
        this(credentials, !allowlist.isEmpty(), allowlist.stream().map(AccessPolicy::literal).toList(), false,
                List.of(), false);
    }

    /** 0 when allowed, else the HTTP status to answer: 403 (address not allowed) or 401 (bad credentials). */
    int check(InetAddress client, String authorization) {
        return check(client, authorization, false, true).map(Refusal::status).orElse(0);
    }

    /**
     * Patroni's check_access.
     *
     * @param hasClientCertificate the TLS peer presented a certificate that the handshake verified
     * @param checkMembers         false for POST /failsafe ({@code @check_access(allowlist_check_members=False)}): the
     *                             members' hosts are then neither allowed by nor required for the address check
     */
    Optional<Refusal> check(InetAddress client, String authorization, boolean hasClientCertificate,
                            boolean checkMembers) {
        boolean withMembers = checkMembers && includeMembers;
        if (hasAllowlist || withMembers) {
            boolean allowed = client != null && (allowlist.stream().anyMatch(n -> n.contains(client))
                    || withMembers && members.stream().anyMatch(n -> n.contains(client)));
            if (!allowed) {
                return Optional.of(new Refusal(403, "Access is denied"));
            }
        }
        if (clientCertificateRequired && !hasClientCertificate) {
            return Optional.of(new Refusal(403, "client certificate required"));
        }
        if (credentials.isPresent()) {
            if (authorization == null) {
                return Optional.of(new Refusal(401, "no auth header received"));
            }
            if (!matches(authorization)) {
                return Optional.of(new Refusal(401, "not authenticated"));
            }
        }
        return Optional.empty();
    }

    private boolean matches(String authorization) {
        if (!authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
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

    /**
     * An allowlist entry written as an address or {@code address/prefix}; never looked up (the config module
     * checked its form, host names go through {@link SecurityRefresher}).
     */
    static Network literal(String entry) {
        int slash = entry.indexOf('/');
        String address = slash < 0 ? entry : entry.substring(0, slash);
        if (!isAddressLiteral(address)) {
            throw new IllegalArgumentException("allowlist entry " + entry + " is not an address or network");
        }
        try {
            byte[] addr = InetAddress.getByName(address).getAddress();
            int prefix = slash < 0 ? addr.length * 8 : Integer.parseInt(entry.substring(slash + 1));
            if (prefix < 0 || prefix > addr.length * 8) {
                throw new IllegalArgumentException("bad prefix length in allowlist entry " + entry);
            }
            return new Network(addr, prefix);
        } catch (UnknownHostException | NumberFormatException e) {
            throw new IllegalArgumentException("bad allowlist entry " + entry, e);
        }
    }

    /** An IPv4 dotted quad or an IPv6 text: what InetAddress parses without asking DNS. */
    static boolean isAddressLiteral(String s) {
        return s.matches("\\d{1,3}(\\.\\d{1,3}){3}") || s.contains(":") && s.matches("[0-9A-Fa-f:.]+");
    }
}

package io.pgkeel.config;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The address forms of {@code restapi.listen/connect_address} and {@code postgresql.listen/connect_address}, read
 * as Patroni's utils.split_host_port does: the text after the last {@code :} is the port; before it, one host or
 * (postgresql.listen) a comma list; each host a name, an IPv4 address, or an IPv6 address with or without
 * brackets; {@code *} alone for every address. What the agent could not bind or other members could not reach is
 * refused here, naming the key and the line, so that {@code pgkeel validate} never calls it valid.
 */
final class AddressForms {
    /** PostgreSQL's own default, which Patroni applies to a {@code postgresql.listen} without a port. */
    static final int POSTGRES_PORT = 5432;
    private static final Set<String> WILDCARDS = Set.of("*", "", "0.0.0.0", "::");

    /** {@code postgresql.listen}: listen_addresses (brackets gone) and port. */
    record Listen(String addresses, int port) {}

    private record Split(List<String> hosts, OptionalInt port) {}

    private AddressForms() {}

    /** {@code restapi.listen}: one host (or {@code *}), a port, and an address this host can bind. */
    static HostPort restapiListen(ConfigNode node, String text) {
        Split s = split(node, text, false);
        int port = s.port().orElseThrow(() -> ConfigLoader.bad(node, "'" + text
                + "' needs a port: host:port, for example *:8008 or [::1]:8008"));
        String host = s.hosts().get(0);
        if (host.isEmpty() || host.equals("*")) {
            return new HostPort("*", port);
        }
        checkLocal(node, List.of(host), true);
        return new HostPort(host, port);
    }

    /** {@code postgresql.listen}: a comma list of hosts, the port PostgreSQL's 5432 when none is written. */
    static Listen postgresqlListen(ConfigNode node, String text) {
        Split s = split(node, text, true);
        if (s.hosts().contains("*") && s.hosts().size() > 1) {
            throw ConfigLoader.bad(node, "'" + text + "': expecting '*' alone (it already means every address)");
        }
        if (!s.hosts().contains("*")) {
            checkLocal(node, s.hosts(), false);
        }
        return new Listen(String.join(",", s.hosts()), s.port().orElse(POSTGRES_PORT));
    }

    /**
     * A {@code connect_address}: one host other members can reach; {@code defaultPort} when none is written (none:
     * the port is required).
     */
    static HostPort connectAddress(ConfigNode node, String text, OptionalInt defaultPort) {
        Split s = split(node, text, false);
        String host = s.hosts().get(0);
        if (WILDCARDS.contains(host)) {
            throw ConfigLoader.bad(node, "'" + text + "' is a listen-everywhere address; other members cannot"
                    + " connect to it: write an address of this host they can reach");
        }
        int port = s.port().isPresent() ? s.port().getAsInt() : defaultPort.orElseThrow(() ->
                ConfigLoader.bad(node, "'" + text + "' needs a port: host:port"));
        return new HostPort(host, port);
    }

    /** The address that reaches a server listening on {@code listenHost}: loopback for a wildcard. */
    static String reachingLocally(String listenHost) {
        return switch (listenHost) {
            case "*", "", "0.0.0.0" -> "127.0.0.1";
            case "::" -> "::1";
            default -> listenHost;
        };
    }

    static boolean isWildcard(String host) {
        return WILDCARDS.contains(host);
    }

    private static Split split(ConfigNode node, String text, boolean list) {
        String t = text.trim();
        String hostsPart = t;
        OptionalInt port = OptionalInt.empty();
        int colon = t.lastIndexOf(':');
        // "[::1]" ends in its bracket: no port; otherwise the last colon separates the port (as Patroni's rsplit)
        if (colon >= 0 && !t.endsWith("]")) {
            hostsPart = t.substring(0, colon);
            port = OptionalInt.of(port(node, t.substring(colon + 1)));
        }
        List<String> hosts = new ArrayList<>();
        for (String raw : hostsPart.split(",", -1)) {
            hosts.add(host(node, text, raw.trim(), !list && !hostsPart.contains(",")));
        }
        if (!list && hosts.size() > 1) {
            throw ConfigLoader.bad(node, "'" + text + "' lists several hosts; this key takes one address");
        }
        return new Split(List.copyOf(hosts), port);
    }

    private static String host(ConfigNode node, String text, String raw, boolean emptyAllowed) {
        boolean open = raw.startsWith("[");
        boolean close = raw.endsWith("]");
        if (open != close || raw.indexOf('[', 1) >= 0 || raw.indexOf(']') >= 0 && raw.indexOf(']') < raw.length() - 1) {
            throw ConfigLoader.bad(node, "'" + text + "': unbalanced bracket in '" + raw + "'");
        }
        String h = open ? raw.substring(1, raw.length() - 1).trim() : raw;
        if (h.isEmpty()) {
            if (emptyAllowed && !open) {
                return h;
            }
            throw ConfigLoader.bad(node, "'" + text + "': empty address");
        }
        if (h.contains(":")) {
            if (!h.matches("[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?") || !isIpv6Literal(h)) {
                throw ConfigLoader.bad(node, "'" + text + "': '" + h + "' is not an IPv6 address; write an IPv6"
                        + " address in brackets before the port, for example [::1]:5432");
            }
            return h;
        }
        if (!h.equals("*") && !h.matches("[A-Za-z0-9_.-]+")) {
            throw ConfigLoader.bad(node, "'" + text + "': '" + h + "' is not a host name or an address");
        }
        return h;
    }

    /**
     * Why {@code entry} cannot be a {@code restapi.allowlist} entry, or null when it can: an IPv4 or IPv6 address,
     * a network {@code address/prefix} (host bits allowed, as Python's {@code ip_network(v, strict=False)}), or a host
     * name. Nothing is looked up in DNS here.
     */
    static String allowlistEntryProblem(String entry) {
        int slash = entry.indexOf('/');
        String address = slash < 0 ? entry : entry.substring(0, slash);
        boolean ipv4 = address.matches("[0-9.]+");
        boolean ipv6 = address.contains(":") && address.matches("[0-9A-Fa-f:.]+");
        if (ipv4 && !isIpv4Literal(address) || ipv6 && !isIpv6Literal(address)) {
            return "is not an IP address";
        }
        boolean hostName = address.matches("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*\\.?");
        if (!ipv4 && !ipv6 && !hostName) {
            return "is not an IP address, CIDR range or host name";
        }
        if (slash >= 0) {
            if (!ipv4 && !ipv6) {
                return "is not a network: write address/prefix, for example 10.0.0.0/8";
            }
            String prefix = entry.substring(slash + 1);
            int bits = ipv4 ? 32 : 128;
            if (!prefix.matches("\\d{1,3}") || Integer.parseInt(prefix) > bits) {
                return "has no prefix length between 0 and " + bits;
            }
        }
        return null;
    }

    private static boolean isIpv4Literal(String h) {
        String[] parts = h.split("\\.", -1);
        if (parts.length != 4) {
            return false;
        }
        for (String p : parts) {
            if (!p.matches("\\d{1,3}") || Integer.parseInt(p) > 255) {
                return false;
            }
        }
        return true;
    }

    private static boolean isIpv6Literal(String h) {
        try {
            // a text with ':' is parsed as an IPv6 literal, never looked up in DNS
            InetAddress.getByName(h);
            return true;
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static int port(ConfigNode node, String text) {
        String p = text.trim();
        if (!p.matches("\\d{1,9}")) {
            throw ConfigLoader.bad(node, "'" + text + "' is not a port number");
        }
        int v = Integer.parseInt(p);
        if (v < 1 || v > 65535) {
            throw ConfigLoader.bad(node, "port " + v + " is out of range (1-65535)");
        }
        return v;
    }

    /**
     * The REST API binds its one address (the first a name resolves to, as Java does); PostgreSQL starts when at
     * least one of its addresses binds. An address of another machine fails at bind time, so it fails here first.
     */
    private static void checkLocal(ConfigNode node, List<String> hosts, boolean first) {
        List<String> foreign = new ArrayList<>();
        for (String h : hosts) {
            if (isWildcard(h)) {
                return;
            }
            InetAddress[] resolved;
            try {
                resolved = InetAddress.getAllByName(h);
            } catch (UnknownHostException e) {
                throw ConfigLoader.bad(node, "'" + h + "' does not resolve to an address");
            }
            for (InetAddress a : first ? new InetAddress[] {resolved[0]} : resolved) {
                if (isLocal(a)) {
                    return;
                }
            }
            foreign.add(h);
        }
        throw ConfigLoader.bad(node, String.join(", ", foreign) + (foreign.size() == 1 ? " is" : " are")
                + " not an address of this host: nothing could listen there");
    }

    private static boolean isLocal(InetAddress a) {
        if (a.isAnyLocalAddress() || a.isLoopbackAddress()) {
            return true;
        }
        try {
            return NetworkInterface.getByInetAddress(a) != null;
        } catch (SocketException e) {
            return false;
        }
    }
}

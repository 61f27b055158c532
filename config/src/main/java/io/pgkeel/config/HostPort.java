package io.pgkeel.config;

/**
 * {@code host:port}, as in {@code restapi.listen} or {@code postgresql.connect_address}.
 *
 * @param host a host name, an IPv4 address, an IPv6 address without brackets, or {@code *} for every address
 * @param port TCP port, 1-65535
 */
public record HostPort(String host, int port) {
    /** The host as it goes into a URL: IPv6 in brackets (Patroni's utils.uri). */
    public String uriHost() {
        return uriHost(host);
    }

    /** {@code host} as it goes into a URL or {@code host:port}: an IPv6 address in brackets, as Patroni's uri(). */
    public static String uriHost(String host) {
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    /** {@code host:port}, with an IPv6 host in brackets so that it can go into a URL as is. */
    @Override
    public String toString() {
        return uriHost(host) + ":" + port;
    }
}

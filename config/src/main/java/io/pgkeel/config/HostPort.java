package io.pgkeel.config;

/** {@code host:port}, as in {@code restapi.listen} or {@code postgresql.connect_address}. */
public record HostPort(String host, int port) {
    @Override
    public String toString() {
        return host + ":" + port;
    }
}

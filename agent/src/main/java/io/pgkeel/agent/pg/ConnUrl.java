package io.pgkeel.agent.pg;

import io.pgkeel.common.pg.PostgresException;
import io.pgkeel.config.HostPort;
import java.net.URI;

/**
 * A member's conn_url ({@code postgres://host:port/postgres}) as libpq and the tools want it: the host without the
 * brackets an IPv6 address has in a URL, the port 5432 when the URL has none (Patroni writes none when
 * connect_address has none).
 */
record ConnUrl(String host, int port) {
    static ConnUrl parse(String connUrl) {
        URI uri = URI.create(connUrl);
        String host = uri.getHost();
        if (host == null) {
            throw new PostgresException("conn_url " + connUrl + " has no host");
        }
        return new ConnUrl(host.replaceAll("^\\[|\\]$", ""), uri.getPort() < 0 ? 5432 : uri.getPort());
    }

    /** The JDBC driver's URL to database postgres here: an IPv6 host in brackets. */
    String jdbcUrl() {
        return "jdbc:postgresql://" + HostPort.uriHost(host) + ":" + port + "/postgres";
    }
}

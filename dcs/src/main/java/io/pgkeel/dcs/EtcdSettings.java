package io.pgkeel.dcs;

import io.pgkeel.common.Clock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * How to reach etcd and who this agent is there.
 *
 * @param endpoints   {@code http://host:port} or {@code https://host:port} of each etcd member (one scheme for all:
 *                    {@code https} switches TLS on, with {@link #security}'s files)
 * @param prefix      the cluster prefix, {@code /service/<scope>/}
 * @param callTimeout bound on every single request; the HA loop never waits longer for etcd
 * @param security    TLS files and etcd's user (Patroni's {@code etcd3} cacert, cert, key, username, password)
 */
public record EtcdSettings(List<String> endpoints, String prefix, String memberName, Duration callTimeout,
                           String agentVersion, Clock clock, Security security) {
    public EtcdSettings {
        endpoints = List.copyOf(endpoints);
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("no etcd endpoint");
        }
        long tls = endpoints.stream().filter(e -> e.startsWith("https://")).count();
        if (tls != 0 && tls != endpoints.size()) {
            throw new IllegalArgumentException("etcd endpoints mix http and https: " + endpoints);
        }
        if (!prefix.endsWith("/")) {
            prefix = prefix + "/";
        }
    }

    /** Plain http, no user. */
    public EtcdSettings(List<String> endpoints, String prefix, String memberName, Duration callTimeout,
                        String agentVersion, Clock clock) {
        this(endpoints, prefix, memberName, callTimeout, agentVersion, clock, Security.NONE);
    }

    /** Whether the endpoints are {@code https://}. */
    public boolean tls() {
        return endpoints.get(0).startsWith("https://");
    }

    /**
     * @param cacert   PEM CA certificates that sign etcd's certificates; empty: the JVM's default trust store
     * @param cert     PEM client certificate (chain), or certificate and key in one file when {@code key} is empty
     * @param key      PEM private key of {@code cert}: PKCS#8, PKCS#1 (RSA) or SEC1 (EC), unencrypted
     * @param username etcd user; used only together with {@code password}, as in Patroni
     */
    public record Security(Optional<Path> cacert, Optional<Path> cert, Optional<Path> key,
                           Optional<String> username, Optional<String> password) {
        public static final Security NONE = new Security(Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty());

        /** Whether jetcd must authenticate (user and password both given). */
        public boolean authenticates() {
            return username.isPresent() && password.isPresent();
        }

        /** Never prints the password. */
        @Override
        public String toString() {
            return "Security[cacert=" + cacert + ", cert=" + cert + ", key=" + key + ", username=" + username
                    + ", password=" + password.map(p -> "***") + "]";
        }
    }
}

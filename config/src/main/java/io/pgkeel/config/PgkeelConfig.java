package io.pgkeel.config;

import io.pgkeel.common.cluster.DynamicConfig;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The local configuration of one node, read from Patroni's YAML (and PATRONI_* environment overrides).
 *
 * @param ctl          the {@code ctl} section as written; {@link #ctlConnection()} is what pgkeel ctl uses
 * @param bootstrapDcs the {@code bootstrap.dcs} section as written: it becomes the {@code config} key once
 */
public record PgkeelConfig(
        String scope,
        String namespace,
        String name,
        RestApi restapi,
        Ctl ctl,
        Etcd etcd,
        Map<String, Object> bootstrapDcs,
        DynamicConfig bootstrapDynamic,
        List<String> initdbArgs,
        Postgresql postgresql,
        Map<String, Object> tags,
        Path source) {

    public PgkeelConfig {
        bootstrapDcs = Map.copyOf(bootstrapDcs);
        initdbArgs = List.copyOf(initdbArgs);
        tags = Map.copyOf(tags);
    }

    /** The etcd prefix of this cluster: {@code /<namespace>/<scope>/}. */
    public String clusterPrefix() {
        String ns = namespace.replaceAll("^/+|/+$", "");
        return "/" + ns + "/" + scope + "/";
    }

    /**
     * @param listen         where the REST API binds; host {@code *} binds every address, IPv4 and IPv6
     * @param connectAddress how other members reach it (api_url)
     * @param authentication basic-auth user for the write endpoints, if any
     * @param allowlist      IPs, CIDR ranges or host names allowed to call the write endpoints; empty (and
     *                       {@code allowlistIncludeMembers} off) allows everyone
     * @param allowlistIncludeMembers {@code restapi.allowlist_include_members}: the hosts of the members' api_url
     *                       (from etcd) are allowed too
     * @param httpExtraHeaders  {@code restapi.http_extra_headers}: sent on every response, in the order written
     * @param httpsExtraHeaders {@code restapi.https_extra_headers}: sent on every response when the API runs TLS
     *                       (after, and instead of, an http one of the same name: Patroni's dict update)
     */
    public record RestApi(HostPort listen, HostPort connectAddress, Optional<Credentials> authentication,
                          List<String> allowlist, Optional<Tls> tls, boolean allowlistIncludeMembers,
                          Map<String, String> httpExtraHeaders, Map<String, String> httpsExtraHeaders) {
        public RestApi {
            allowlist = List.copyOf(allowlist);
            httpExtraHeaders = Collections.unmodifiableMap(new LinkedHashMap<>(httpExtraHeaders));
            httpsExtraHeaders = Collections.unmodifiableMap(new LinkedHashMap<>(httpsExtraHeaders));
        }

        /** Without allowlist_include_members or extra headers. */
        public RestApi(HostPort listen, HostPort connectAddress, Optional<Credentials> authentication,
                       List<String> allowlist, Optional<Tls> tls) {
            this(listen, connectAddress, authentication, allowlist, tls, false, Map.of(), Map.of());
        }

        /**
         * The extra headers every response carries: Patroni's reload_config, http_extra_headers updated with
         * https_extra_headers when the API runs TLS (a name in both takes the https value, in the http position).
         */
        public Map<String, String> extraHeaders() {
            Map<String, String> all = new LinkedHashMap<>(httpExtraHeaders);
            if (tls.isPresent()) {
                all.putAll(httpsExtraHeaders);
            }
            return Collections.unmodifiableMap(all);
        }

        /** The scheme members and tools use to reach this API. */
        public String scheme() {
            return tls.isPresent() ? "https" : "http";
        }

        public String apiUrl() {
            return scheme() + "://" + connectAddress + "/patroni";
        }
    }

    /**
     * {@code restapi.certfile/keyfile/cafile/verify_client}: TLS for the REST API.
     *
     * @param verifyClient "none", "optional" or "required" (client certificates checked against {@code cafile})
     */
    public record Tls(Path certfile, Path keyfile, Optional<String> keyfilePassword, Optional<Path> cafile,
                      String verifyClient) {}

    /**
     * Patroni's {@code ctl} section: how a client (pgkeel ctl) calls the members' REST APIs.
     *
     * @param insecure        skip the check of the server's certificate: with a client certificate the chain is
     *                        still checked and only the host name is not; without one nothing is checked (Patroni's
     *                        {@code CERT_NONE}, as {@code curl -k})
     * @param cacert          the CA bundle the members' certificates must chain to; empty: the JVM's trust store
     * @param certfile        the client certificate (PEM) presented to the members
     * @param keyfile         its private key (PEM); the certfile itself when the key is in it
     * @param keyfilePassword the key's password
     * @param authentication  basic auth for the REST API's write endpoints
     */
    public record Ctl(boolean insecure, Optional<Path> cacert, Optional<Path> certfile, Optional<Path> keyfile,
                      Optional<String> keyfilePassword, Optional<Credentials> authentication) {
        /** No {@code ctl} section. */
        public static final Ctl NONE = new Ctl(false, Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty());
    }

    /**
     * What pgkeel ctl uses to call the REST API, as Patroni 4.1's {@code PatroniRequest.reload_config} picks it:
     * {@code ctl.cacert} else {@code restapi.cafile}; {@code ctl.authentication} else {@code restapi.authentication};
     * the client certificate, key and key password from {@code ctl} only (Patroni 4.1 stopped presenting the REST
     * API's own certificate, which may be a server-only one; #2768); {@code ctl.insecure} as written.
     */
    public Ctl ctlConnection() {
        return new Ctl(ctl.insecure(), ctl.cacert().or(() -> restapi.tls().flatMap(Tls::cafile)), ctl.certfile(),
                ctl.keyfile(), ctl.keyfilePassword(), ctl.authentication().or(restapi::authentication));
    }

    /**
     * How to reach etcd (Patroni's {@code etcd3} section after {@code get_etcd_client} has read it).
     *
     * @param hosts    every member's client endpoint
     * @param protocol {@code http} or {@code https}
     * @param cacert   the CA bundle that signs etcd's certificates; empty: the JVM's trust store
     * @param cert     the client certificate (PEM), or a file holding the certificate and its key
     * @param key      the client key (PEM, PKCS#8 or PKCS#1); empty: it is in {@code cert}
     * @param username etcd's user, authenticated only together with a password (Patroni)
     */
    public record Etcd(List<HostPort> hosts, String protocol, Optional<Path> cacert, Optional<Path> cert,
                       Optional<Path> key, Optional<String> username, Optional<String> password) {
        public Etcd {
            hosts = List.copyOf(hosts);
        }

        /** Plain http without a user, as the tests of other sections write it. */
        public Etcd(List<HostPort> hosts) {
            this(hosts, "http", Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                    Optional.empty());
        }

        /** {@code protocol://host:port} of each member. */
        public List<String> urls() {
            return hosts.stream().map(h -> protocol + "://" + h).toList();
        }

        /** Never prints the password. */
        @Override
        public String toString() {
            return "Etcd[urls=" + urls() + ", cacert=" + cacert + ", cert=" + cert + ", key=" + key + ", username="
                    + username + ", password=" + password.map(p -> "***") + "]";
        }
    }

    /**
     * @param listenHosts  the addresses PostgreSQL listens on ({@code listen_addresses}): comma-separated, IPv6
     *                     without brackets, {@code *} for every address
     * @param usePgRewind  a local {@code postgresql.use_pg_rewind}, which wins over the dynamic one when set
     * @param removeDataDirectoryOnRewindFailure    a local {@code postgresql.remove_data_directory_on_rewind_failure},
     *                                              which wins over the dynamic one when set (Patroni's merge)
     * @param removeDataDirectoryOnDivergedTimelines likewise {@code remove_data_directory_on_diverged_timelines}
     * @param useUnixSocket     {@code postgresql.use_unix_socket}: the agent reaches its own PostgreSQL as the
     *                          superuser through the first absolute directory of unix_socket_directories
     * @param useUnixSocketRepl {@code postgresql.use_unix_socket_repl}: Patroni's local replication connection
     *                          through the socket; pgkeel makes no replication connection to its own PostgreSQL
     */
    public record Postgresql(
            String listenHosts,
            int port,
            HostPort connectAddress,
            Path dataDir,
            Path binDir,
            Path pgpass,
            Credentials superuser,
            Credentials replication,
            Optional<Credentials> rewind,
            Map<String, String> parameters,
            List<String> pgHba,
            Optional<Boolean> usePgRewind,
            Map<String, String> callbacks,
            Optional<Boolean> removeDataDirectoryOnRewindFailure,
            Optional<Boolean> removeDataDirectoryOnDivergedTimelines,
            boolean useUnixSocket,
            boolean useUnixSocketRepl) {
        public Postgresql {
            parameters = Map.copyOf(parameters);
            pgHba = List.copyOf(pgHba);
            callbacks = Map.copyOf(callbacks);
        }

        /** This member's conn_url in its member key: {@code postgres://host:port/postgres}, IPv6 in brackets. */
        public String connUrl() {
            return "postgres://" + connectAddress + "/postgres";
        }

        /**
         * The host the agent reaches its own PostgreSQL on (no brackets): the first listen address, loopback for a
         * wildcard; Patroni also takes the first address ({@code _get_tcp_local_address}).
         */
        public String localHost() {
            return AddressForms.reachingLocally(listenHosts.split(",")[0].trim());
        }
    }
}

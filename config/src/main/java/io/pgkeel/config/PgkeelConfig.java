package io.pgkeel.config;

import io.pgkeel.common.cluster.DynamicConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The local configuration of one node, read from Patroni's YAML (and PATRONI_* environment overrides).
 *
 * @param bootstrapDcs the {@code bootstrap.dcs} section as written: it becomes the {@code config} key once
 */
public record PgkeelConfig(
        String scope,
        String namespace,
        String name,
        RestApi restapi,
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
     * @param authentication basic-auth user for the write endpoints, if any
     * @param allowlist      IPs or CIDR ranges allowed to call the write endpoints; empty allows everyone
     */
    public record RestApi(HostPort listen, HostPort connectAddress, Optional<Credentials> authentication,
                          List<String> allowlist, Optional<Tls> tls) {
        public RestApi {
            allowlist = List.copyOf(allowlist);
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

    public record Etcd(List<HostPort> hosts) {
        public Etcd {
            hosts = List.copyOf(hosts);
        }
    }

    /**
     * @param listenHosts  the addresses PostgreSQL listens on ({@code listen_addresses})
     * @param usePgRewind  a local {@code postgresql.use_pg_rewind}, which wins over the dynamic one when set
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
            boolean useUnixSocket,
            boolean useUnixSocketRepl) {
        public Postgresql {
            parameters = Map.copyOf(parameters);
            pgHba = List.copyOf(pgHba);
            callbacks = Map.copyOf(callbacks);
        }
    }
}

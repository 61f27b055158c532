package io.pgkeel.config;

import io.pgkeel.common.cluster.Tags;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Every key of Patroni 4.1's configuration and what pgkeel does with it, so that no setting is silently ignored.
 * Sources: Patroni's {@code docs/yaml_configuration.rst}, {@code docs/dynamic_configuration.rst} and
 * {@code patroni/validator.py}. A key is {@link Status#ACTED_ON}, {@link Status#IGNORED_WARN} (named in a warning at
 * start, in {@code pgkeel validate} and in the PATCH /config answer) or {@link Status#REFUSED_SAFETY} (pgkeel stops
 * rather than run without a safety guarantee the operator asked for). When pgkeel learns a feature, flip its line.
 *
 * <p>Paths are dotted. {@code *} stands for any one name (custom tags, PostgreSQL parameters, user sections). A
 * dynamic key's path is relative to the config key; in the local YAML it sits under {@code bootstrap.dcs}.
 */
public final class PatroniKeys {
    private PatroniKeys() {}

    /** Where a key is written. */
    public enum Scope {
        /** The local YAML only. */
        LOCAL,
        /** The config key ({@code /<namespace>/<scope>/config}) and {@code bootstrap.dcs}. */
        DYNAMIC,
        /** {@code postgresql.*} keys Patroni takes from either place (the local one wins). */
        BOTH
    }

    public enum Status {
        ACTED_ON,
        IGNORED_WARN,
        /** Refused when {@link Key#asks} holds for the value (the feature is switched on); otherwise acted on. */
        REFUSED_SAFETY
    }

    /**
     * @param asks the values that switch the feature on (true, "on", a section): for {@link Status#REFUSED_SAFETY}
     *             those refused, for {@link Status#IGNORED_WARN} those warned about (a boolean tag that is off is not)
     */
    public record Key(String path, Scope scope, Status status, String reason, Predicate<Object> asks) {
        /** Whether {@code value} at this key means pgkeel must refuse to run. */
        public boolean refuses(Object value) {
            return status == Status.REFUSED_SAFETY && asks.test(value);
        }
    }

    /** One key found in a configuration, and what pgkeel says about it. */
    public enum Verdict { IGNORED, REFUSED, UNKNOWN }

    /**
     * @param path    dotted path as written ({@code bootstrap.dcs.failsafe_mode}, {@code failsafe_mode})
     * @param message the sentence after the path: why it is ignored or refused
     */
    public record Finding(String path, Verdict verdict, String message) {
        public String sentence() {
            return path + " " + message;
        }
    }

    private static final Predicate<Object> ANY = v -> true;
    private static final Map<String, Key> LOCAL = new LinkedHashMap<>();
    private static final Map<String, Key> DYNAMIC = new LinkedHashMap<>();

    private static final String LOGS = "pgkeel logs through logback (PGKEEL_LOG_LEVEL, logback.xml)";
    private static final String OTHER_DCS = "pgkeel keeps its state in etcd through the v3 API only (etcd3:)";
    private static final String ROLE_SPECIFIC = "role-specific settings are not implemented yet; the common ones apply"
            + " to every role";
    private static final String REPLICA_METHODS = "pgkeel creates replicas with pg_basebackup only";

    static {
        // --- local YAML: global ---
        local("name", Status.ACTED_ON, "");
        local("scope", Status.ACTED_ON, "");
        local("namespace", Status.ACTED_ON, "");
        local("thread_pool_size", Status.IGNORED_WARN, "pgkeel sizes its own threads");
        local("thread_stack_size", Status.IGNORED_WARN, "pgkeel sizes its own threads");
        for (String k : List.of("type", "level", "traceback_level", "format", "dateformat", "static_fields",
                "max_queue_size", "dir", "mode", "file_num", "file_size", "loggers", "deduplicate_heartbeat_logs")) {
            local("log." + k, Status.IGNORED_WARN, LOGS);
        }
        for (String k : List.of("insecure", "cacert", "certfile", "keyfile", "keyfile_password",
                "authentication")) {
            local("ctl." + k, Status.ACTED_ON, "");
        }
        // --- restapi ---
        for (String k : List.of("listen", "connect_address", "authentication.username", "authentication.password",
                "certfile", "keyfile", "keyfile_password", "cafile", "verify_client", "allowlist",
                "allowlist_include_members", "http_extra_headers", "https_extra_headers")) {
            local("restapi." + k, Status.ACTED_ON, "");
        }
        local("restapi.thread_pool_size", Status.IGNORED_WARN, "the REST API runs on Netty's event loop");
        local("restapi.ciphers", Status.IGNORED_WARN, "the JVM's default TLS cipher suites are used");
        local("restapi.request_queue_size", Status.IGNORED_WARN, "Netty's default backlog is used");
        local("restapi.server_tokens", Status.IGNORED_WARN, "the Server header is not configurable");
        // --- etcd3 (and the other stores) ---
        for (String k : List.of("hosts", "host", "url", "port", "protocol", "username", "password", "cacert", "cert",
                "key")) {
            local("etcd3." + k, Status.ACTED_ON, "");
        }
        local("etcd3.srv", Status.IGNORED_WARN, "etcd members are not discovered through DNS SRV records; list them"
                + " in etcd3.hosts");
        local("etcd3.srv_suffix", Status.IGNORED_WARN, "etcd members are not discovered through DNS SRV records;"
                + " list them in etcd3.hosts");
        local("etcd3.proxy", Status.IGNORED_WARN, "pgkeel connects to the etcd members directly, not through a"
                + " proxy");
        local("etcd3.use_proxies", Status.IGNORED_WARN, "pgkeel connects to the etcd members in etcd3.hosts and"
                + " never treats them as proxies");
        for (String k : List.of("etcd", "consul", "zookeeper", "exhibitor", "kubernetes", "raft")) {
            local(k + ".*", Status.IGNORED_WARN, OTHER_DCS);
        }
        local("citus.*", Status.IGNORED_WARN, "Citus clusters are not managed");
        // --- bootstrap ---
        local("bootstrap.initdb", Status.ACTED_ON, "");
        local("bootstrap.method", Status.IGNORED_WARN, "pgkeel bootstraps a new cluster with initdb only");
        local("bootstrap.post_bootstrap", Status.IGNORED_WARN, "no script runs after bootstrap");
        local("bootstrap.post_init", Status.IGNORED_WARN, "no script runs after bootstrap");
        local("bootstrap.users", Status.IGNORED_WARN, "removed in Patroni 4; create users with SQL");
        local("bootstrap.pg_hba", Status.IGNORED_WARN, "removed in Patroni 4; use postgresql.pg_hba");
        local("bootstrap.*", Status.IGNORED_WARN, "custom bootstrap methods are not run");
        // --- postgresql (local only) ---
        for (String k : List.of("listen", "connect_address", "data_dir", "bin_dir", "pgpass",
                "callbacks.on_start", "callbacks.on_stop", "callbacks.on_restart", "callbacks.on_reload",
                "callbacks.on_role_change")) {
            local("postgresql." + k, Status.ACTED_ON, "");
        }
        for (String user : List.of("superuser", "replication", "rewind")) {
            local("postgresql.authentication." + user + ".username", Status.ACTED_ON, "");
            local("postgresql.authentication." + user + ".password", Status.ACTED_ON, "");
            // libpq's connection options: passed to libpq as written, to the JDBC driver as it names them (a CRL
            // the driver cannot check is refused for the superuser and rewind roles: ConfigLoader)
            for (String k : Credentials.OPTIONS) {
                local("postgresql.authentication." + user + "." + k, Status.ACTED_ON, "");
            }
        }
        local("postgresql.proxy_address", Status.IGNORED_WARN, "not published in the member key");
        local("postgresql.config_dir", Status.IGNORED_WARN, "configuration files are written to data_dir");
        local("postgresql.bin_name.*", Status.IGNORED_WARN, "PostgreSQL's tools are called by their own names");
        local("postgresql.use_unix_socket", Status.ACTED_ON, "");
        // Patroni's local replication connections; pgkeel makes none to its own PostgreSQL, so nothing to move
        local("postgresql.use_unix_socket_repl", Status.ACTED_ON, "");
        local("postgresql.custom_conf", Status.IGNORED_WARN, "pgkeel writes postgresql.conf itself");
        local("postgresql.create_replica_methods", Status.IGNORED_WARN, REPLICA_METHODS);
        local("postgresql.before_stop", Status.IGNORED_WARN, "no script runs before PostgreSQL stops");
        local("postgresql.pre_promote", Status.REFUSED_SAFETY, "a fencing script that must succeed before a"
                + " promotion is not run yet: a promotion would skip the operator's fencing", PatroniKeys::on);
        // --- watchdog, tags ---
        for (String k : List.of("mode", "device", "safety_margin", "driver")) {
            local("watchdog." + k, Status.IGNORED_WARN, "pgkeel's fence guard (a process outside the JVM) stops"
                    + " PostgreSQL before the lease expires; no watchdog device is used");
        }
        local("tags.nofailover", Status.ACTED_ON, "");
        local("tags.failover_priority", Status.ACTED_ON, "");
        local("tags.noloadbalance", Status.ACTED_ON, "");
        // Patroni's boolean tags ask for something only when set (Tags._filter_tags drops them otherwise)
        local("tags.clonefrom", Status.IGNORED_WARN, "replicas always clone from the leader", Tags::pythonTruthy);
        local("tags.replicatefrom", Status.IGNORED_WARN, "cascading replication is not implemented yet; this"
                + " node replicates from the leader");
        local("tags.nosync", Status.ACTED_ON, "");
        local("tags.sync_priority", Status.ACTED_ON, "");
        local("tags.nostream", Status.IGNORED_WARN, "this node streams from the leader", Tags::pythonTruthy);
        local("tags.*", Status.ACTED_ON, "");

        // --- dynamic (the config key and bootstrap.dcs) ---
        dynamic("ttl", Status.ACTED_ON, "");
        dynamic("loop_wait", Status.ACTED_ON, "");
        dynamic("retry_timeout", Status.ACTED_ON, "");
        dynamic("maximum_lag_on_failover", Status.ACTED_ON, "");
        dynamic("member_slots_ttl", Status.ACTED_ON, "");
        dynamic("pause", Status.ACTED_ON, "");
        dynamic("slots.*", Status.ACTED_ON, "");
        dynamic("permanent_slots.*", Status.ACTED_ON, "");
        dynamic("permanent_replication_slots.*", Status.ACTED_ON, "");
        dynamic("ignore_slots", Status.IGNORED_WARN, "slots pgkeel did not create are left alone anyway");
        dynamic("primary_race_backoff", Status.IGNORED_WARN, "replicas race for the leader key at once");
        dynamic("maximum_lag_on_syncnode", Status.ACTED_ON, "");
        dynamic("max_timelines_history", Status.IGNORED_WARN, "the whole timeline history is kept");
        dynamic("primary_start_timeout", Status.ACTED_ON, "");
        dynamic("master_start_timeout", Status.ACTED_ON, "");
        // Patroni bounds a primary's stop by it (SIGKILL) only with synchronous_mode
        dynamic("primary_stop_timeout", Status.ACTED_ON, "");
        dynamic("master_stop_timeout", Status.ACTED_ON, "");
        dynamic("check_timeline", Status.IGNORED_WARN, "a member whose WAL went past the end of its timeline in"
                + " the history key never races, whatever the setting; one that only lags on an older timeline races"
                + " as without it, see docs/decisions.md");
        dynamic("synchronous_node_count", Status.ACTED_ON, "");
        dynamic("synchronous_mode", Status.ACTED_ON, "");
        dynamic("synchronous_mode_strict", Status.ACTED_ON, "");
        dynamic("failsafe_mode", Status.ACTED_ON, "");
        dynamic("standby_cluster.*", Status.REFUSED_SAFETY, "standby clusters are not implemented yet: pgkeel would"
                + " run a primary of its own instead of following the remote one", PatroniKeys::isStandbyCluster);
        dynamic("postgresql.use_pg_rewind", Status.ACTED_ON, "");
        dynamic("postgresql.use_slots", Status.ACTED_ON, "");
        dynamic("postgresql.remove_data_directory_on_rewind_failure", Status.ACTED_ON, "");
        dynamic("postgresql.remove_data_directory_on_diverged_timelines", Status.ACTED_ON, "");
        dynamic("postgresql.parameters.*", Status.ACTED_ON, "");
        dynamic("postgresql.pg_hba", Status.ACTED_ON, "");
        dynamic("postgresql.pg_ident", Status.IGNORED_WARN, "pg_ident.conf is not written");
        dynamic("postgresql.recovery_conf.*", Status.IGNORED_WARN, "only primary_conninfo and the slot are written");
        dynamic("postgresql.pg_ctl_timeout", Status.IGNORED_WARN, "pg_ctl waits pgkeel's own bounds");
        dynamic("postgresql.rewind", Status.IGNORED_WARN, "pg_rewind runs with pgkeel's options");
        dynamic("postgresql.basebackup", Status.IGNORED_WARN, "pg_basebackup runs with pgkeel's options");
        for (String role : List.of("primary", "replica", "standby_leader")) {
            dynamic("postgresql.parameters_" + role + ".*", Status.IGNORED_WARN, ROLE_SPECIFIC);
            dynamic("postgresql.pg_hba_" + role, Status.IGNORED_WARN, ROLE_SPECIFIC);
            dynamic("postgresql.pg_ident_" + role, Status.IGNORED_WARN, ROLE_SPECIFIC);
        }
        // postgresql.* written locally: the local parameters and pg_hba are acted on
        local("postgresql.parameters.*", Status.ACTED_ON, "");
        local("postgresql.pg_hba", Status.ACTED_ON, "");
        local("postgresql.use_pg_rewind", Status.ACTED_ON, "");
        local("postgresql.use_slots", Status.IGNORED_WARN, "replication slots are switched on or off cluster-wide,"
                + " in bootstrap.dcs.postgresql.use_slots or the config key");
    }

    private static void local(String path, Status status, String reason) {
        local(path, status, reason, ANY);
    }

    private static void local(String path, Status status, String reason, Predicate<Object> asks) {
        LOCAL.put(path, new Key(path, Scope.LOCAL, status, reason, asks));
    }

    private static void dynamic(String path, Status status, String reason) {
        dynamic(path, status, reason, ANY);
    }

    private static void dynamic(String path, Status status, String reason, Predicate<Object> asks) {
        DYNAMIC.put(path, new Key(path, Scope.DYNAMIC, status, reason, asks));
        if (path.startsWith("postgresql.")) {
            // Patroni takes these from the local postgresql section too; a local line above may say otherwise
            LOCAL.putIfAbsent(path, new Key(path, Scope.BOTH, status, reason, asks));
        }
    }

    /** Every key of the catalogue: local ones by their local path, dynamic ones relative to the config key. */
    public static List<Key> all() {
        List<Key> out = new ArrayList<>(LOCAL.values());
        DYNAMIC.values().stream().filter(k -> k.scope() == Scope.DYNAMIC).forEach(out::add);
        return List.copyOf(out);
    }

    /** The catalogue line for a key of the local YAML ({@code restapi.listen}, {@code bootstrap.dcs.ttl}). */
    public static Optional<Key> local(String path) {
        if (path.startsWith("bootstrap.dcs.")) {
            return lookup(DYNAMIC, path.substring("bootstrap.dcs.".length()));
        }
        return lookup(LOCAL, path);
    }

    /** The catalogue line for a key of the config key ({@code ttl}, {@code postgresql.pg_hba}). */
    public static Optional<Key> dynamic(String path) {
        return lookup(DYNAMIC, path);
    }

    private static Optional<Key> lookup(Map<String, Key> keys, String path) {
        Key exact = keys.get(path);
        if (exact != null) {
            return Optional.of(exact);
        }
        // the nearest "section.*" above the path covers everything written below it
        String p = path;
        int dot;
        while ((dot = p.lastIndexOf('.')) > 0) {
            p = p.substring(0, dot);
            Key any = keys.get(p + ".*");
            if (any != null) {
                return Optional.of(any);
            }
        }
        return Optional.ofNullable(keys.get(path + ".*"));
    }

    /** Whether some catalogue key lies below {@code path}: a section to walk into. */
    private static boolean isSection(Map<String, Key> keys, String path) {
        String prefix = path + ".";
        return keys.keySet().stream().anyMatch(k -> k.startsWith(prefix) && !k.equals(path + ".*"));
    }

    /** The findings for the local YAML (as plain maps), {@code bootstrap.dcs} included. */
    public static List<Finding> checkLocal(Map<String, Object> root) {
        List<Finding> out = new ArrayList<>();
        walk(root, "", LOCAL, true, out);
        return out;
    }

    /** The findings for the config key's value; paths are prefixed with {@code where.} when it is not empty. */
    public static List<Finding> checkDynamic(Map<String, Object> config, String where) {
        List<Finding> out = new ArrayList<>();
        List<Finding> found = new ArrayList<>();
        walk(config, "", DYNAMIC, false, found);
        for (Finding f : found) {
            out.add(new Finding(where.isEmpty() ? f.path() : where + "." + f.path(), f.verdict(), f.message()));
        }
        return out;
    }

    /**
     * A new value for the config key, judged against the one it replaces (PATCH/PUT /config, ctl edit-config).
     *
     * @param refused  sentences for safety settings the edit switches on: the edit is refused
     * @param warnings sentences for ignored and unknown keys, adjusted timing, and safety settings already in the
     *                 config key before the edit (refusing them would lock every later edit out, pause included)
     */
    public record EditCheck(List<String> refused, List<String> warnings) {}

    /** Judges {@code after}, the whole new config key, against {@code before}, the value it replaces. */
    public static EditCheck checkEdit(Map<String, Object> before, Map<String, Object> after) {
        List<String> already = checkDynamic(before, "config").stream()
                .filter(f -> f.verdict() == Verdict.REFUSED).map(Finding::sentence).toList();
        List<String> refused = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        for (Finding f : checkDynamic(after, "config")) {
            if (f.verdict() == Verdict.REFUSED && !already.contains(f.sentence())) {
                refused.add(f.sentence());
            } else {
                warnings.add(f.sentence());
            }
        }
        io.pgkeel.common.cluster.DynamicConfigParser.timing(after, "config", new ArrayList<>()).adjustments()
                .forEach(a -> warnings.add("config: " + a));
        return new EditCheck(List.copyOf(refused), List.copyOf(warnings));
    }

    /** Only the refusals: the settings asking for a safety guarantee pgkeel cannot give yet. */
    public static List<Finding> refusals(List<Finding> findings) {
        return findings.stream().filter(f -> f.verdict() == Verdict.REFUSED).toList();
    }

    private static void walk(Map<?, ?> node, String path, Map<String, Key> keys, boolean local, List<Finding> out) {
        for (Map.Entry<?, ?> e : node.entrySet()) {
            String key = String.valueOf(e.getKey());
            String p = path.isEmpty() ? key : path + "." + key;
            Object value = e.getValue();
            if (local && p.equals("bootstrap.dcs")) {
                if (value instanceof Map<?, ?> dcs) {
                    List<Finding> dyn = new ArrayList<>();
                    walk(dcs, "", DYNAMIC, false, dyn);
                    dyn.forEach(f -> out.add(new Finding("bootstrap.dcs." + f.path(), f.verdict(), f.message())));
                }
                continue;
            }
            if (value instanceof Map<?, ?> section && isSection(keys, p)) {
                walk(section, p, keys, local, out);
                continue;
            }
            Optional<Key> k = lookup(keys, p);
            Optional<Key> dynamicAtTop = local && path.isEmpty() && k.isEmpty() ? lookup(DYNAMIC, key) : Optional.empty();
            if (dynamicAtTop.isPresent()) {
                // a dynamic setting at the top of the local file, where older configurations put it: pgkeel reads
                // only bootstrap.dcs and the config key, but a safety setting still stops it
                Key d = dynamicAtTop.get();
                String note = " (a dynamic setting: pgkeel reads it from bootstrap.dcs or the config key only)";
                if (d.status() == Status.ACTED_ON || d.status() == Status.REFUSED_SAFETY && !d.refuses(value)) {
                    out.add(new Finding(p, Verdict.IGNORED, "is ignored here" + note));
                } else {
                    judge(d, p, value, out, note);
                }
                continue;
            }
            if (k.isEmpty()) {
                if (local && path.equals("postgresql") && isReplicaMethod(node, key)) {
                    out.add(new Finding(p, Verdict.IGNORED, "is a Patroni setting pgkeel does not use yet; ignored ("
                            + REPLICA_METHODS + ")"));
                } else {
                    out.add(new Finding(p, Verdict.UNKNOWN, "is not a known key; ignored (check the spelling)"));
                }
                continue;
            }
            judge(k.get(), p, value, out, "");
        }
    }

    private static void judge(Key k, String p, Object value, List<Finding> out, String note) {
        switch (k.status()) {
            case ACTED_ON -> { }
            case IGNORED_WARN -> {
                if (k.asks().test(value)) { // a boolean tag that is off asks for nothing pgkeel would ignore
                    out.add(new Finding(p, Verdict.IGNORED,
                            "is a Patroni setting pgkeel does not use yet; ignored (" + k.reason() + ")" + note));
                }
            }
            case REFUSED_SAFETY -> {
                if (k.refuses(value)) {
                    out.add(new Finding(p, Verdict.REFUSED, "= " + show(value) + ": " + k.reason()
                            + "; pgkeel will not run without it (remove the key or switch it off)" + note));
                }
            }
            default -> throw new IllegalStateException(k.status().toString());
        }
    }

    /** A section named in {@code create_replica_methods} holds that method's options. */
    private static boolean isReplicaMethod(Map<?, ?> postgresql, String key) {
        return postgresql.get("create_replica_methods") instanceof List<?> methods
                && methods.stream().anyMatch(m -> key.equals(String.valueOf(m)));
    }

    /**
     * Whether a value switches a feature on, as Patroni reads it: true, "on", "quorum", a non-empty string other than
     * off/false; a section (standby_cluster) with any value set ({@code host}, {@code port}, {@code restore_command}).
     */
    static boolean on(Object value) {
        if (value == null) {
            return false;
        }
        if (value instanceof Boolean b) {
            return b;
        }
        if (value instanceof Map<?, ?> m) {
            return m.values().stream().anyMatch(PatroniKeys::on);
        }
        if (value instanceof Number n) {
            return n.doubleValue() != 0;
        }
        String s = String.valueOf(value).trim().toLowerCase(Locale.ROOT);
        return !(s.isEmpty() || s.equals("off") || s.equals("false") || s.equals("no") || s.equals("0"));
    }

    /** Patroni's {@code is_standby_cluster}: a {@code host}, {@code port} or {@code restore_command} is set. */
    static boolean isStandbyCluster(Object value) {
        return value instanceof Map<?, ?> m && java.util.stream.Stream.of("host", "port", "restore_command")
                .anyMatch(k -> m.get(k) != null && !String.valueOf(m.get(k)).isBlank());
    }

    private static String show(Object value) {
        return value instanceof String s ? "'" + s + "'" : String.valueOf(value);
    }
}

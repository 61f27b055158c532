package io.pgkeel.config;

import io.pgkeel.config.ConfigNode.MapNode;
import io.pgkeel.config.ConfigNode.ScalarNode;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The {@code PATRONI_*} environment variables and the configuration keys they set, as Patroni 4.1's
 * {@code Config._build_environment_configuration} reads them (docs/ENVIRONMENT.rst), plus Patroni 3.x's
 * {@code PATRONI_<user>_PASSWORD/_OPTIONS}. List values take every form Patroni's {@code _parse_list} does
 * ({@code 'a:1','b:2'}, {@code a:1,b:2}, {@code [a:1, b:2]}, a YAML block list); mappings every form of
 * {@code _parse_dict}. An empty variable sets nothing, as in Patroni.
 */
final class PatroniEnvironment {
    /** {@code PATRONI_CONFIGURATION}: the whole YAML, used when there is no configuration file. */
    static final String CONFIGURATION = "PATRONI_CONFIGURATION";

    private enum Kind { STRING, INT, BOOL, LIST, DICT }

    private record Key(String path, Kind kind) {}

    private static final List<String> AUTH_PARAMETERS = List.of("username", "password", "sslmode", "sslcert",
            "sslkey", "sslpassword", "sslrootcert", "sslcrl", "sslcrldir", "gssencmode", "channel_binding",
            "sslnegotiation");
    private static final Map<String, Key> FIXED = fixed();
    /** Patroni's DCS suffixes ({@code PATRONI_<DCS>_<SUFFIX>}) and how each value is parsed. */
    private static final Map<String, Kind> DCS_SUFFIXES = dcsSuffixes();

    private static Map<String, Key> fixed() {
        Map<String, Key> m = new LinkedHashMap<>();
        for (String p : List.of("name", "namespace", "scope")) {
            m.put(p, new Key(p, Kind.STRING));
        }
        m.put("thread_pool_size", new Key("thread_pool_size", Kind.INT));
        m.put("thread_stack_size", new Key("thread_stack_size", Kind.STRING));
        section(m, "restapi", Kind.STRING, "listen", "connect_address", "certfile", "keyfile", "keyfile_password",
                "cafile", "ciphers", "verify_client", "server_tokens");
        section(m, "restapi", Kind.DICT, "http_extra_headers", "https_extra_headers");
        section(m, "restapi", Kind.LIST, "allowlist");
        section(m, "restapi", Kind.BOOL, "allowlist_include_members");
        section(m, "restapi", Kind.INT, "request_queue_size", "thread_pool_size");
        section(m, "ctl", Kind.STRING, "cacert", "certfile", "keyfile", "keyfile_password");
        section(m, "ctl", Kind.BOOL, "insecure");
        section(m, "postgresql", Kind.STRING, "listen", "connect_address", "proxy_address", "config_dir", "data_dir",
                "pgpass", "bin_dir");
        section(m, "log", Kind.STRING, "type", "level", "traceback_level", "format", "dateformat", "dir");
        section(m, "log", Kind.DICT, "static_fields", "loggers");
        section(m, "log", Kind.INT, "max_queue_size", "mode", "file_size", "file_num");
        section(m, "log", Kind.BOOL, "deduplicate_heartbeat_logs");
        section(m, "raft", Kind.STRING, "data_dir", "self_addr", "password", "bind_addr", "min_timeout",
                "max_timeout", "connection_timeout", "append_entries_period", "connection_retry_time",
                "leader_fallback_timeout");
        section(m, "raft", Kind.LIST, "partner_addrs");
        for (String binary : List.of("pg_ctl", "initdb", "pg_controldata", "pg_basebackup", "postgres", "pg_isready",
                "pg_rewind")) {
            m.put("postgresql_bin_" + binary, new Key("postgresql.bin_name." + binary, Kind.STRING));
        }
        for (String section : List.of("restapi", "ctl")) {
            for (String p : AUTH_PARAMETERS.subList(0, 2)) {
                m.put(section + "_" + p, new Key(section + ".authentication." + p, Kind.STRING));
            }
        }
        for (String role : List.of("superuser", "replication", "rewind")) {
            for (String p : AUTH_PARAMETERS) {
                m.put(role + "_" + p, new Key("postgresql.authentication." + role + "." + p, Kind.STRING));
            }
        }
        for (String dcs : List.of("etcd", "etcd3")) {
            for (String p : AUTH_PARAMETERS.subList(0, 2)) {
                m.put(dcs + "_" + p, new Key(dcs + "." + p, Kind.STRING));
            }
        }
        return Map.copyOf(m);
    }

    private static void section(Map<String, Key> m, String section, Kind kind, String... params) {
        for (String p : params) {
            m.put(section + "_" + p, new Key(section + "." + p, kind));
        }
    }

    private static Map<String, Kind> dcsSuffixes() {
        Map<String, Kind> m = new LinkedHashMap<>();
        for (String s : List.of("HOST", "PROTOCOL", "SRV", "SRV_SUFFIX", "URL", "PROXY", "CACERT", "CERT", "KEY",
                "TOKEN", "DC", "CONSISTENCY", "SERVICE_CHECK_INTERVAL", "SERVICE_CHECK_TLS_SERVER_NAME", "NAMESPACE",
                "CONTEXT", "SCOPE_LABEL", "ROLE_LABEL", "POD_IP", "KEY_PASSWORD", "USE_SSL", "GROUP", "DATABASE",
                "LEADER_LABEL_VALUE", "FOLLOWER_LABEL_VALUE", "STANDBY_LEADER_LABEL_VALUE", "TMP_ROLE_LABEL")) {
            m.put(s, Kind.STRING);
        }
        for (String s : List.of("HOSTS", "PORTS", "CHECKS", "SERVICE_TAGS", "RETRIABLE_HTTP_CODES")) {
            m.put(s, Kind.LIST);
        }
        for (String s : List.of("LABELS", "SET_ACLS", "AUTH_DATA", "BOOTSTRAP_LABELS")) {
            m.put(s, Kind.DICT);
        }
        for (String s : List.of("USE_PROXIES", "REGISTER_SERVICE", "USE_ENDPOINTS", "BYPASS_API_SERVICE", "VERIFY")) {
            m.put(s, Kind.BOOL);
        }
        m.put("PORT", Kind.INT);
        return Map.copyOf(m);
    }

    private PatroniEnvironment() {}

    /**
     * Sets on {@code root} every key the {@code PATRONI_*} variables of {@code environment} name; a key set by
     * Patroni 3.x's {@code PATRONI_<user>_PASSWORD} (bootstrap.users, gone in Patroni 4) adds a warning.
     */
    static MapNode apply(MapNode root, Map<String, String> environment, List<String> warnings) {
        Map<String, String> env = new TreeMap<>();
        environment.forEach((k, v) -> {
            if (k.startsWith("PATRONI_") && v != null && !v.isEmpty()) {
                env.put(k, v);
            }
        });
        // Patroni's old names for the log settings, used when the new one is not set
        for (String[] old : new String[][] {{"LOGLEVEL", "LOG_LEVEL"}, {"LOGFORMAT", "LOG_FORMAT"},
                {"LOG_DATEFMT", "LOG_DATEFORMAT"}}) {
            String v = env.remove("PATRONI_" + old[0]);
            if (v != null) {
                env.putIfAbsent("PATRONI_" + old[1], v);
            }
        }
        env.remove(CONFIGURATION);
        Set<String> used = new HashSet<>();
        MapNode result = root;
        for (Map.Entry<String, String> e : env.entrySet()) {
            Key key = FIXED.get(e.getKey().substring("PATRONI_".length()).toLowerCase(java.util.Locale.ROOT));
            if (key != null) {
                Kind kind = key.path().equals("log.format") && !e.getValue().matches("(?s).*%\\(\\w+\\).*")
                        ? Kind.LIST : key.kind();
                result = set(result, key.path(), e.getKey(), e.getValue(), kind);
                used.add(e.getKey());
            }
        }
        for (Map.Entry<String, String> e : env.entrySet()) {
            if (used.contains(e.getKey())) {
                continue;
            }
            String rest = e.getKey().substring("PATRONI_".length());
            int underscore = rest.indexOf('_');
            Kind kind = underscore > 0 ? DCS_SUFFIXES.get(rest.substring(underscore + 1)) : null;
            if (kind != null) {
                String dcs = rest.substring(0, underscore).toLowerCase(java.util.Locale.ROOT);
                String suffix = rest.substring(underscore + 1);
                if (dcs.equals("citus") && !suffix.equals("GROUP") && !suffix.equals("DATABASE")) {
                    continue;
                }
                kind = dcs.equals("citus") && suffix.equals("GROUP") ? Kind.INT : kind;
                result = set(result, dcs + "." + suffix.toLowerCase(java.util.Locale.ROOT), e.getKey(), e.getValue(),
                        kind);
                used.add(e.getKey());
            }
        }
        for (Map.Entry<String, String> e : env.entrySet()) {
            String k = e.getKey();
            if (!used.contains(k) && k.endsWith("_PASSWORD") && k.length() > "PATRONI__PASSWORD".length()) {
                String user = k.substring("PATRONI_".length(), k.length() - "_PASSWORD".length());
                result = set(result, "bootstrap.users." + user + ".password", k, e.getValue(), Kind.STRING);
                String options = env.get("PATRONI_" + user + "_OPTIONS");
                if (options != null) {
                    result = set(result, "bootstrap.users." + user + ".options", "PATRONI_" + user + "_OPTIONS",
                            options, Kind.LIST);
                }
                warnings.add("environment variable " + k + ": bootstrap.users." + user + " (Patroni 3.x; Patroni 4"
                        + " removed bootstrap.users) is not acted on: create the user in post_bootstrap or by hand");
            }
        }
        return result;
    }

    private static MapNode set(MapNode root, String path, String variable, String value, Kind kind) {
        String origin = "environment variable " + variable;
        ConfigNode node = switch (kind) {
            case STRING -> new ScalarNode(path, origin, value, false);
            case INT, BOOL -> new ScalarNode(path, origin, value.trim(), true);
            case LIST -> parsed(path, variable, value.strip().startsWith("-") || value.contains("[")
                    ? value : "[" + value + "]", ConfigNode.ListNode.class, "a list such as 'host1:port1','host2:port2'");
            case DICT -> parsed(path, variable, value.strip().startsWith("{") ? value : "{" + value + "}",
                    MapNode.class, "a mapping such as {key: value}");
        };
        return put(root, path.split("\\."), 0, node, origin);
    }

    private static ConfigNode parsed(String path, String variable, String text, Class<?> type, String expected) {
        ConfigNode node = YamlTree.parseText(text, path, "environment variable " + variable);
        if (!type.isInstance(node)) {
            throw new ConfigException("environment variable " + variable + ": expected " + expected);
        }
        return node;
    }

    private static MapNode put(MapNode node, String[] keys, int i, ConfigNode value, String origin) {
        Map<String, ConfigNode> entries = new LinkedHashMap<>(node.entries());
        String childPath = node.path().isEmpty() ? keys[i] : node.path() + "." + keys[i];
        if (i == keys.length - 1) {
            entries.put(keys[i], value);
        } else {
            ConfigNode child = entries.get(keys[i]);
            MapNode childMap = child instanceof MapNode m ? m : new MapNode(childPath, origin, Map.of());
            entries.put(keys[i], put(childMap, keys, i + 1, value, origin));
        }
        return new MapNode(node.path(), node.origin(), entries);
    }

}

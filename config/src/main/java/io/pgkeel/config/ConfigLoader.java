package io.pgkeel.config;

import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.DynamicConfigParser;
import io.pgkeel.common.cluster.Tags;
import io.pgkeel.config.ConfigNode.ListNode;
import io.pgkeel.config.ConfigNode.MapNode;
import io.pgkeel.config.ConfigNode.ScalarNode;
import io.pgkeel.config.PemFiles.Holds;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Reads Patroni's YAML into a {@link PgkeelConfig}. The same file that runs Patroni on a node runs pgkeel.
 * Precedence, as Patroni's: environment ({@code PATRONI_*}) over the file. Unknown keys are warnings; wrong
 * types, missing required keys and impossible values are a {@link ConfigException} naming path and line.
 */
public final class ConfigLoader {

    /** Result of a successful load: the config and the warnings worth logging once. */
    public record Loaded(PgkeelConfig config, List<String> warnings) {}

    private static final Set<String> OTHER_DCS = Set.of("etcd", "consul", "zookeeper", "exhibitor", "kubernetes",
            "raft");

    private final List<String> warnings = new ArrayList<>();

    private ConfigLoader() {}

    public static Loaded load(Path file) {
        return load(file, System.getenv());
    }

    public static Loaded load(Path file, Map<String, String> environment) {
        ConfigLoader loader = new ConfigLoader();
        MapNode root;
        String whole = environment.get(PatroniEnvironment.CONFIGURATION);
        if (!Files.exists(file) && whole != null && !whole.isBlank()) {
            // Patroni: without a configuration file the whole YAML may come in PATRONI_CONFIGURATION, and then
            // no other variable is considered
            ConfigNode parsed = YamlTree.parseText(whole, "",
                    "environment variable " + PatroniEnvironment.CONFIGURATION);
            if (!(parsed instanceof MapNode map)) {
                throw new ConfigException("environment variable " + PatroniEnvironment.CONFIGURATION
                        + ": must be a YAML mapping of keys (scope:, name:, ...)");
            }
            root = map;
        } else {
            root = PatroniEnvironment.apply(YamlTree.parse(file), environment, loader.warnings);
        }
        PgkeelConfig config = loader.read(root, file);
        return new Loaded(config, List.copyOf(loader.warnings));
    }

    private PgkeelConfig read(MapNode root, Path file) {
        judgeKeys(root);
        for (String other : OTHER_DCS) {
            if (root.entries().containsKey(other) && !root.entries().containsKey("etcd3")) {
                throw new ConfigException(root.entries().get(other).origin() + ": " + other
                        + ": pgkeel keeps its state in etcd through the v3 API only; write the same hosts under"
                        + " 'etcd3:'"
                        + (other.equals("etcd") ? " (etcd v2 keys are invisible to v3 clients)" : ""));
            }
        }
        String scope = requiredString(root, "scope");
        String name = requiredString(root, "name");
        String namespace = optionalString(root, "namespace").orElse("/service/");
        checkKeyName(root, "scope", scope);
        checkKeyName(root, "name", name);

        MapNode restapi = requiredMap(root, "restapi");
        HostPort[] apiAddresses = restapiAddresses(restapi);
        HostPort apiListen = apiAddresses[0];
        HostPort apiConnect = apiAddresses[1];
        Optional<Credentials> apiAuth = optionalMap(restapi, "authentication").map(this::credentials);
        apiAuth.filter(c -> c.password() == null).ifPresent(c -> {
            throw new ConfigException(restapi.entries().get("authentication").origin()
                    + ": restapi.authentication.password is required");
        });
        List<String> allowlist = readAllowlist(restapi);
        boolean includeMembers = optionalBool(restapi, "allowlist_include_members").orElse(false);
        Map<String, String> httpHeaders = readHeaders(restapi, "http_extra_headers");
        Map<String, String> httpsHeaders = readHeaders(restapi, "https_extra_headers");

        PgkeelConfig.Ctl ctl = optionalMap(root, "ctl").map(this::readCtl).orElse(PgkeelConfig.Ctl.NONE);

        PgkeelConfig.Etcd etcd = readEtcd(requiredMap(root, "etcd3"));

        MapNode bootstrap = optionalMap(root, "bootstrap").orElse(new MapNode("bootstrap", root.origin(), Map.of()));
        MapNode dcs = optionalMap(bootstrap, "dcs").orElse(new MapNode("bootstrap.dcs", bootstrap.origin(), Map.of()));
        DynamicConfig dynamic = readDynamic(dcs);
        List<String> initdb = initdbArgs(bootstrap);

        MapNode pg = requiredMap(root, "postgresql");
        PgkeelConfig.Postgresql postgresql = readPostgresql(pg, name);

        Map<String, Object> tags = new LinkedHashMap<>();
        optionalMap(root, "tags").ifPresent(t -> t.entries().forEach((k, v) -> tags.put(k, v.toPlain())));
        tags.values().removeIf(Objects::isNull);
        warnings.addAll(Tags.conflicts(tags));

        @SuppressWarnings("unchecked")
        Map<String, Object> dcsPlain = (Map<String, Object>) dcs.toPlain();
        PgkeelConfig.RestApi api = new PgkeelConfig.RestApi(apiListen, apiConnect, apiAuth, allowlist,
                readTls(restapi), includeMembers, httpHeaders, httpsHeaders);
        return new PgkeelConfig(scope, namespace, name, api, ctl, etcd, dcsPlain, dynamic, initdb, postgresql, tags,
                file);
    }

    /**
     * {@code restapi.allowlist}: as Patroni's {@code _build_allowlist}, an entry with a {@code /} is a network
     * (address/prefix), any other an address or a host name that the REST API resolves at run time (never here: a
     * name that does not resolve yet must not stop the agent). Patroni logs and skips an entry it cannot read;
     * pgkeel refuses it naming the entry, so a typo never silently narrows (or empties) the list.
     */
    private List<String> readAllowlist(MapNode restapi) {
        List<String> allowlist = new ArrayList<>();
        ConfigNode allowNode = restapi.entries().get("allowlist");
        if (allowNode == null || allowNode instanceof ScalarNode s && s.toPlain() == null) {
            return allowlist;
        }
        if (!(allowNode instanceof ListNode list)) {
            throw bad(allowNode, "must be a list of IP addresses, CIDR ranges or host names");
        }
        for (ConfigNode item : list.items()) {
            String entry = scalar(item);
            String why = AddressForms.allowlistEntryProblem(entry == null ? "" : entry.trim());
            if (why != null) {
                throw bad(item, "'" + entry + "' " + why);
            }
            allowlist.add(entry.trim());
        }
        return allowlist;
    }

    /**
     * {@code restapi.http_extra_headers} / {@code https_extra_headers}: a mapping of header name to value, sent as
     * Patroni's {@code send_header} does ({@code str(value)}). A name that is not an HTTP token, a value with a line
     * break (it would split the response), or a header pgkeel frames the response with is refused naming the key.
     */
    private Map<String, String> readHeaders(MapNode restapi, String key) {
        Map<String, String> headers = new LinkedHashMap<>();
        Optional<MapNode> node = optionalMap(restapi, key);
        if (node.isEmpty()) {
            return headers;
        }
        node.get().entries().forEach((name, valueNode) -> {
            if (!name.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
                throw bad(valueNode, "'" + name + "' is not an HTTP header name");
            }
            if (Set.of("content-length", "transfer-encoding", "connection")
                    .contains(name.toLowerCase(Locale.ROOT))) {
                throw bad(valueNode, "pgkeel sets " + name + " itself (it frames the response)");
            }
            Object plain = valueNode instanceof ScalarNode s ? s.toPlain() : null;
            if (!(valueNode instanceof ScalarNode) || plain == null) {
                throw bad(valueNode, "must be a single value (the header's value)");
            }
            String value = plain instanceof Boolean b ? (b ? "True" : "False") : scalar(valueNode);
            if (value.chars().anyMatch(c -> c == '\r' || c == '\n' || c == 0)) {
                throw bad(valueNode, "must not contain a line break");
            }
            headers.put(name, value);
        });
        return headers;
    }

    /** listen and connect_address; without a connect_address, the address that reaches listen from this host. */
    private HostPort[] restapiAddresses(MapNode restapi) {
        ConfigNode listenNode = restapi.entries().get("listen");
        if (listenNode == null) {
            throw new ConfigException(restapi.origin() + ": restapi.listen is required (host:port)");
        }
        HostPort listen = AddressForms.restapiListen(listenNode, scalar(listenNode));
        ConfigNode connectNode = restapi.entries().get("connect_address");
        if (connectNode != null) {
            return new HostPort[] {listen, AddressForms.connectAddress(connectNode, scalar(connectNode),
                    OptionalInt.empty())};
        }
        if (AddressForms.isWildcard(listen.host())) {
            warnings.add(listenNode.origin() + ": restapi.listen " + listen + " without restapi.connect_address:"
                    + " api_url is this host's loopback, which other members cannot reach");
        }
        return new HostPort[] {listen, new HostPort(AddressForms.reachingLocally(listen.host()), listen.port())};
    }

    private Optional<PgkeelConfig.Tls> readTls(MapNode restapi) {
        Optional<String> cert = optionalString(restapi, "certfile");
        if (cert.isEmpty()) {
            for (String key : List.of("keyfile", "cafile", "verify_client")) {
                if (restapi.entries().containsKey(key)) {
                    throw bad(restapi.entries().get(key), "needs restapi.certfile (TLS is off without it)");
                }
            }
            return Optional.empty();
        }
        CertAndKey pair = certAndKey(restapi, "restapi", "certfile", "keyfile").orElseThrow();
        Optional<Path> cafile = optionalString(restapi, "cafile").isPresent()
                ? Optional.of(pemFile(restapi, "cafile", Holds.CA_BUNDLE, null)) : Optional.empty();
        String verify = optionalString(restapi, "verify_client").orElse("none");
        if (!Set.of("none", "optional", "required").contains(verify)) {
            throw bad(restapi.entries().get("verify_client"), "must be none, optional or required");
        }
        if (!verify.equals("none") && cafile.isEmpty()) {
            throw bad(restapi.entries().get("verify_client"), "needs restapi.cafile to check client certificates");
        }
        return Optional.of(new PgkeelConfig.Tls(pair.cert(), pair.keyFile(), optionalString(restapi, "keyfile_password"),
                cafile, verify));
    }

    /**
     * A certificate and its private key, as Patroni reads them in restapi, ctl and etcd3: a separate key file, or the
     * key in the certificate's file. Each file is checked (readable PEM holding what it must). Empty without a
     * certificate; a key without one is the caller's error to name.
     */
    private Optional<CertAndKey> certAndKey(MapNode section, String sectionName, String certKey, String keyKey) {
        boolean separate = optionalString(section, keyKey).isPresent();
        return optionalString(section, certKey).map(v -> {
            Path cert = pemFile(section, certKey, separate ? Holds.CERTIFICATE : Holds.CERTIFICATE_AND_KEY,
                    sectionName + "." + keyKey);
            return new CertAndKey(cert, separate ? Optional.of(pemFile(section, keyKey, Holds.PRIVATE_KEY, null))
                    : Optional.empty());
        });
    }

    /** @param separateKey the key's own file; empty when the key is in the certificate's file */
    private record CertAndKey(Path cert, Optional<Path> separateKey) {
        Path keyFile() {
            return separateKey.orElse(cert);
        }
    }

    /** Patroni's {@code ctl} section; keyfile and keyfile_password belong to a certfile, as in restapi. */
    private PgkeelConfig.Ctl readCtl(MapNode ctl) {
        boolean insecure = optionalBool(ctl, "insecure").orElse(false);
        Optional<Path> cacert = optionalString(ctl, "cacert").map(v -> pemFile(ctl, "cacert", Holds.CA_BUNDLE, null));
        Optional<CertAndKey> pair = certAndKey(ctl, "ctl", "certfile", "keyfile");
        if (pair.isEmpty()) {
            for (String key : List.of("keyfile", "keyfile_password")) {
                if (ctl.entries().containsKey(key)) {
                    throw bad(ctl.entries().get(key), "needs ctl.certfile (no client certificate without it)");
                }
            }
        }
        Optional<Credentials> auth = optionalMap(ctl, "authentication").map(this::credentials);
        auth.filter(c -> c.password() == null).ifPresent(c -> {
            throw new ConfigException(ctl.entries().get("authentication").origin()
                    + ": ctl.authentication.password is required");
        });
        return new PgkeelConfig.Ctl(insecure, cacert, pair.map(CertAndKey::cert), pair.map(CertAndKey::keyFile),
                optionalString(ctl, "keyfile_password"), auth);
    }

    /** A certificate or key path: see {@link PemFiles#check}. */
    private Path pemFile(MapNode parent, String key, Holds holds, String alone) {
        return PemFiles.check(parent.entries().get(key), pathSetting(parent, key, requiredString(parent, key)), holds,
                alone);
    }

    private DynamicConfig readDynamic(MapNode dcs) {
        // wrong types are errors naming the line; odd values are adjusted as Patroni does, with a warning
        optionalInt(dcs, "ttl");
        optionalInt(dcs, "loop_wait");
        optionalInt(dcs, "retry_timeout");
        optionalLong(dcs, "maximum_lag_on_failover").ifPresent(v -> {
            if (v < 0) {
                throw bad(dcs.entries().get("maximum_lag_on_failover"), "must not be negative");
            }
        });
        Optional<MapNode> pg = optionalMap(dcs, "postgresql");
        pg.ifPresent(p -> {
            optionalBool(p, "use_pg_rewind");
            optionalBool(p, "use_slots");
            optionalBool(p, "remove_data_directory_on_rewind_failure");
            optionalBool(p, "remove_data_directory_on_diverged_timelines");
            optionalMap(p, "parameters");
        });
        @SuppressWarnings("unchecked")
        Map<String, Object> plain = (Map<String, Object>) dcs.toPlain();
        List<String> problems = new ArrayList<>();
        DynamicConfig parsed = DynamicConfigParser.parse(plain, "bootstrap.dcs", problems);
        if (!problems.isEmpty()) {
            Map<String, String> origins = new LinkedHashMap<>();
            collectOrigins(dcs, origins);
            // the parser's "; using <default>" is what a bad value in etcd's config key falls back to; in the file it
            // is refused instead (before bootstrap could write it into the key), so no fallback is named
            throw new ConfigException(String.join("\n", problems.stream()
                    .map(p -> originOf(p, origins, dcs.origin()) + ": " + p.replaceFirst("; using [^;]*$", ""))
                    .toList()));
        }
        String timingAt = dcs.entries().containsKey("ttl") ? dcs.entries().get("ttl").origin() : dcs.origin();
        DynamicConfigParser.timing(plain, "bootstrap.dcs", problems).adjustments()
                .forEach(a -> warnings.add(timingAt + ": bootstrap.dcs: " + a));
        return parsed;
    }

    private List<String> initdbArgs(MapNode bootstrap) {
        ConfigNode node = bootstrap.entries().get("initdb");
        List<String> args = new ArrayList<>();
        if (node == null) {
            return args;
        }
        if (!(node instanceof ListNode list)) {
            throw bad(node, "must be a list such as [{encoding: UTF8}, data-checksums]");
        }
        for (ConfigNode item : list.items()) {
            if (item instanceof ScalarNode s && s.value() != null && !s.value().isBlank()) {
                args.add("--" + s.value().trim());
            } else if (item instanceof MapNode m && m.entries().size() == 1) {
                Map.Entry<String, ConfigNode> e = m.entries().entrySet().iterator().next();
                if (!(e.getValue() instanceof ScalarNode v) || v.value() == null) {
                    throw bad(e.getValue(), "must be a single value");
                }
                args.add("--" + e.getKey() + "=" + v.value());
            } else {
                throw bad(item, "each initdb option is a name (data-checksums) or one key: value (encoding: UTF8)");
            }
        }
        return args;
    }

    private PgkeelConfig.Postgresql readPostgresql(MapNode pg, String name) {
        ConfigNode listenNode = pg.entries().get("listen");
        if (listenNode == null) {
            throw new ConfigException(pg.origin() + ": postgresql.listen is required (for example 127.0.0.1:5432)");
        }
        AddressForms.Listen listen = AddressForms.postgresqlListen(listenNode, scalar(listenNode));
        String listenHosts = listen.addresses();
        int port = listen.port();
        ConfigNode connectNode = pg.entries().get("connect_address");
        HostPort connect = connectNode != null
                ? AddressForms.connectAddress(connectNode, scalar(connectNode),
                        OptionalInt.of(AddressForms.POSTGRES_PORT))
                : new HostPort(AddressForms.reachingLocally(listenHosts.split(",")[0]), port);
        Path dataDir = pathSetting(pg, "data_dir", requiredString(pg, "data_dir"));
        Path binDir = optionalString(pg, "bin_dir").map(v -> pathSetting(pg, "bin_dir", v))
                .orElseGet(ConfigLoader::defaultBinDir);
        Path pgpass = optionalString(pg, "pgpass").map(v -> pathSetting(pg, "pgpass", v))
                .orElse(Path.of(System.getProperty("java.io.tmpdir"), "pgpass." + name));

        MapNode auth = requiredMap(pg, "authentication");
        Credentials superuser = credentials(requiredMap(auth, "superuser"));
        Credentials replication = credentials(requiredMap(auth, "replication"));
        Optional<Credentials> rewind = optionalMap(auth, "rewind").map(this::credentials);

        Map<String, String> parameters = new LinkedHashMap<>();
        optionalMap(pg, "parameters").ifPresent(p -> p.entries().forEach((k, v) -> {
            Object plain = v.toPlain();
            if (plain instanceof Map || plain instanceof List) {
                throw bad(v, "must be a single value");
            }
            parameters.put(k, plain == null ? "" : String.valueOf(plain));
        }));
        List<String> hba = new ArrayList<>();
        ConfigNode hbaNode = pg.entries().get("pg_hba");
        if (hbaNode != null) {
            if (!(hbaNode instanceof ListNode list)) {
                throw bad(hbaNode, "must be a list of pg_hba.conf lines");
            }
            list.items().forEach(i -> hba.add(scalar(i)));
        }
        Map<String, String> callbacks = new LinkedHashMap<>();
        optionalMap(pg, "callbacks").ifPresent(c -> {
            c.entries().forEach((k, v) -> callbacks.put(k, scalar(v)));
        });
        // the agent's own connections (JDBC) cannot check a CRL: refusing beats connecting without the check
        for (String user : List.of("superuser", "rewind")) {
            optionalMap(auth, user).ifPresent(u -> {
                for (String crl : List.of("sslcrl", "sslcrldir")) {
                    if (u.entries().containsKey(crl)) {
                        throw bad(u.entries().get(crl), "the agent's own connections as this user use the"
                                + " PostgreSQL JDBC driver, which cannot check a certificate revocation list; remove"
                                + " it (postgresql.authentication.replication." + crl + " is honoured: pg_basebackup"
                                + " and streaming use libpq)");
                    }
                }
            });
        }
        return new PgkeelConfig.Postgresql(listenHosts, port, connect, dataDir, binDir, pgpass, superuser, replication,
                rewind, parameters, hba, optionalBool(pg, "use_pg_rewind"), callbacks,
                optionalBool(pg, "remove_data_directory_on_rewind_failure"),
                optionalBool(pg, "remove_data_directory_on_diverged_timelines"),
                optionalBool(pg, "use_unix_socket").orElse(false),
                optionalBool(pg, "use_unix_socket_repl").orElse(false));
    }

    /**
     * A path setting ({@code data_dir}, a certificate, {@code sslkey}, ...) as a {@link Path}: every one is read
     * through here, so a value the file system cannot name (a NUL, which YAML writes as {@code "\0"}) is refused
     * naming the key, its line and the value, where {@code Path.of} threw from deep inside validate or the agent's
     * start with a stack trace.
     */
    static Path pathSetting(MapNode parent, String key, String text) {
        try {
            return Path.of(text);
        } catch (InvalidPathException e) {
            throw bad(parent.entries().get(key), "'" + printable(text) + "' is not a path: " + e.getReason());
        }
    }

    /** {@code text} with its control characters escaped, so that an error line stays one readable line. */
    static String printable(String text) {
        StringBuilder b = new StringBuilder();
        text.chars().forEach(c -> {
            if (c == 0) {
                b.append("\\0");
            } else if (c < 0x20 || c == 0x7f) {
                b.append(String.format("\\x%02x", c));
            } else {
                b.append((char) c);
            }
        });
        return b.toString();
    }

    /** Debian installs each major version under /usr/lib/postgresql/N/bin; take the newest. */
    static Path defaultBinDir() {
        Path base = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(base)) {
            return Path.of("");
        }
        try (Stream<Path> dirs = Files.list(base)) {
            return dirs.filter(d -> d.getFileName().toString().matches("\\d+(\\.\\d+)?"))
                    .filter(d -> Files.isExecutable(d.resolve("bin/pg_ctl")))
                    .max(Comparator.comparingDouble(d -> Double.parseDouble(d.getFileName().toString())))
                    .map(d -> d.resolve("bin"))
                    .orElse(Path.of(""));
        } catch (IOException e) {
            return Path.of("");
        }
    }

    /** The values libpq accepts for each enumerated connection option (libpq "Parameter Key Words"). */
    private static final Map<String, Set<String>> OPTION_VALUES = Map.of(
            "sslmode", Set.of("disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
            "sslnegotiation", Set.of("postgres", "direct"),
            "gssencmode", Set.of("disable", "prefer", "require"),
            "channel_binding", Set.of("disable", "prefer", "require"));

    private Credentials credentials(MapNode node) {
        Map<String, String> options = new LinkedHashMap<>();
        for (String k : Credentials.OPTIONS) {
            optionalString(node, k).ifPresent(v -> {
                Set<String> allowed = OPTION_VALUES.get(k);
                if (allowed != null && !allowed.contains(v)) {
                    throw bad(node.entries().get(k), "'" + v + "' is not one of " + new TreeSet<>(allowed));
                }
                if (Credentials.PATH_OPTIONS.contains(k)) {
                    pathSetting(node, k, v); // libpq and the JDBC driver open it; a NUL would fail there, unnamed
                }
                options.put(k, v);
            });
        }
        return new Credentials(requiredString(node, "username"), optionalString(node, "password").orElse(null),
                options);
    }

    /**
     * The {@code etcd3} section as Patroni's {@code get_etcd_client} reads it (patroni/dcs/etcd.py): {@code url}
     * wins over {@code hosts}, which wins over {@code host}; the url's scheme is the protocol and its user info the
     * etcd user; a host without a port takes {@code port} or 2379; {@code cert} without {@code key} holds both.
     */
    private PgkeelConfig.Etcd readEtcd(MapNode etcd3) {
        int defaultPort = optionalInt(etcd3, "port").orElse(2379);
        if (defaultPort < 1 || defaultPort > 65535) {
            throw bad(etcd3.entries().get("port"), defaultPort + " is not a TCP port (1-65535)");
        }
        String protocol = optionalString(etcd3, "protocol").orElse("http");
        if (!protocol.equals("http") && !protocol.equals("https")) {
            throw bad(etcd3.entries().get("protocol"), "'" + protocol + "' is not one of [http, https]");
        }
        Optional<String> username = optionalString(etcd3, "username");
        Optional<String> password = optionalString(etcd3, "password");
        List<HostPort> hosts;
        ConfigNode url = etcd3.entries().get("url");
        if (url != null) {
            EtcdUrl parsed = etcdUrl(url, scalar(url));
            protocol = parsed.scheme();
            hosts = List.of(parsed.host());
            if (parsed.username().isPresent()) {
                username = parsed.username();
                password = parsed.password();
            }
        } else {
            hosts = etcdHosts(etcd3, defaultPort);
        }
        if (username.isPresent() && password.isEmpty()) {
            warnings.add(etcd3.entries().getOrDefault("username", etcd3).origin() + ": etcd3.username without"
                    + " etcd3.password: pgkeel connects without authenticating, as Patroni does");
            username = Optional.empty();
        }
        Optional<Path> cacert = optionalString(etcd3, "cacert").map(v -> pemFile(etcd3, "cacert", Holds.CA_BUNDLE,
                null));
        Optional<CertAndKey> pair = certAndKey(etcd3, "etcd3", "cert", "key");
        if (pair.isEmpty() && etcd3.entries().containsKey("key")) {
            throw bad(etcd3.entries().get("key"), "needs etcd3.cert (the client certificate the key belongs to)");
        }
        if (protocol.equals("http")) {
            for (String file : List.of("cacert", "cert", "key")) {
                if (etcd3.entries().containsKey(file)) {
                    warnings.add(etcd3.entries().get(file).origin() + ": etcd3." + file + " is set but"
                            + " etcd3.protocol is http: the TLS files are not used");
                }
            }
        }
        return new PgkeelConfig.Etcd(hosts, protocol, cacert, pair.map(CertAndKey::cert),
                pair.flatMap(CertAndKey::separateKey), username, password);
    }

    /** {@code etcd3.url} taken apart: scheme, host:port (2379 when absent), and the user info as written. */
    private record EtcdUrl(String scheme, HostPort host, Optional<String> username, Optional<String> password) {}

    private static final Pattern URL = Pattern.compile(
            "(?i)(https?)://(?:([^/?#]*)@)?([^/?#@]*)(?:[/?#].*)?");

    /**
     * Read as Python's urlparse does for Patroni: the scheme in any case, user info before the last {@code @} of the
     * authority and split at its first {@code :}, both as written (urlparse decodes no percent escape), a path ignored.
     * Not with java.net.URI, which gives no host for a name it does not take (etcd_1) and would hide why;
     * {@link #etcdHostProblem} names that cause.
     */
    private EtcdUrl etcdUrl(ConfigNode node, String text) {
        Matcher m = URL.matcher(text.trim());
        if (!m.matches() || m.group(3).isEmpty()) {
            throw bad(node, "'" + text + "' must be http://host:port or https://host:port");
        }
        HostPort host = endpoint(node, text, m.group(3), 2379, false);
        Optional<String> user = Optional.empty();
        Optional<String> password = Optional.empty();
        String info = m.group(2);
        if (info != null) {
            int colon = info.indexOf(':');
            // as written: Patroni's urlparse decodes no percent escape, so 'p%40ss' is the password etcd is sent
            user = Optional.of(colon < 0 ? info : info.substring(0, colon));
            password = colon < 0 ? Optional.empty() : Optional.of(info.substring(colon + 1));
        }
        return new EtcdUrl(m.group(1).toLowerCase(Locale.ROOT), host, user, password);
    }

    /**
     * Why the etcd client cannot connect to {@code host}, or null when it can. jetcd takes each endpoint as a
     * java.net.URI and refuses one without a host, which is what java.net.URI makes of a name outside RFC 2396's host
     * names (an underscore, a label starting or ending with '-', a last label starting with a digit), and it throws on
     * an IPv6 address it cannot parse (a group that is not hex, too many or too few groups), whose reason is named.
     * Patroni's Python client would connect to some of these (etcd_1); pgkeel's cannot, so it says so here rather
     * than at start.
     */
    static String etcdHostProblem(String host) {
        String why = null;
        try {
            if (new URI("http://" + HostPort.uriHost(host) + ":2379").getHost() != null) {
                return null;
            }
        } catch (URISyntaxException e) {
            why = e.getReason();
        }
        if (host.contains(":")) {
            // java.net.URI parses the address itself, its reason is the cause (a group that is not hex, too many)
            return "'" + host + "' is not an IPv6 address (" + why + "), so the etcd client (jetcd, java.net.URI)"
                    + " cannot connect to it";
        }
        if (host.contains("_")) {
            return "'" + host + "' is not a host name the etcd client can connect to: '_' is not allowed in host"
                    + " names (RFC 952/1123), and jetcd (java.net.URI) refuses it where Patroni's Python client does"
                    + " not; write the member's IP address, or a name or alias without '_' (Docker Compose: a service"
                    + " or network alias written with '-')";
        }
        return "'" + host + "' is not a host name (RFC 952/1123: dot-separated labels of letters, digits and '-', none"
                + " starting or ending with '-', the last starting with a letter) nor an IP address, so the etcd client"
                + " (jetcd, java.net.URI) cannot connect to it";
    }

    private List<HostPort> etcdHosts(MapNode etcd3, int defaultPort) {
        List<HostPort> hosts = new ArrayList<>();
        ConfigNode node = etcd3.entries().get("hosts");
        if (node instanceof ListNode list) {
            for (ConfigNode item : list.items()) {
                hosts.add(etcdHost(item, scalar(item), defaultPort));
            }
        } else if (node != null) {
            for (String part : scalar(node).split(",")) {
                if (!part.isBlank()) {
                    hosts.add(etcdHost(node, part.trim(), defaultPort));
                }
            }
        } else if (etcd3.entries().containsKey("host")) {
            ConfigNode host = etcd3.entries().get("host");
            hosts.add(etcdHost(host, scalar(host), defaultPort));
        }
        if (hosts.isEmpty()) {
            throw new ConfigException(etcd3.origin() + ": etcd3 needs 'hosts' (host:port, ...), 'host' or 'url'");
        }
        return hosts;
    }

    private static final Pattern SCHEME = Pattern.compile("(?i)[a-z][a-z0-9+.-]*://(.*)");

    /**
     * {@code host:port} or a bare host (Patroni's split_host_port with the default port). A scheme is refused: Patroni
     * puts etcd3.protocol in front of the entry as written and cannot connect, and dropping it would connect with
     * another protocol than the one written; a host name jetcd cannot use is refused with {@link #etcdHostProblem}.
     */
    private HostPort etcdHost(ConfigNode node, String text, int defaultPort) {
        String t = text.trim();
        Matcher scheme = SCHEME.matcher(t);
        if (scheme.matches()) {
            throw bad(node, "'" + t + "' has a scheme; etcd3.hosts and etcd3.host take host:port without a scheme"
                    + " (Patroni puts etcd3.protocol in front of each and could not connect to this one): write '"
                    + scheme.group(1).replaceAll("/.*$", "") + "', with etcd3.protocol: https for TLS, or use etcd3.url"
                    + " for a single member");
        }
        return endpoint(node, t, t, defaultPort, true);
    }

    /**
     * The host and port of one etcd endpoint, {@code authority} being {@code host}, {@code host:port},
     * {@code [ipv6]} or {@code [ipv6]:port} ({@code whole} is the value as written, for the error). A bare IPv6
     * address takes {@code defaultPort} where {@code bareIpv6} allows it (hosts/host); in a url it must be in brackets,
     * as urlparse wants it. The host is then checked as the etcd client will take it ({@link #etcdHostProblem}).
     */
    private HostPort endpoint(ConfigNode node, String whole, String authority, int defaultPort, boolean bareIpv6) {
        String host;
        String portText = null;
        if (authority.startsWith("[")) {
            int close = authority.indexOf(']');
            if (close < 0) {
                throw bad(node, "'" + whole + "': the IPv6 address after '[' has no closing ']'");
            }
            host = authority.substring(1, close);
            String rest = authority.substring(close + 1);
            if (!rest.isEmpty() && !rest.startsWith(":")) {
                throw bad(node, "'" + whole + "': only ':port' may follow the ']' of an IPv6 address");
            }
            portText = rest.isEmpty() ? null : rest.substring(1);
        } else if (authority.indexOf(':') != authority.lastIndexOf(':')) {
            if (!bareIpv6) {
                throw bad(node, "'" + whole + "': an IPv6 address in a url goes in brackets (http://[fe80::1]:2379)");
            }
            host = authority;
        } else {
            int colon = authority.indexOf(':');
            host = colon < 0 ? authority : authority.substring(0, colon);
            portText = colon < 0 ? null : authority.substring(colon + 1);
        }
        if (host.isEmpty()) {
            throw bad(node, "'" + whole + "' must be host:port");
        }
        HostPort hp = new HostPort(host, portText == null ? defaultPort : port(node, portText));
        String problem = etcdHostProblem(host);
        if (problem != null) {
            throw bad(node, "'" + whole + "': " + problem);
        }
        return hp;
    }

    private int port(ConfigNode node, String text) {
        try {
            int p = Integer.parseInt(text.trim());
            if (p < 1 || p > 65535) {
                throw bad(node, "port " + p + " is out of range (1-65535)");
            }
            return p;
        } catch (NumberFormatException e) {
            throw bad(node, "'" + text + "' is not a port number");
        }
    }

    private static void checkKeyName(MapNode root, String key, String value) {
        if (value.isBlank() || value.contains("/")) {
            throw bad(root.entries().get(key), "must be a non-empty name without '/'");
        }
    }

    private String requiredString(MapNode parent, String key) {
        return optionalString(parent, key).orElseThrow(() ->
                new ConfigException(parent.origin() + ": " + path(parent, key) + " is required"));
    }

    private Optional<String> optionalString(MapNode parent, String key) {
        ConfigNode node = parent.entries().get(key);
        if (node == null) {
            return Optional.empty();
        }
        String s = scalar(node);
        return s == null || s.isEmpty() ? Optional.empty() : Optional.of(s);
    }

    private Optional<Integer> optionalInt(MapNode parent, String key) {
        return optionalLong(parent, key).map(v -> {
            if (v > Integer.MAX_VALUE || v < Integer.MIN_VALUE) {
                throw bad(parent.entries().get(key), v + " is out of range");
            }
            return v.intValue();
        });
    }

    private Optional<Long> optionalLong(MapNode parent, String key) {
        ConfigNode node = parent.entries().get(key);
        if (node == null) {
            return Optional.empty();
        }
        Object plain = new ScalarNode(node.path(), node.origin(), scalar(node), true).toPlain();
        if (plain instanceof Long l) {
            return Optional.of(l);
        }
        throw bad(node, "expected a whole number, got '" + scalar(node) + "'");
    }

    private Optional<Boolean> optionalBool(MapNode parent, String key) {
        ConfigNode node = parent.entries().get(key);
        if (node == null) {
            return Optional.empty();
        }
        Object plain = new ScalarNode(node.path(), node.origin(), scalar(node), true).toPlain();
        if (plain instanceof Boolean b) {
            return Optional.of(b);
        }
        throw bad(node, "expected true or false, got '" + scalar(node) + "'");
    }

    private MapNode requiredMap(MapNode parent, String key) {
        return optionalMap(parent, key).orElseThrow(() ->
                new ConfigException(parent.origin() + ": " + path(parent, key) + " is required"));
    }

    private static Optional<MapNode> optionalMap(MapNode parent, String key) {
        ConfigNode node = parent.entries().get(key);
        if (node == null || (node instanceof ScalarNode s && s.toPlain() == null)) {
            return Optional.empty();
        }
        if (node instanceof MapNode m) {
            return Optional.of(m);
        }
        throw bad(node, "must be a mapping of keys");
    }

    private static String scalar(ConfigNode node) {
        if (node instanceof ScalarNode s) {
            return s.value();
        }
        throw bad(node, "must be a single value, not a " + (node instanceof MapNode ? "mapping" : "list"));
    }

    /**
     * Every key against Patroni's catalogue ({@link PatroniKeys}): an ignored or unknown key is a warning naming its
     * path and line; a safety setting pgkeel cannot honour yet (standby_cluster, ...) stops it here.
     */
    private void judgeKeys(MapNode root) {
        Map<String, String> origins = new LinkedHashMap<>();
        collectOrigins(root, origins);
        @SuppressWarnings("unchecked")
        List<PatroniKeys.Finding> findings = PatroniKeys.checkLocal((Map<String, Object>) root.toPlain());
        List<String> refused = new ArrayList<>();
        for (PatroniKeys.Finding f : findings) {
            String sentence = origins.getOrDefault(f.path(), root.origin()) + ": " + f.sentence();
            if (f.verdict() == PatroniKeys.Verdict.REFUSED) {
                refused.add(sentence);
            } else {
                warnings.add(sentence);
            }
        }
        if (!refused.isEmpty()) {
            throw new ConfigException(String.join("\n", refused));
        }
    }

    /**
     * The line of the deepest key a problem sentence starts with ({@code bootstrap.dcs.ttl: ...}), else
     * {@code dflt}.
     */
    private static String originOf(String problem, Map<String, String> origins, String dflt) {
        String best = null;
        for (String path : origins.keySet()) {
            if ((problem.startsWith(path + ":") || problem.startsWith(path + "."))
                    && (best == null || path.length() > best.length())) {
                best = path;
            }
        }
        return best == null ? dflt : origins.get(best);
    }

    private static void collectOrigins(ConfigNode node, Map<String, String> origins) {
        origins.put(node.path(), node.origin());
        if (node instanceof MapNode m) {
            m.entries().values().forEach(c -> collectOrigins(c, origins));
        }
    }

    private static String path(MapNode parent, String key) {
        return parent.path().isEmpty() ? key : parent.path() + "." + key;
    }

    static ConfigException bad(ConfigNode node, String message) {
        return new ConfigException(node.origin() + ": " + node.path() + ": " + message);
    }
}

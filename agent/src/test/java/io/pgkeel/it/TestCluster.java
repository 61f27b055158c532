package io.pgkeel.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BinaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A real cluster on loopback: an etcd (one plain member, or an {@link EtcdCluster} of the caller's options) and N
 * pgkeel agents, each with its own PostgreSQL, in a private temp directory on free ports. Everything it starts it
 * ends by PID on {@link #close()}.
 */
final class TestCluster implements AutoCloseable {
    static final int TTL = 10;
    static final int LOOP_WAIT = 1;
    static final int RETRY_TIMEOUT = 4;

    /** The cluster's ttl, loop_wait and retry_timeout (seconds). */
    record Timing(int ttl, int loopWait, int retryTimeout) {
        static final Timing TESTS = new Timing(TTL, LOOP_WAIT, RETRY_TIMEOUT);
    }

    final String scope;
    final Path dir;
    final EtcdCluster etcd;
    final List<AgentProcess> nodes = new ArrayList<>();
    private final List<AgentProcess> extras = new ArrayList<>();
    final Timing timing;
    private AgentProcess.Flavor flavor = AgentProcess.Flavor.PGKEEL;
    /** Writes each node's YAML and environment: the standard YAML, edited or not, unless a class brings its own. */
    private NodeFactory factory;

    /**
     * Where one node lives: its member name, private directory, free ports, the cluster's etcd endpoints
     * (host:port, comma-separated) and the agent's whole {@code etcd3:} section for that etcd (TLS, user).
     */
    record NodeSlot(String name, Path dir, int apiPort, int pgPort, String etcdEndpoint, String etcd3Yaml) {}

    /**
     * A cluster on an etcd started with {@code etcdOptions} (several members, TLS, auth: see {@link EtcdCluster}),
     * the agents' YAML carrying {@link EtcdCluster#etcd3Yaml()}, edited node by node by {@code yamlEdit}.
     */
    static TestCluster start(String scope, int size, EtcdCluster.Options etcdOptions, BinaryOperator<String> yamlEdit) {
        return start(scope, size, Timing.TESTS, AgentProcess.Flavor.PGKEEL, yamlEdit, null, etcdOptions);
    }

    /** A class's own configuration for every node: the whole YAML and the agent's extra environment variables. */
    interface NodeFactory {
        String yaml(NodeSlot node);

        default Map<String, String> environment(NodeSlot node) {
            return Map.of();
        }
    }

    private TestCluster(String scope, Path dir, EtcdCluster etcd, Timing timing) {
        this.scope = scope;
        this.dir = dir;
        this.etcd = etcd;
        this.timing = timing;
    }

    /** Starts etcd and {@code size} agents, and waits for 1 primary + (size - 1) streaming replicas. */
    static TestCluster start(String scope, int size) {
        return start(scope, size, Timing.TESTS);
    }

    static TestCluster start(String scope, int size, Timing timing) {
        return start(scope, size, timing, AgentProcess.Flavor.PGKEEL);
    }

    /** A cluster of {@code flavor} agents (Patroni from Debian's package, for the benchmarks), same YAML. */
    static TestCluster start(String scope, int size, Timing timing, AgentProcess.Flavor flavor) {
        return start(scope, size, timing, flavor, (name, yaml) -> yaml);
    }

    /**
     * A cluster whose YAML {@code yamlEdit} changes, node by node (arguments: the node's name and its YAML), before
     * it is written.
     */
    static TestCluster start(String scope, int size, BinaryOperator<String> yamlEdit) {
        return start(scope, size, Timing.TESTS, AgentProcess.Flavor.PGKEEL, yamlEdit);
    }

    /**
     * A cluster whose every node's YAML and environment {@code factory} writes whole (the timing is the factory's:
     * {@link #timing} is only the standard YAML's).
     */
    static TestCluster start(String scope, int size, NodeFactory factory) {
        return start(scope, size, Timing.TESTS, AgentProcess.Flavor.PGKEEL, null, factory);
    }

    /** A cluster of {@code flavor} agents with {@code timing} on an etcd started with {@code etcdOptions}. */
    static TestCluster start(String scope, int size, Timing timing, AgentProcess.Flavor flavor,
                             EtcdCluster.Options etcdOptions) {
        return start(scope, size, timing, flavor, (name, yaml) -> yaml, null, etcdOptions);
    }

    /**
     * A cluster of {@code flavor} agents with {@code timing} on an etcd started with {@code etcdOptions}, whose YAML
     * {@code yamlEdit} changes node by node.
     */
    static TestCluster start(String scope, int size, Timing timing, AgentProcess.Flavor flavor,
                             EtcdCluster.Options etcdOptions, BinaryOperator<String> yamlEdit) {
        return start(scope, size, timing, flavor, yamlEdit, null, etcdOptions);
    }

    /** A cluster of {@code flavor} agents with {@code timing}, whose YAML {@code yamlEdit} changes node by node. */
    static TestCluster start(String scope, int size, Timing timing, AgentProcess.Flavor flavor,
                             BinaryOperator<String> yamlEdit) {
        return start(scope, size, timing, flavor, yamlEdit, null);
    }

    private static TestCluster start(String scope, int size, Timing timing, AgentProcess.Flavor flavor,
                                     BinaryOperator<String> yamlEdit, NodeFactory factory) {
        return start(scope, size, timing, flavor, yamlEdit, factory, EtcdCluster.Options.plain(1));
    }

    private static TestCluster start(String scope, int size, Timing timing, AgentProcess.Flavor flavor,
                                     BinaryOperator<String> yamlEdit, NodeFactory factory,
                                     EtcdCluster.Options etcdOptions) {
        Host.pgBinDir();
        Path dir = Host.tempDir("pgkeel-it-");
        EtcdCluster etcd;
        try {
            etcd = EtcdCluster.start(dir, etcdOptions);
        } catch (RuntimeException | Error e) {
            Host.deleteTree(dir);
            throw e;
        }
        TestCluster c = new TestCluster(scope, dir, etcd, timing);
        c.flavor = flavor;
        c.factory = factory != null ? factory
                : node -> yamlEdit.apply(node.name(), c.yaml(node.name(), node.dir(), node.apiPort(), node.pgPort()));
        try {
            for (int i = 1; i <= size; i++) {
                c.nodes.add(c.newNode("node" + i));
            }
            c.nodes.forEach(AgentProcess::start);
            c.awaitHealthy(Duration.ofSeconds(90));
            return c;
        } catch (RuntimeException | Error e) {
            // no test has run yet, so no extension prints the logs: print them here, before they are deleted
            System.out.println("cluster " + scope + " did not start: " + e.getMessage() + c.logs());
            c.close();
            throw e;
        }
    }

    private AgentProcess newNode(String name) {
        return newNode(name, name);
    }

    /**
     * A node outside {@link #nodes} (awaitHealthy ignores it), in its own directory on its own ports, with the
     * cluster's YAML under member name {@code memberName}; the caller starts it, {@link #close()} ends it.
     */
    AgentProcess extraNode(String dirName, String memberName) {
        AgentProcess n = newNode(dirName, memberName);
        extras.add(n);
        return n;
    }

    private AgentProcess newNode(String dirName, String name) {
        Path nodeDir = dir.resolve(dirName);
        try {
            Files.createDirectories(nodeDir);
            Host.giveToAgentUser(nodeDir);
            int api = Host.freePort();
            int pg = Host.freePort();
            Path config = nodeDir.resolve("pgkeel.yml");
            NodeSlot slot = new NodeSlot(name, nodeDir, api, pg, etcd.endpoint(), etcd.etcd3Yaml());
            Files.writeString(config, factory.yaml(slot));
            Host.giveToAgentUser(config);
            return new AgentProcess(name, nodeDir, api, pg, config, flavor, factory.environment(slot));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private String yaml(String name, Path nodeDir, int api, int pg) {
        return """
                scope: %s
                namespace: /service/
                name: %s
                restapi:
                  listen: 127.0.0.1:%d
                  connect_address: 127.0.0.1:%d
                %sbootstrap:
                  dcs:
                    ttl: %d
                    loop_wait: %d
                    retry_timeout: %d
                    maximum_lag_on_failover: 1048576
                    postgresql:
                      use_pg_rewind: true
                      use_slots: true
                      parameters:
                        max_connections: 40
                        wal_keep_size: 64MB
                  initdb:
                    - encoding: UTF8
                    - data-checksums
                """.formatted(scope, name, api, api, etcd.etcd3Yaml(), timing.ttl(), timing.loopWait(), timing.retryTimeout())
                + postgresqlYaml(pg, nodeDir);
    }

    /**
     * The standard YAML's {@code postgresql} section for a node listening on 127.0.0.1:{@code pg}, its data
     * directory, pgpass and sockets in {@code nodeDir}.
     */
    static String postgresqlYaml(int pg, Path nodeDir) {
        return """
                postgresql:
                  listen: 127.0.0.1:%d
                  connect_address: 127.0.0.1:%d
                  data_dir: %s
                  bin_dir: %s
                  pgpass: %s
                  authentication:
                    superuser: {username: postgres, password: %s}
                    replication: {username: replicator, password: '%s'}
                  parameters:
                    shared_buffers: 16MB
                    unix_socket_directories: '%s'
                  pg_hba:
                    - local all all trust
                    - host all all 127.0.0.1/32 scram-sha-256
                    - host replication replicator 127.0.0.1/32 scram-sha-256
                """.formatted(pg, pg, nodeDir.resolve("data"), Host.pgBinDir(), nodeDir.resolve("pgpass"),
                Sql.PASSWORD, Sql.REPLICATION_PASSWORD.replace("'", "''"), nodeDir);
    }

    AgentProcess node(String name) {
        return nodes.stream().filter(n -> n.name.equals(name)).findFirst().orElseThrow();
    }

    void startAgent(AgentProcess n) {
        n.start();
    }

    String key(String suffix) {
        return "/service/" + scope + "/" + suffix;
    }

    Optional<String> leaderName() {
        return etcd.get(key("leader"));
    }

    AgentProcess leader() {
        return node(leaderName().orElseThrow(() -> new IllegalStateException("no leader key")));
    }

    /**
     * Tries {@code sql} on every node but {@code gone}, every 20 ms, until one commits it; returns that node.
     * The first write on a new primary is what a client sees as "failover done".
     */
    AgentProcess awaitFirstWriterOtherThan(AgentProcess gone, String sql, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() - deadline < 0) {
            for (AgentProcess n : nodes) {
                if (n != gone && Sql.tryExecute(n.pgPort, sql)) {
                    return n;
                }
            }
            Await.pause(20);
        }
        throw new AssertionError("no node accepted a write within " + timeout.toSeconds() + " s after " + gone.name
                + " went away; " + describe());
    }

    /** The nodes whose PostgreSQL accepts writes right now. */
    List<AgentProcess> writablePrimaries() {
        return nodes.stream().filter(n -> Sql.isPrimary(n.pgPort)).toList();
    }

    /** Starts any stopped agent and waits for one primary holding the key and every other node streaming. */
    void awaitHealthy(Duration timeout) {
        nodes.stream().filter(n -> !n.isAlive()).forEach(this::startAgent);
        Await.until(timeout, "1 primary with the leader key and " + (nodes.size() - 1) + " streaming replicas",
                this::isHealthy, this::describe);
    }

    boolean isHealthy() {
        Optional<String> leader = leaderName();
        if (leader.isEmpty() || !Sql.isPrimary(node(leader.get()).pgPort)) {
            return false;
        }
        // count the members themselves (application_name = member name): a pg_basebackup of a replica still
        // being cloned also shows up as a streaming walsender
        String members = nodes.stream().filter(n -> !n.name.equals(leader.get())).map(n -> "'" + n.name + "'")
                .collect(Collectors.joining(","));
        // and every agent has seen it: its member key (written with its REST snapshot) says running
        for (AgentProcess n : nodes) {
            if (!etcd.get(key("members/" + n.name)).map(v -> v.contains("\"state\":\"running\"")).orElse(false)) {
                return false;
            }
        }
        String streaming = Sql.queryString(node(leader.get()).pgPort, "SELECT count(*) FROM pg_stat_replication"
                + " WHERE state = 'streaming' AND application_name IN (" + members + ")");
        return Integer.parseInt(streaming) == nodes.size() - 1;
    }

    String describe() {
        return "leader=" + leaderName().orElse("none") + ", primaries=" + nodes.stream()
                .filter(n -> Sql.isPrimary(n.pgPort)).map(n -> n.name).collect(Collectors.joining(","));
    }

    @Override
    public void close() {
        for (AgentProcess n : Stream.concat(nodes.stream(), extras.stream()).toList()) {
            try {
                n.terminate(Duration.ofSeconds(30));
            } catch (AssertionError e) {
                n.kill9();
            }
            n.killPostgresTree();
        }
        etcd.close();
        if (System.getenv("PGKEEL_IT_KEEP") == null) {
            Host.deleteTree(dir);
        }
    }

    /** Prints each node's log into the test output, for a failed test. */
    String logs() {
        StringBuilder sb = new StringBuilder();
        for (AgentProcess n : nodes) {
            String text = n.logText();
            String[] lines = text.split("\n");
            sb.append("\n===== ").append(n.name).append(" agent log (last 80 lines) =====\n");
            sb.append(String.join("\n", Stream.of(lines).skip(Math.max(0, lines.length - 80)).toList()));
            Path pgLog = n.dir.resolve("data.postmaster.log");
            try {
                List<String> pgLines = Files.exists(pgLog) ? Files.readAllLines(pgLog) : List.of();
                sb.append("\n----- ").append(n.name).append(" postgres log (last 30 lines) -----\n");
                sb.append(String.join("\n", pgLines.subList(Math.max(0, pgLines.size() - 30), pgLines.size())));
            } catch (IOException e) {
                sb.append("\n(no postgres log: ").append(e.getMessage()).append(")");
            }
        }
        return sb.toString();
    }
}

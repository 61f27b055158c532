package io.pgkeel.agent.ha;

import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.DynamicConfigParser;
import io.pgkeel.common.pg.PgStatus;
import io.pgkeel.testing.SimCluster;
import java.util.ArrayList;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Simulated clusters of real {@link HaNode}s (the common test-jar's {@link SimCluster}), with ttl 10 and loop_wait 1.
 * Each node reports a role change that {@link Role#TRANSITIONS} does not list as a broken rule.
 */
final class HaSim {
    static final int TTL = 10;
    static final int LOOP_WAIT = 1;

    private HaSim() {}

    static SimCluster cluster(String... names) {
        return cluster(Map.of(), names);
    }

    /** A cluster whose bootstrap.dcs also has {@code bootstrapDcsExtra} (synchronous_mode, say). */
    static SimCluster cluster(Map<String, Object> bootstrapDcsExtra, String... names) {
        return new SimCluster(n -> start(n, bootstrapDcsExtra), names);
    }

    private static NodeIdentity identity(SimCluster.Node n, Map<String, Object> bootstrapDcsExtra) {
        Map<String, Object> bootstrapDcs = new java.util.LinkedHashMap<>(Map.of("ttl", TTL, "loop_wait", LOOP_WAIT,
                "retry_timeout", 4, "maximum_lag_on_failover", 1_048_576, "postgresql",
                Map.of("use_pg_rewind", true, "use_slots", true)));
        bootstrapDcs.putAll(bootstrapDcsExtra);
        DynamicConfig boot = DynamicConfigParser.parse(bootstrapDcs, "bootstrap.dcs", new ArrayList<>());
        return new NodeIdentity("sim", n.name, n.tags, bootstrapDcs, boot, NodeIdentity.LocalOverrides.NONE,
                n.pg.connUrl(), "http://" + n.name + ":8008/patroni", "test");
    }

    private static SimCluster.Agent start(SimCluster.Node n, Map<String, Object> bootstrapDcsExtra) {
        NodeIdentity id = identity(n, bootstrapDcsExtra);
        AtomicReference<NodeSnapshot> published = new AtomicReference<>();
        HaNode node = new HaNode(id, n.session(), n.pg, n.peers(), n.clock(), published::set, new HaListener() {
            @Override
            public void roleChanged(Role from, Role to, String action, boolean unexpected) {
                if (unexpected) {
                    n.violation(from + " -> " + to + " after " + action + ", which Role.TRANSITIONS does not list");
                }
            }
        });
        node.setCallbacks((action, role) -> n.callbacks.add(action + " " + role));
        return new SimCluster.Agent() {
            @Override
            public long runCycle() {
                return node.runCycle();
            }

            @Override
            public boolean checkFence() {
                return node.checkFence();
            }

            @Override
            public OptionalLong fenceDeadline() {
                return node.fenceDeadline();
            }

            @Override
            public void shutdown() {
                node.shutdown();
            }

            @Override
            public void reload() {
                node.inbox().requestReload(identity(n, bootstrapDcsExtra), () -> { });
            }

            @Override
            public Optional<PgStatus> published() {
                return Optional.ofNullable(published.get()).map(NodeSnapshot::pg);
            }

            @Override
            public String lastReason() {
                return node.lastAction() == null ? "-" : node.lastAction().reason();
            }
        };
    }
}

package io.pgkeel.agent.ha;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.DynamicConfigParser;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.peer.FailsafeAnswer;
import io.pgkeel.common.peer.PeerClient;
import io.pgkeel.common.pg.PgStatus;
import io.pgkeel.testing.SimCluster;
import java.util.ArrayList;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Simulated clusters of real {@link HaNode}s (the common test-jar's {@link SimCluster}), with ttl 10 and loop_wait 1.
 * Each node reports a role change that {@link Role#TRANSITIONS} does not list as a broken rule. Each agent answers
 * {@code POST /failsafe} with the checks the REST API makes.
 */
final class HaSim {
    static final int TTL = 10;
    static final int LOOP_WAIT = 1;
    static final String PROMISE_FILE = "data.failsafe.json";
    static final String PAUSED_LEADER_FILE = "data.paused-leader.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The real agent, or one deliberately broken, to show that the simulation's checker catches it. */
    enum Variant {
        REAL,
        /** Broken: a replica answers POST /failsafe "Accepted" but keeps no promise (it races as if asked nothing). */
        PROMISES_NOT_KEPT,
        /** Broken: a primary's failsafe round counts a member that did not answer as one that accepted. */
        SILENCE_COUNTS_AS_ACCEPTED
    }

    private HaSim() {}

    /**
     * Sets the root logger's level and returns the one it had: the simulations turn the agents' per-cycle lines
     * down (their event logs say what happened) and restore the level after.
     */
    static ch.qos.logback.classic.Level rootLogLevel(ch.qos.logback.classic.Level level) {
        ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                org.slf4j.Logger.ROOT_LOGGER_NAME);
        ch.qos.logback.classic.Level before = root.getLevel();
        root.setLevel(level);
        return before;
    }

    static SimCluster cluster(String... names) {
        return cluster(Map.of(), names);
    }

    /** A cluster whose bootstrap.dcs also has {@code bootstrapDcsExtra} (synchronous_mode, say). */
    static SimCluster cluster(Map<String, Object> bootstrapDcsExtra, String... names) {
        return cluster(Variant.REAL, bootstrapDcsExtra, names);
    }

    static SimCluster cluster(Variant variant, Map<String, Object> bootstrapDcsExtra, String... names) {
        return new SimCluster(n -> start(n, bootstrapDcsExtra, variant, HaPolicy::decide), names);
    }

    /** A cluster of agents that decide with {@code policy} (a deliberately broken one, for the checker's tests). */
    static SimCluster cluster(java.util.function.Function<Observation, Action> policy,
                              Map<String, Object> bootstrapDcsExtra, String... names) {
        return new SimCluster(n -> start(n, bootstrapDcsExtra, Variant.REAL, policy), names);
    }

    static NodeIdentity identity(SimCluster.Node n, Map<String, Object> bootstrapDcsExtra) {
        Map<String, Object> bootstrapDcs = new java.util.LinkedHashMap<>(Map.of("ttl", TTL, "loop_wait", LOOP_WAIT,
                "retry_timeout", 4, "maximum_lag_on_failover", 1_048_576, "postgresql",
                Map.of("use_pg_rewind", true, "use_slots", true)));
        bootstrapDcs.putAll(bootstrapDcsExtra);
        DynamicConfig boot = DynamicConfigParser.parse(bootstrapDcs, "bootstrap.dcs", new ArrayList<>());
        return new NodeIdentity("sim", n.name, n.tags, bootstrapDcs, boot, NodeIdentity.LocalOverrides.NONE,
                n.pg.connUrl(), "http://" + n.name + ":8008/patroni", "test");
    }

    private static SimCluster.Agent start(SimCluster.Node n, Map<String, Object> bootstrapDcsExtra, Variant variant,
                                          java.util.function.Function<Observation, Action> policy) {
        NodeIdentity id = identity(n, bootstrapDcsExtra);
        AtomicReference<NodeSnapshot> published = new AtomicReference<>();
        PeerClient peers = n.peers();
        if (variant == Variant.SILENCE_COUNTS_AS_ACCEPTED) {
            PeerClient real = peers;
            peers = new PeerClient() {
                @Override
                public java.util.List<io.pgkeel.common.peer.PeerStatus> fetch(java.util.List<Member> members) {
                    return real.fetch(members);
                }

                @Override
                public FailsafeAnswer postFailsafe(String apiUrl, String bodyJson, java.time.Duration timeout) {
                    FailsafeAnswer a = real.postFailsafe(apiUrl, bodyJson, timeout);
                    return a.detail().startsWith("no answer") ? FailsafeAnswer.accepted(OptionalLong.empty()) : a;
                }
            };
        }
        HaNode node = new HaNode(id, n.session(), n.pg, peers, n.clock(), published::set, new HaListener() {
            @Override
            public void roleChanged(Role from, Role to, String action, boolean unexpected) {
                if (unexpected) {
                    n.violation(from + " -> " + to + " after " + action + ", which Role.TRANSITIONS does not list");
                }
            }
        }, disk(n, PROMISE_FILE), disk(n, PAUSED_LEADER_FILE));
        node.setCallbacks((action, role) -> n.callbacks.add(action + " " + role));
        node.decideWith(policy);
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
            public boolean paused() {
                return published.get() != null && published.get().paused(); // as StatusJson answers it
            }

            @Override
            public boolean failsafeActive() {
                return published.get() != null && published.get().failsafe().active();
            }

            @Override
            public String lastReason() {
                return node.lastAction() == null ? "-" : node.lastAction().reason();
            }

            @Override
            public FailsafeAnswer failsafe(String bodyJson) {
                return answerFailsafe(published.get(), node.failsafe(), bodyJson, variant);
            }
        };
    }

    /** One of the agent's files beside the data directory ({@link SimCluster.Node#files}, which outlive the agent). */
    static AgentFile disk(SimCluster.Node n, String file) {
        return new AgentFile() {
            @Override
            public void write(String content) {
                n.files.put(file, content);
            }

            @Override
            public Optional<String> read() {
                return Optional.ofNullable(n.files.get(file));
            }

            @Override
            public String toString() {
                return n.name + ":" + file;
            }
        };
    }

    /**
     * POST /failsafe as the REST API answers it (Patroni's do_POST_failsafe): 502 with failsafe_mode off, 500 while
     * running as primary or while this node claimed the right to become one, else the promise and 200 "Accepted"
     * with this node's WAL position.
     */
    static FailsafeAnswer answerFailsafe(NodeSnapshot s, FailsafePromise promise, String bodyJson, Variant variant) {
        if (s == null || !s.failsafe().enabled()) {
            return FailsafeAnswer.refused("HTTP 502");
        }
        if ("primary".equals(s.role())) {
            return FailsafeAnswer.refused("HTTP 500 Running as a leader");
        }
        JsonNode body;
        try {
            body = JSON.readTree(bodyJson);
        } catch (java.io.IOException e) {
            return FailsafeAnswer.refused("HTTP 400");
        }
        // at least the ttl the primary counts with (a shorter one read meanwhile would end the promise too soon)
        int ttl = Math.max(s.ttl(), body.path("ttl").asInt(0));
        try {
            if (variant != Variant.PROMISES_NOT_KEPT && !promise.give(body.path("name").asText(),
                    body.path("conn_url").asText(null), body.path("api_url").asText(null),
                    TimeUnit.SECONDS.toNanos(ttl))) {
                return FailsafeAnswer.refused("HTTP 500 about to become primary");
            }
        } catch (FailsafePromise.NotRecorded e) {
            return FailsafeAnswer.refused("HTTP 500 Failsafe promise not recorded");
        }
        return FailsafeAnswer.accepted(OptionalLong.of(s.pg().walPosition()));
    }
}

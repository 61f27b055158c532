package io.pgkeel.agent.ha;

import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.DynamicConfigParser;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.testing.FakeClock;
import io.pgkeel.testing.FakeDcs;
import io.pgkeel.testing.FakePostgres;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A simulated cluster of real {@link HaNode}s on fakes, driven by a discrete-event loop on a {@link FakeClock}:
 * each node cycles when due or when woken by a watch event, the lease fence fires at its deadline, etcd expires
 * leases, standbys stream. After every event it checks that at most one PostgreSQL takes writes.
 */
final class SimCluster {
    static final int TTL = 10;
    static final int LOOP_WAIT = 1;
    private static final long STEP = TimeUnit.MILLISECONDS.toNanos(50);

    final FakeClock clock = new FakeClock();
    final FakeDcs dcs = new FakeDcs(clock);
    final FakePostgres.Network network = new FakePostgres.Network();
    final Map<String, SimNode> nodes = new LinkedHashMap<>();
    final List<String> events = new ArrayList<>();
    /** Role changes that no row of Role.TRANSITIONS lists, after actions that did not fail. */
    final List<String> unexpectedRoleChanges = new ArrayList<>();
    private int maxWritablePrimaries;
    private long ackedWal;
    private int ackedTimeline;

    /** One machine: an agent process (maybe dead) and its PostgreSQL. */
    final class SimNode {
        final String name;
        final FakePostgres pg;
        final Map<String, Object> tags = new LinkedHashMap<>();
        HaNode agent;
        FakeDcs.Session session;
        long nextRunAt;
        NodeSnapshot snapshot;
        /** Callbacks fired on this node, as "action role". */
        final List<String> callbacks = new ArrayList<>();

        SimNode(String name) {
            this.name = name;
            this.pg = network.node(name);
        }

        boolean agentAlive() {
            return agent != null;
        }

        void startAgent() {
            session = dcs.session(name);
            Map<String, Object> bootstrapDcs = Map.of("ttl", TTL, "loop_wait", LOOP_WAIT, "retry_timeout", 4,
                    "maximum_lag_on_failover", 1_048_576, "postgresql", Map.of("use_pg_rewind", true, "use_slots", true));
            DynamicConfig boot = DynamicConfigParser.parse(bootstrapDcs, "bootstrap.dcs", new ArrayList<>());
            NodeIdentity id = new NodeIdentity("sim", name, tags, bootstrapDcs, boot, Optional.empty(), pg.connUrl(),
                    "http://" + name + ":8008/patroni", "test");
            agent = new HaNode(id, session, pg, this::peers, clock, s -> snapshot = s, new HaListener() {
                @Override
                public void roleChanged(Role from, Role to, String action, boolean unexpected) {
                    if (unexpected) {
                        unexpectedRoleChanges.add(at() + " " + name + ": " + from + " -> " + to + " after " + action);
                    }
                }
            });
            agent.setCallbacks((action, role) -> callbacks.add(action + " " + role));
            session.watch(() -> {
                if (agent != null) {
                    nextRunAt = Math.min(nextRunAt, clock.nanoTime());
                }
            });
            nextRunAt = clock.nanoTime();
            events.add(at() + " start agent " + name);
        }

        /** kill -9 of the agent alone: PostgreSQL keeps running, the lease runs out. */
        void killAgent() {
            agent = null;
            snapshot = null;
        }

        /** The whole machine dies: agent and postmaster. */
        void crash() {
            killAgent();
            pg.crash();
            events.add(at() + " crash " + name);
        }

        /** SIGTERM: clean shutdown sequence, then the process is gone. */
        void stopAgent() {
            if (agent != null) {
                agent.shutdown();
                events.add(at() + " clean stop " + name);
            }
            killAgent();
        }

        private List<PeerStatus> peers(List<Member> members) {
            List<PeerStatus> out = new ArrayList<>();
            for (Member m : members) {
                SimNode n = nodes.get(m.name());
                if (n == null || n.snapshot == null || !n.agentAlive()) {
                    out.add(PeerStatus.unreachable(m.name()));
                    continue;
                }
                var s = n.snapshot.pg();
                out.add(new PeerStatus(m.name(), true, s.isRunning(), s.inRecovery(), s.walPosition(), s.timeline(),
                        io.pgkeel.common.cluster.Tags.nofailover(n.tags),
                        io.pgkeel.common.cluster.Tags.failoverPriority(n.tags), s.replicationState()));
            }
            return out;
        }
    }

    SimCluster(String... names) {
        for (String n : names) {
            nodes.put(n, new SimNode(n));
        }
    }

    SimNode node(String name) {
        return nodes.get(name);
    }

    void startAll() {
        nodes.values().forEach(SimNode::startAgent);
    }

    /** Advances simulated time by {@code d}, running everything that falls due. */
    void run(Duration d) {
        long end = clock.nanoTime() + d.toNanos();
        while (clock.nanoTime() - end < 0) {
            long next = Math.min(end, clock.nanoTime() + STEP);
            for (SimNode n : nodes.values()) {
                if (n.agentAlive()) {
                    next = Math.min(next, Math.max(clock.nanoTime(), n.nextRunAt));
                    long fence = n.agent.fenceDeadline().orElse(Long.MAX_VALUE);
                    if (fence != Long.MAX_VALUE) {
                        next = Math.min(next, Math.max(clock.nanoTime(), fence));
                    }
                }
            }
            clock.advanceTo(next);
            dcs.tick();
            for (SimNode n : nodes.values()) {
                if (n.agentAlive() && n.agent.checkFence()) {
                    events.add(at() + " fence fired on " + n.name);
                }
            }
            checkSafety();
            for (SimNode n : nodes.values()) {
                if (n.agentAlive() && n.nextRunAt - clock.nanoTime() <= 0) {
                    long wait = n.agent.runCycle();
                    n.nextRunAt = clock.nanoTime() + Math.max(wait, TimeUnit.MILLISECONDS.toNanos(10));
                    clock.advance(Duration.ofMillis(5));
                    checkSafety();
                }
            }
            network.replicate();
            writeSomething();
            checkSafety();
        }
    }

    /** A client writes a little WAL to whoever takes writes. */
    private void writeSomething() {
        for (SimNode n : nodes.values()) {
            if (n.pg.write(16)) {
                ackedWal = n.pg.wal();
                ackedTimeline = n.pg.timeline();
            }
        }
    }

    /** The last acknowledged write is in the history of the node that takes writes now. */
    boolean primaryHasTheLastAcknowledgedWrite() {
        List<SimNode> primaries = writablePrimaries();
        if (primaries.size() != 1) {
            return false;
        }
        FakePostgres p = primaries.get(0).pg;
        if (p.timeline() == ackedTimeline) {
            return p.wal() >= ackedWal;
        }
        return p.timelineHistory(p.timeline()).stream()
                .anyMatch(s -> s.parentTimeline() == ackedTimeline && s.switchLsn() >= ackedWal);
    }

    /** An operator's request through etcd, as patronictl's fallback writes it. */
    void requestSwitchover(String leader, String candidate) {
        dcs.session("operator").writeFailover(leader, candidate, null, -1);
        events.add(at() + " switchover " + leader + " -> " + candidate);
    }

    private void checkSafety() {
        if (!unexpectedRoleChanges.isEmpty()) {
            throw new AssertionError("role changes the transition table does not list: " + unexpectedRoleChanges
                    + "\nevents:\n" + String.join("\n", events.subList(Math.max(0, events.size() - 30), events.size())));
        }
        List<String> writable = nodes.values().stream().filter(n -> n.pg.isWritablePrimary()).map(n -> n.name).toList();
        maxWritablePrimaries = Math.max(maxWritablePrimaries, writable.size());
        if (writable.size() > 1) {
            throw new AssertionError("split brain at " + at() + ": " + writable + " both take writes; "
                    + nodes.values().stream().map(n -> n.pg.toString()).toList() + "\nevents:\n"
                    + String.join("\n", events.subList(Math.max(0, events.size() - 30), events.size())));
        }
    }

    int maxWritablePrimaries() {
        return maxWritablePrimaries;
    }

    Optional<String> leaderKey() {
        return dcs.get("leader");
    }

    List<SimNode> writablePrimaries() {
        return nodes.values().stream().filter(n -> n.pg.isWritablePrimary()).toList();
    }

    /** One writable primary holding the key, every other node running and streaming from it. */
    boolean isConverged() {
        List<SimNode> primaries = writablePrimaries();
        if (primaries.size() != 1 || !leaderKey().equals(Optional.of(primaries.get(0).name))) {
            return false;
        }
        String leader = primaries.get(0).name;
        return nodes.values().stream().filter(n -> !n.name.equals(leader)).allMatch(n -> n.pg.isStreamingFrom(leader));
    }

    String describe() {
        return "t=" + at() + " leader=" + leaderKey().orElse("none") + " " + nodes.values().stream()
                .map(n -> n.pg + (n.agentAlive() ? "" : "(agent down)") + " last=" + (n.agent == null ? "-"
                        : n.agent.lastAction() == null ? "-" : n.agent.lastAction().reason()))
                .toList();
    }

    String at() {
        return String.format("%.2fs", (clock.nanoTime() - 1_000_000_000_000L) / 1e9);
    }
}

package io.pgkeel.testing;

import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.cluster.Tags;
import io.pgkeel.common.dcs.Dcs;
import io.pgkeel.common.peer.PeerClient;
import io.pgkeel.common.peer.PeerStatus;
import io.pgkeel.common.pg.PgStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/**
 * A simulated cluster of agents on fakes, driven by a discrete-event loop on a {@link FakeClock}: each agent cycles
 * when due or when woken by a watch event, its lease fence fires at its deadline, etcd expires leases, standbys
 * stream, and a client writes to whoever takes writes. After every event it checks that at most one PostgreSQL takes
 * writes, and any rule an agent reports broken ({@link Node#violation}). The agents themselves come from an
 * {@link AgentFactory}, so every module's tests can build clusters of the real agent.
 */
public final class SimCluster {
    private static final long STEP = TimeUnit.MILLISECONDS.toNanos(50);

    /** What the simulation needs of one agent process; the agent's own code does the rest. */
    public interface Agent {
        /** One HA cycle; returns how long (nanoseconds) until it wants the next. */
        long runCycle();

        /** Enforces the lease deadline now (the agent's fence thread); true when it stopped PostgreSQL. */
        boolean checkFence();

        /** The armed fence deadline (monotonic nanoseconds), if any. */
        OptionalLong fenceDeadline();

        /** SIGTERM: the agent's clean stop. */
        void shutdown();

        /** PostgreSQL as the agent last published it (what its REST API answers from), empty before it has. */
        Optional<PgStatus> published();

        /** The reason of the agent's last decision, for failure messages. */
        String lastReason();
    }

    /** Starts an agent process on a node. */
    @FunctionalInterface
    public interface AgentFactory {
        Agent start(Node node);
    }

    public final FakeClock clock = new FakeClock();
    public final FakeDcs dcs = new FakeDcs(clock);
    public final FakePostgres.Network network = new FakePostgres.Network();
    public final Map<String, Node> nodes = new LinkedHashMap<>();
    /** What happened, "time what", for failure messages. */
    public final List<String> events = new ArrayList<>();
    private final AgentFactory factory;
    private final List<String> violations = new ArrayList<>();
    private int maxWritablePrimaries;
    private long ackedWal;
    private int ackedTimeline;

    /** One machine: an agent process (maybe dead) and its PostgreSQL. */
    public final class Node {
        public final String name;
        public final FakePostgres pg;
        /** The agent's tags (nofailover, failover_priority, ...), set before it starts. */
        public final Map<String, Object> tags = new LinkedHashMap<>();
        /** Callbacks fired on this node, as "action role", if the agent reports them. */
        public final List<String> callbacks = new ArrayList<>();
        public Agent agent;
        private FakeDcs.Session session;
        private long nextRunAt;

        Node(String name) {
            this.name = name;
            this.pg = network.node(name);
        }

        /** This agent's etcd connection (one per agent process). */
        public Dcs session() {
            return session;
        }

        public FakeClock clock() {
            return clock;
        }

        /** How this agent asks the others for their status: their last published answer, if their agent lives. */
        public PeerClient peers() {
            return SimCluster.this::peers;
        }

        /** The agent saw one of its own rules broken: the simulation fails at the next check. */
        public void violation(String what) {
            violations.add(at() + " " + name + ": " + what);
        }

        public boolean agentAlive() {
            return agent != null;
        }

        public void startAgent() {
            pg.agentStarted();
            session = dcs.session(name);
            agent = factory.start(this);
            session.watch(() -> {
                if (agent != null) {
                    nextRunAt = Math.min(nextRunAt, clock.nanoTime());
                }
            });
            nextRunAt = clock.nanoTime();
            events.add(at() + " start agent " + name);
        }

        /** kill -9 of the agent alone: PostgreSQL keeps running, the lease runs out. */
        public void killAgent() {
            agent = null;
        }

        /** The whole machine dies: agent and postmaster. */
        public void crash() {
            killAgent();
            pg.crash();
            events.add(at() + " crash " + name);
        }

        /** SIGTERM: clean shutdown sequence, then the process is gone. */
        public void stopAgent() {
            if (agent != null) {
                agent.shutdown();
                events.add(at() + " clean stop " + name);
            }
            killAgent();
        }
    }

    public SimCluster(AgentFactory factory, String... names) {
        this.factory = factory;
        for (String n : names) {
            nodes.put(n, new Node(n));
        }
    }

    public Node node(String name) {
        return nodes.get(name);
    }

    public void startAll() {
        nodes.values().forEach(Node::startAgent);
    }

    private List<PeerStatus> peers(List<Member> members) {
        List<PeerStatus> out = new ArrayList<>();
        for (Member m : members) {
            Node n = nodes.get(m.name());
            Optional<PgStatus> s = n == null || !n.agentAlive() ? Optional.empty() : n.agent.published();
            if (s.isEmpty()) {
                out.add(PeerStatus.unreachable(m.name()));
                continue;
            }
            PgStatus pg = s.get();
            out.add(new PeerStatus(m.name(), true, pg.isRunning(), pg.inRecovery(), pg.walPosition(), pg.timeline(),
                    Tags.nofailover(n.tags), Tags.failoverPriority(n.tags), pg.replicationState()));
        }
        return out;
    }

    /** Advances simulated time by {@code d}, running everything that falls due. */
    public void run(Duration d) {
        long end = clock.nanoTime() + d.toNanos();
        while (clock.nanoTime() - end < 0) {
            long next = Math.min(end, clock.nanoTime() + STEP);
            for (Node n : nodes.values()) {
                if (n.agentAlive()) {
                    next = Math.min(next, Math.max(clock.nanoTime(), n.nextRunAt));
                    OptionalLong fence = n.agent.fenceDeadline();
                    if (fence.isPresent()) {
                        next = Math.min(next, Math.max(clock.nanoTime(), fence.getAsLong()));
                    }
                }
            }
            clock.advanceTo(next);
            dcs.tick();
            for (Node n : nodes.values()) {
                if (n.agentAlive() && n.agent.checkFence()) {
                    events.add(at() + " fence fired on " + n.name);
                }
            }
            checkSafety();
            for (Node n : nodes.values()) {
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
        for (Node n : nodes.values()) {
            if (n.pg.write(16)) {
                ackedWal = n.pg.wal();
                ackedTimeline = n.pg.timeline();
            }
        }
    }

    /** The last acknowledged write is in the history of the node that takes writes now. */
    public boolean primaryHasTheLastAcknowledgedWrite() {
        List<Node> primaries = writablePrimaries();
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
    public void requestSwitchover(String leader, String candidate) {
        dcs.session("operator").writeFailover(leader, candidate, null, -1);
        events.add(at() + " switchover " + leader + " -> " + candidate);
    }

    private void checkSafety() {
        List<String> writable = nodes.values().stream().filter(n -> n.pg.isWritablePrimary()).map(n -> n.name).toList();
        maxWritablePrimaries = Math.max(maxWritablePrimaries, writable.size());
        if (writable.size() > 1) {
            throw new AssertionError("split brain at " + at() + ": " + writable + " both take writes; "
                    + nodes.values().stream().map(n -> n.pg.toString()).toList() + "\nevents:\n" + lastEvents(30));
        }
        if (!violations.isEmpty()) {
            throw new AssertionError("an agent broke its own rules: " + violations + "\nevents:\n" + lastEvents(30));
        }
    }

    /** The last {@code n} events, one per line. */
    public String lastEvents(int n) {
        return String.join("\n", events.subList(Math.max(0, events.size() - n), events.size()));
    }

    public int maxWritablePrimaries() {
        return maxWritablePrimaries;
    }

    public Optional<String> leaderKey() {
        return dcs.get("leader");
    }

    public List<Node> writablePrimaries() {
        return nodes.values().stream().filter(n -> n.pg.isWritablePrimary()).toList();
    }

    /** One writable primary holding the key, every other node running and streaming from it. */
    public boolean isConverged() {
        List<Node> primaries = writablePrimaries();
        if (primaries.size() != 1 || !leaderKey().equals(Optional.of(primaries.get(0).name))) {
            return false;
        }
        String leader = primaries.get(0).name;
        return nodes.values().stream().filter(n -> !n.name.equals(leader)).allMatch(n -> n.pg.isStreamingFrom(leader));
    }

    public String describe() {
        return "t=" + at() + " leader=" + leaderKey().orElse("none") + " " + nodes.values().stream()
                .map(n -> n.pg + (n.agentAlive() ? " last=" + n.agent.lastReason() : "(agent down)"))
                .toList();
    }

    /** Simulated time since the start, for event lines: "12.35s". */
    public String at() {
        return String.format("%.2fs", (clock.nanoTime() - 1_000_000_000_000L) / 1e9);
    }
}

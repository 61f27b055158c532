package io.pgkeel.testing;

import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.cluster.Tags;
import io.pgkeel.common.dcs.Dcs;
import io.pgkeel.common.peer.FailsafeAnswer;
import io.pgkeel.common.peer.PeerClient;
import io.pgkeel.common.peer.PeerStatus;
import io.pgkeel.common.pg.PgStatus;
import java.time.Duration;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A simulated cluster of agents on fakes, driven by a discrete-event loop on a {@link FakeClock}: each agent cycles
 * when due or when woken by a watch event, its lease fence fires at its deadline, etcd expires leases, standbys
 * stream, and a client commits to whoever takes writes (one commit per step, up to {@link #MAX_IN_FLIGHT} waiting
 * for synchronous standbys at once). After every event it checks that at most one PostgreSQL takes writes, any rule
 * an agent reports broken ({@link Node#violation}) and, once {@link #requireNoAcknowledgedCommitLost} is called,
 * that every writable primary holds every commit acknowledged to the client since. The agents themselves come from
 * an {@link AgentFactory}, so every module's tests can build clusters of the real agent.
 */
public final class SimCluster {
    private static final long STEP = TimeUnit.MILLISECONDS.toNanos(50);
    /** Clients blocked in COMMIT at most: beyond that the writer waits too (a connection pool's limit). */
    public static final int MAX_IN_FLIGHT = 64;

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

        /** POST /restart: the operator asks the agent to restart PostgreSQL (as whatever it is). */
        default void requestRestart() {
            throw new UnsupportedOperationException("this agent takes no requests");
        }

        /** SIGHUP: the agent reads its configuration again ({@link Node#tags} included) before its next cycle. */
        default void reload() {
            throw new UnsupportedOperationException("this agent does not reload");
        }

        /** PostgreSQL as the agent last published it (what its REST API answers from), empty before it has. */
        Optional<PgStatus> published();

        /**
         * Its REST API's answer to a primary's {@code POST /failsafe} with {@code bodyJson}; an agent that knows no
         * failsafe refuses.
         */
        default FailsafeAnswer failsafe(String bodyJson) {
            return FailsafeAnswer.refused("HTTP 404");
        }

        /** Its REST API's {@code "pause"}: the config key it last read pauses the cluster. */
        default boolean paused() {
            return false;
        }

        /** Its REST API's {@code failsafe_mode_is_active}, as last published. */
        default boolean failsafeActive() {
            return false;
        }

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
    private final List<java.util.function.Consumer<SimCluster>> invariants = new ArrayList<>();
    /** REST requests that get no answer, "from>to": a cut (or one-way) link between two agents. */
    private final Set<String> cutLinks = new HashSet<>();
    private int maxWritablePrimaries;
    /** The writer's commits still waiting for an answer. */
    private final List<FakePostgres.Commit> inFlight = new ArrayList<>();
    private FakePostgres.Commit lastAcknowledged;
    private long acknowledgedCount;
    private long failedCount;
    private boolean lossless;
    /**
     * The acknowledged commits (since {@link #requireNoAcknowledgedCommitLost}) that no later acknowledged commit
     * implies: while nothing is lost this is the last one alone.
     */
    private final List<FakePostgres.Commit> acknowledgedFrontier = new ArrayList<>();
    /** What {@link #noteChanges} last saw, to log changes of roles, leader, sync key and synchronous_standby_names. */
    private final Map<String, String> seen = new LinkedHashMap<>();

    /** One machine: an agent process (maybe dead) and its PostgreSQL. */
    public final class Node {
        public final String name;
        public final FakePostgres pg;
        /** The agent's tags (nofailover, failover_priority, ...), set before it starts. */
        public final Map<String, Object> tags = new LinkedHashMap<>();
        /** Callbacks fired on this node, as "action role", if the agent reports them. */
        public final List<String> callbacks = new ArrayList<>();
        public Agent agent;
        /**
         * The files the agent keeps beside its data directory, by name: like the data directory they survive the
         * agent's restarts and the machine's crashes (what was written before the crash, the agent fsyncs).
         */
        public final Map<String, String> files = new HashMap<>();
        /** This machine's monotonic clock: the cluster's, unless {@link DriftClock#setRate} made it drift. */
        public final DriftClock machineClock;
        private FakeDcs.Session session;
        private long nextRunAt;
        private boolean paused;

        Node(String name) {
            this.name = name;
            this.pg = network.node(name);
            this.machineClock = new DriftClock(clock);
        }

        /** This agent's etcd connection (one per agent process). */
        public Dcs session() {
            return session;
        }

        /** The agent's clock: this machine's. */
        public io.pgkeel.common.Clock clock() {
            return machineClock;
        }

        /**
         * How this agent asks the others: {@code GET /patroni} gets their last published answer, {@code POST /failsafe}
         * their agent's answer, if their agent lives and the link from this node to theirs is not cut.
         */
        public PeerClient peers() {
            String from = name;
            return new PeerClient() {
                @Override
                public List<PeerStatus> fetch(List<Member> members) {
                    return SimCluster.this.peers(from, members);
                }

                @Override
                public FailsafeAnswer postFailsafe(String apiUrl, String bodyJson, Duration timeout) {
                    Node to = nodes.get(URI.create(apiUrl).getHost());
                    if (to == null || !to.agentAlive() || to.paused || cutLinks.contains(from + ">" + to.name)) {
                        return FailsafeAnswer.refused("no answer within " + timeout.toMillis() + " ms");
                    }
                    return to.agent.failsafe(bodyJson);
                }
            };
        }

        /** The agent saw one of its own rules broken: the simulation fails at the next check. */
        public void violation(String what) {
            violations.add(at() + " " + name + ": " + what);
        }

        public boolean agentAlive() {
            return agent != null;
        }

        /**
         * The agent process freezes (SIGSTOP, a stalled JVM): no cycles, no REST answers, but its fence guard (a
         * separate process) still stops PostgreSQL at the lease deadline.
         */
        public void pauseAgent() {
            if (agent != null && !paused) {
                paused = true;
                events.add(at() + " pause agent " + name);
            }
        }

        /** SIGCONT: the agent carries on with the memory it had. */
        public void resumeAgent() {
            if (agent != null && paused) {
                paused = false;
                nextRunAt = clock.nanoTime();
                events.add(at() + " resume agent " + name);
            }
        }

        /** The agent reloads its configuration, with {@link #tags} as they are now (nosync, say). */
        public void reloadAgent() {
            if (agent != null) {
                agent.reload();
                events.add(at() + " reload " + name + " tags " + tags);
            }
        }

        public boolean agentPaused() {
            return agent != null && paused;
        }

        public void startAgent() {
            pg.agentStarted();
            session = dcs.session(name, machineClock);
            agent = factory.start(this);
            paused = false;
            session.watch(() -> {
                if (agent != null && !paused) {
                    nextRunAt = Math.min(nextRunAt, clock.nanoTime());
                }
            });
            nextRunAt = clock.nanoTime();
            events.add(at() + " start agent " + name);
        }

        /** kill -9 of the agent alone: PostgreSQL keeps running, the lease runs out. */
        public void killAgent() {
            agent = null;
            paused = false;
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

    /** Requests from {@code from}'s agent to {@code to}'s REST API get no answer (one way) until {@link #healLink}. */
    public void cutLink(String from, String to) {
        cutLinks.add(from + ">" + to);
        events.add(at() + " cut link " + from + " -> " + to);
    }

    /** Neither agent's requests reach the other. */
    public void cutLinks(String a, String b) {
        cutLink(a, b);
        cutLink(b, a);
    }

    public void healLink(String from, String to) {
        if (cutLinks.remove(from + ">" + to)) {
            events.add(at() + " heal link " + from + " -> " + to);
        }
    }

    public void healAllLinks() {
        List.copyOf(cutLinks).forEach(l -> healLink(l.substring(0, l.indexOf('>')), l.substring(l.indexOf('>') + 1)));
    }

    private List<PeerStatus> peers(String from, List<Member> members) {
        List<PeerStatus> out = new ArrayList<>();
        for (Member m : members) {
            Node n = nodes.get(m.name());
            Optional<PgStatus> s = n == null || !n.agentAlive() || n.paused || cutLinks.contains(from + ">" + n.name)
                    ? Optional.empty() : n.agent.published();
            if (s.isEmpty()) {
                out.add(PeerStatus.unreachable(m.name()));
                continue;
            }
            PgStatus pg = s.get();
            out.add(new PeerStatus(m.name(), true, pg.isRunning(), pg.inRecovery(), pg.walPosition(), pg.timeline(),
                    Tags.nofailover(n.tags), Tags.failoverPriority(n.tags), pg.replicationState(),
                    n.agent.failsafeActive(), n.agent.paused()));
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
                    if (!n.paused) {
                        next = Math.min(next, Math.max(clock.nanoTime(), n.nextRunAt));
                    }
                    OptionalLong fence = n.agent.fenceDeadline();
                    if (fence.isPresent()) {
                        // the deadline is on the agent's clock; its guard fires when that clock reads it
                        next = Math.min(next, Math.max(clock.nanoTime(), n.machineClock.toBase(fence.getAsLong())));
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
            collectAnswers();
            checkSafety();
            for (Node n : nodes.values()) {
                if (n.agentAlive() && !n.paused && n.nextRunAt - clock.nanoTime() <= 0) {
                    long wait = n.machineClock.toBaseDuration(n.agent.runCycle());
                    // requests that timed out held the agent's thread for their call timeout
                    long blocked = n.session.takeBlockedNanos();
                    n.nextRunAt = clock.nanoTime() + blocked + Math.max(wait, TimeUnit.MILLISECONDS.toNanos(10));
                    clock.advance(Duration.ofMillis(5));
                    noteChanges();
                    collectAnswers();
                    checkSafety();
                }
            }
            network.replicate();
            collectAnswers();
            checkSafety();
            writeSomething();
            collectAnswers();
            checkSafety();
        }
    }

    /** A client commits a little WAL to whoever takes writes, unless too many of its commits still wait. */
    private void writeSomething() {
        if (inFlight.size() >= MAX_IN_FLIGHT) {
            return;
        }
        for (Node n : nodes.values()) {
            FakePostgres.Commit c = n.pg.commit(16);
            if (c != null) {
                inFlight.add(c);
            }
        }
    }

    /** Takes in what the writer's waiting commits were answered. */
    private void collectAnswers() {
        for (java.util.Iterator<FakePostgres.Commit> it = inFlight.iterator(); it.hasNext(); ) {
            FakePostgres.Commit c = it.next();
            switch (c.state()) {
                case ACKNOWLEDGED -> {
                    it.remove();
                    acknowledged(c);
                }
                case FAILED -> {
                    it.remove();
                    failedCount++;
                }
                default -> {
                    // still waiting
                }
            }
        }
    }

    private void acknowledged(FakePostgres.Commit c) {
        lastAcknowledged = c;
        acknowledgedCount++;
        if (lossless) {
            acknowledgedFrontier.removeIf(older -> older.isImpliedBy(c));
            acknowledgedFrontier.add(c);
        }
    }

    /**
     * From now on, after every event, every writable primary must hold every commit acknowledged to the client
     * (zero data loss under synchronous replication). A commit that is lost fails the simulation at the first
     * event that shows it, with the commit and the last events.
     */
    public void requireNoAcknowledgedCommitLost() {
        lossless = true;
        acknowledgedFrontier.clear();
        events.add(at() + " from now on no acknowledged commit may be lost");
    }

    /**
     * The commits acknowledged so far may be lost ({@code why}: an operator forced a failover to a member that may
     * lack them); those acknowledged from now on may not, if {@link #requireNoAcknowledgedCommitLost} was called.
     */
    public void forgetAcknowledgedCommits(String why) {
        if (lossless) {
            acknowledgedFrontier.clear();
            events.add(at() + " acknowledged commits so far may be lost: " + why);
        }
    }

    /** The last acknowledged write is in the history of the node that takes writes now. */
    public boolean primaryHasTheLastAcknowledgedWrite() {
        List<Node> primaries = writablePrimaries();
        if (primaries.size() != 1) {
            return false;
        }
        return lastAcknowledged == null || lastAcknowledged.isIn(primaries.get(0).pg);
    }

    /** How many of the writer's commits were acknowledged so far. */
    public long acknowledgedCommits() {
        return acknowledgedCount;
    }

    /** How many of the writer's commits got an error (their primary stopped while they waited). */
    public long failedCommits() {
        return failedCount;
    }

    /** How many of the writer's commits wait for an answer now. */
    public int commitsInFlight() {
        return inFlight.size();
    }

    /** Logs what changed since the last look: each PostgreSQL's role, the leader key, the sync key. */
    private void noteChanges() {
        note("leader", leaderKey().orElse("none"));
        note("sync", dcs.get("sync").orElse("none"));
        for (Node n : nodes.values()) {
            note(n.name, n.pg.role());
        }
    }

    private void note(String what, String now) {
        String before = seen.put(what, now);
        if (!now.equals(before)) {
            events.add(at() + " " + what + ": " + now);
        }
    }

    /** {@code member}'s requests to etcd fail until {@link #heal}. */
    public void partition(String member) {
        dcs.partition(member);
        events.add(at() + " partition " + member);
    }

    public void heal(String member) {
        dcs.heal(member);
        events.add(at() + " heal " + member);
    }

    /** An operator's request through etcd, as patronictl's fallback writes it. */
    public void requestSwitchover(String leader, String candidate) {
        dcs.session("operator").writeFailover(leader, candidate, null, -1);
        events.add(at() + " switchover " + leader + " -> " + candidate);
    }

    /**
     * A further check run after every event, with the others: it throws an {@link AssertionError} to fail the
     * simulation (the events so far are in {@link #events}).
     */
    public void addInvariant(java.util.function.Consumer<SimCluster> check) {
        invariants.add(check);
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
        // before the commit check: an invariant may declare a loss the operator asked for (forgetAcknowledgedCommits)
        for (java.util.function.Consumer<SimCluster> check : invariants) {
            check.accept(this);
        }
        if (lossless) {
            for (Node n : nodes.values()) {
                if (n.pg.isWritablePrimary()) {
                    for (FakePostgres.Commit c : acknowledgedFrontier) {
                        if (!c.isIn(n.pg)) {
                            noteChanges();
                            throw new AcknowledgedCommitLost("acknowledged commit lost at " + at() + ": " + c
                                    + " is not in the history of " + n.pg + " (switches " + n.pg.switchPoints()
                                    + "), which takes writes; " + nodes.values().stream().map(x -> x.pg.toString())
                                    .toList() + "\nevents:\n" + lastEvents(40));
                        }
                    }
                }
            }
        }
    }

    /** The invariant of {@link #requireNoAcknowledgedCommitLost} failed. */
    public static final class AcknowledgedCommitLost extends AssertionError {
        AcknowledgedCommitLost(String message) {
            super(message);
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
                .map(n -> n.pg + (n.agentPaused() ? "(agent paused)" : n.agentAlive() ? " last=" + n.agent.lastReason()
                        : "(agent down)"))
                .toList();
    }

    /** Simulated time since the start, for event lines: "12.35s". */
    public String at() {
        return String.format("%.2fs", (clock.nanoTime() - 1_000_000_000_000L) / 1e9);
    }
}

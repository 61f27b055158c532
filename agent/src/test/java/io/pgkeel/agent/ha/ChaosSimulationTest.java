package io.pgkeel.agent.ha;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import io.pgkeel.agent.ha.FaultSchedule.Fault;
import io.pgkeel.agent.ha.FaultSchedule.Kind;
import io.pgkeel.agent.ha.FaultSchedule.Menu;
import io.pgkeel.agent.ha.FaultSchedule.Mode;
import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.DynamicConfigParser;
import io.pgkeel.common.cluster.FailoverKey;
import io.pgkeel.common.cluster.Timing;
import io.pgkeel.common.dcs.DcsException;
import io.pgkeel.testing.SimCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Random fault schedules ({@link FaultSchedule}) on simulated clusters of real {@link HaNode}s, with the invariants
 * checked after every event of the simulation (not only at the end):
 * <ul>
 *   <li>at most one PostgreSQL takes writes (SimCluster's own check; the lease fence and failsafe deadline as the
 *       agents keep them);</li>
 *   <li>in synchronous and quorum modes, no commit acknowledged to the writer is missing from any writable primary
 *       ({@link SimCluster#requireNoAcknowledgedCommitLost});</li>
 *   <li>with synchronous_mode off, no promotion of a member lagging more than maximum_lag_on_failover behind the
 *       leader's last optime in etcd (at the cycle that promoted it);</li>
 *   <li>no promotion while paused, except of the candidate an operator named in the failover key;</li>
 *   <li>after the faults stop, one primary and all others streaming from it within {@link #CONVERGENCE_BOUND_SECONDS}
 *       simulated seconds;</li>
 *   <li>in blip schedules (etcd down, or every agent cut from it, for less than {@link FaultSchedule#blipLimitMillis}),
 *       the leader never changes, nobody promotes and the primary keeps taking writes.</li>
 * </ul>
 *
 * <p>{@code -Dsim.schedules=N} runs N schedules (default {@link #DEFAULT_SCHEDULES}, on all cores);
 * {@code -Dsim.seed=S} replays schedule S alone and prints its full event log. docs/chaos.md, "Simulation", has the
 * fault menu with its probabilities and the measured figures.
 */
class ChaosSimulationTest {
    static final int DEFAULT_SCHEDULES = 10_000;
    /**
     * After the faults stop (every fault undone, every agent running, pause off): simulated seconds until one primary
     * holds the key and every other member streams from it.
     */
    static final int CONVERGENCE_BOUND_SECONDS = 120;
    private static final int RETRY_TIMEOUT = 4;

    private static Level rootLevel;

    /**
     * Every cycle logs, and the faults bring errors by the thousand (a postmaster dying mid-promotion is one): the
     * schedules would spend their time printing them. The event log of a failing schedule says what happened.
     */
    @BeforeAll
    static void quietLogs() {
        rootLevel = HaSim.rootLogLevel(Level.OFF);
    }

    @AfterAll
    static void restoreLogs() {
        HaSim.rootLogLevel(rootLevel);
    }

    /** What one schedule came to. */
    record Result(long seed, List<String> events, long acknowledged, int promotions, long convergedAfterMillis,
                  Map<Menu, Integer> faults) {}

    // ---- running one schedule ------------------------------------------------------------------------------

    /** Something the schedule does later: a fault's end, a delayed crash. */
    private record Later(long atNanos, long order, String what, Runnable action) {}

    static Result run(long seed, Kind kind) {
        return run(FaultSchedule.from(seed, kind), HaPolicy::decide);
    }

    /** Runs {@code s} on agents deciding with {@code policy}; throws an AssertionError naming the seed if it fails. */
    static Result run(FaultSchedule s, Function<Observation, Action> policy) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < s.nodes(); i++) {
            names.add(s.names(i));
        }
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("ttl", s.ttl());
        settings.put("loop_wait", s.loopWait());
        settings.put("retry_timeout", RETRY_TIMEOUT);
        settings.put("maximum_lag_on_failover", s.maxLag());
        settings.put("synchronous_mode", s.mode().synchronousMode);
        settings.put("synchronous_mode_strict", s.mode().strict);
        settings.put("synchronous_node_count", s.syncNodeCount());
        settings.put("failsafe_mode", s.failsafe());
        SimCluster c = HaSim.cluster(policy, settings, names.toArray(String[]::new));
        c.events.add(s.describe());
        Runner run = new Runner(s, c, names);
        try {
            for (int i = 0; i < s.nodes(); i++) {
                c.node(names.get(i)).machineClock.setRate(s.clockRates()[i]);
            }
            c.network.limitShipping(new Random(s.seed() * 31 + 7), 48);
            c.addInvariant(new PromotionRules());
            c.startAll();
            c.run(Duration.ofSeconds(FaultSchedule.SETTLE_SECONDS));
            if (s.mode() != Mode.ASYNC) {
                c.requireNoAcknowledgedCommitLost();
            }
            if (s.kind() == Kind.BLIPS) {
                run.blips();
            } else {
                run.faults();
            }
            long converged = run.healAndConverge();
            return new Result(s.seed(), c.events, c.acknowledgedCommits(),
                    c.nodes.values().stream().mapToInt(n -> n.pg.promotions()).sum(), converged, run.counts);
        } catch (AssertionError | RuntimeException e) {
            throw new ScheduleFailed(s, c, e);
        }
    }

    /** A schedule broke an invariant (or the simulation itself failed): the seed, how to replay, the last events. */
    static final class ScheduleFailed extends AssertionError {
        final long seed;
        final List<String> events;

        ScheduleFailed(FaultSchedule s, SimCluster c, Throwable cause) {
            super("schedule seed " + s.seed() + " failed (replay: -Dsim.seed=" + s.seed() + (s.kind() == Kind.BLIPS
                    ? " -Dsim.kind=BLIPS" : "") + "): " + String.valueOf(cause.getMessage() == null ? cause
                    : cause.getMessage()).lines().findFirst().orElse("")
                    + "\n" + s.describe() + "\nlast events:\n" + c.lastEvents(40), cause);
            this.seed = s.seed();
            this.events = List.copyOf(c.events);
        }
    }

    /** Carries out one schedule's faults on its cluster, in simulated time. */
    private static final class Runner {
        private final FaultSchedule s;
        private final SimCluster c;
        private final List<String> names;
        private final PriorityQueue<Later> later = new PriorityQueue<>(
                java.util.Comparator.comparingLong(Later::atNanos).thenComparingLong(Later::order));
        private final Map<Menu, Integer> counts = new EnumMap<>(Menu.class);
        private long order;

        Runner(FaultSchedule s, SimCluster c, List<String> names) {
            this.s = s;
            this.c = c;
            this.names = names;
        }

        private long now() {
            return c.clock.nanoTime();
        }

        private void after(long millis, String what, Runnable action) {
            later.add(new Later(now() + TimeUnit.MILLISECONDS.toNanos(millis), order++, what, action));
        }

        /** Runs the simulation to {@code target}, doing what falls due on the way. */
        private void runUntil(long target) {
            while (!later.isEmpty() && later.peek().atNanos() - target <= 0) {
                Later l = later.poll();
                if (l.atNanos() - now() > 0) {
                    c.run(Duration.ofNanos(l.atNanos() - now()));
                }
                l.action().run();
            }
            if (target - now() > 0) {
                c.run(Duration.ofNanos(target - now()));
            }
        }

        void faults() {
            long start = now();
            for (Fault f : s.faults()) {
                runUntil(start + TimeUnit.MILLISECONDS.toNanos(f.atMillis()));
                counts.merge(f.what(), 1, Integer::sum);
                apply(f);
            }
            runUntil(now() + TimeUnit.SECONDS.toNanos(1));
        }

        private void apply(Fault f) {
            List<SimCluster.Node> primaries = c.writablePrimaries();
            Optional<SimCluster.Node> primary = primaries.stream().findFirst();
            SimCluster.Node n = f.onPrimary() && primary.isPresent() ? primary.get() : c.node(names.get(f.node()));
            String other = names.get((names.indexOf(n.name) + 1 + f.pick() % (names.size() - 1)) % names.size());
            long d = f.durationMillis();
            switch (f.what()) {
                case MACHINE_CRASH -> {
                    n.crash();
                    after(d, "boot " + n.name, () -> boot(n));
                }
                case AGENT_KILL -> {
                    killAgent(n);
                    after(d, "restart agent " + n.name, () -> boot(n));
                }
                case AGENT_FREEZE -> {
                    n.pauseAgent();
                    after(d, "thaw " + n.name, n::resumeAgent);
                }
                case POSTMASTER_CRASH -> {
                    if (n.pg.probe().isRunning()) {
                        n.pg.crash();
                        c.events.add(c.at() + " postmaster of " + n.name + " killed");
                    }
                }
                case POSTMASTER_CRASH_MID_PROMOTION -> {
                    boolean afterSwitch = f.pick() % 2 == 0;
                    for (SimCluster.Node x : c.nodes.values()) {
                        if (!primaries.contains(x)) {
                            x.pg.crashAtNextPromote(afterSwitch);
                        }
                    }
                    c.events.add(c.at() + " the next promotion's postmaster dies "
                            + (afterSwitch ? "after" : "before") + " the timeline switch");
                    primary.ifPresent(p -> {
                        p.crash();
                        after(d, "boot " + p.name, () -> boot(p));
                    });
                }
                case POSTMASTER_CRASH_MID_SWITCHOVER -> {
                    Optional<String> leader = c.leaderKey();
                    if (leader.isPresent()) {
                        String candidate = other.equals(leader.get()) ? null : other;
                        operator(() -> c.requestSwitchover(leader.get(), candidate));
                        String victim = f.pick() % 2 == 0 || candidate == null ? leader.get() : candidate;
                        if (f.pick() % 4 == 1 && candidate != null) {
                            c.node(candidate).pg.crashAtNextPromote(f.pick() % 8 < 4);
                        }
                        after(f.pick() % 3000, "postmaster of " + victim + " killed mid-switchover", () -> {
                            c.node(victim).pg.crash();
                            c.events.add(c.at() + " postmaster of " + victim + " killed mid-switchover");
                        });
                    }
                }
                case ETCD_DOWN -> {
                    c.dcs.setDown(true);
                    c.events.add(c.at() + " etcd down");
                    after(d, "etcd up", () -> {
                        c.dcs.setDown(false);
                        c.events.add(c.at() + " etcd up");
                    });
                }
                case ETCD_SLOW -> {
                    String who = f.pick() % 2 == 0 ? "*" : n.name;
                    c.dcs.slow(who, callTimeoutNanos());
                    c.events.add(c.at() + " etcd slower than the call timeout for " + who);
                    after(d, "etcd prompt again", () -> {
                        c.dcs.notSlow(who);
                        c.events.add(c.at() + " etcd prompt again for " + who);
                    });
                }
                case ETCD_MEMBER_LOST -> {
                    Random r = new Random(f.pick());
                    List<String> hit = new ArrayList<>();
                    for (String name : names) {
                        // one member of three: a third of the clients were connected to it
                        if (r.nextInt(3) == 0) {
                            c.dcs.failNext(name, 1, callTimeoutNanos());
                            hit.add(name);
                        }
                    }
                    boolean wasRaftLeader = r.nextInt(3) == 0;
                    c.events.add(c.at() + " etcd member lost; clients on it: " + hit
                            + (wasRaftLeader ? "; it led raft: election" : ""));
                    if (wasRaftLeader) {
                        c.dcs.setDown(true);
                        after(500 + r.nextInt(1500), "raft election over", () -> {
                            c.dcs.setDown(false);
                            c.events.add(c.at() + " etcd raft leader elected");
                        });
                    }
                }
                case AGENT_CUT_FROM_ETCD -> {
                    c.partition(n.name);
                    after(d, "heal " + n.name, () -> c.heal(n.name));
                }
                case PEER_REST_CUT -> {
                    List<String> cut = f.pick() % 2 == 0 ? List.of(other)
                            : names.stream().filter(x -> !x.equals(n.name)).toList();
                    cut.forEach(x -> c.cutLinks(n.name, x));
                    after(d, "REST heals", () -> cut.forEach(x -> {
                        c.healLink(n.name, x);
                        c.healLink(x, n.name);
                    }));
                }
                case LAG_SPIKE -> {
                    // one standby's walsender stops, or the primary's link to all of them; a quarter of the time the
                    // primary then dies 1-3 s later with its standbys behind (maximum_lag_on_failover's case)
                    List<String> frozen = f.pick() % 2 == 0 ? List.of(n.name) : names.stream()
                            .filter(x -> primary.map(p -> !p.name.equals(x)).orElse(true)).toList();
                    frozen.forEach(c.network::freezeShipping);
                    c.events.add(c.at() + " walsender to " + frozen + " stops");
                    if (f.pick() % 4 == 1 && primary.isPresent()) {
                        SimCluster.Node p = primary.get();
                        after(1000 + f.pick() % 2000, "crash " + p.name, () -> {
                            p.crash();
                            after(d, "boot " + p.name, () -> boot(p));
                        });
                    }
                    after(d, "walsender to " + frozen + " resumes", () -> {
                        frozen.forEach(c.network::thawShipping);
                        c.events.add(c.at() + " walsender to " + frozen + " resumes");
                    });
                }
                case SWITCHOVER -> c.leaderKey().ifPresent(l -> {
                    String candidate = f.pick() % 2 == 0 || other.equals(l) ? null : other;
                    operator(() -> c.requestSwitchover(l, candidate));
                });
                case FAILOVER -> operator(() -> {
                    c.dcs.session("operator").writeFailover(null, other, null, -1);
                    c.events.add(c.at() + " failover to " + other);
                });
                case CONFIG_TTL -> changeConfig(Map.of("ttl", FaultSchedule.TTLS[f.pick() % FaultSchedule.TTLS.length]));
                case CONFIG_LOOP_WAIT -> changeConfig(Map.of("loop_wait",
                        FaultSchedule.LOOP_WAITS[f.pick() % FaultSchedule.LOOP_WAITS.length]));
                case CONFIG_SYNC_MODE -> {
                    if (s.mode() == Mode.ASYNC) {
                        // an asynchronous schedule does not promise zero loss, so it stays asynchronous
                        changeConfig(Map.of("synchronous_mode", "off"));
                    } else {
                        Mode m = List.of(Mode.SYNC, Mode.STRICT, Mode.QUORUM).get(f.pick() % 3);
                        changeConfig(Map.of("synchronous_mode", m.synchronousMode, "synchronous_mode_strict", m.strict));
                    }
                }
                case CONFIG_SYNC_NODE_COUNT -> changeConfig(Map.of("synchronous_node_count",
                        1 + f.pick() % Math.min(3, names.size() - 1)));
                case CONFIG_PAUSE -> {
                    changeConfig(Map.of("pause", true));
                    after(d, "resume", () -> changeConfig(Map.of("pause", false)));
                }
                case QUIET -> {
                    // nothing
                }
                default -> throw new AssertionError("unhandled fault " + f.what());
            }
        }

        /** kill -9 of the agent: while armed (a primary, not paused) its fence guard stops PostgreSQL at once. */
        private void killAgent(SimCluster.Node n) {
            if (!n.agentAlive()) {
                return;
            }
            boolean armed = n.agent.fenceDeadline().isPresent();
            n.killAgent();
            if (armed) {
                n.pg.crash();
            }
            c.events.add(c.at() + " agent of " + n.name + " killed" + (armed ? ", its guard stopped postgres" : ""));
        }

        private void boot(SimCluster.Node n) {
            if (!n.agentAlive()) {
                n.startAgent();
            }
        }

        /** The call timeout the agents use now (their etcd requests give up after it). */
        private long callTimeoutNanos() {
            int ttl = Optional.ofNullable(c.dcs.snapshot().config().orElse(null)).map(DynamicConfig::ttl)
                    .orElse(s.ttl());
            return TimeUnit.MILLISECONDS.toNanos(Timing.callTimeoutMillis(ttl, RETRY_TIMEOUT));
        }

        private void operator(Runnable request) {
            try {
                request.run();
            } catch (DcsException e) {
                c.events.add(c.at() + " operator request failed: " + e.getMessage());
            }
        }

        private void changeConfig(Map<String, Object> changes) {
            try {
                var operator = c.dcs.session("operator");
                var config = operator.read().config().orElseThrow();
                Map<String, Object> raw = new LinkedHashMap<>(config.raw());
                raw.putAll(changes);
                boolean written = operator.writeConfig(raw, config.modRevision());
                c.events.add(c.at() + " config " + changes + (written ? "" : " (lost a race)"));
            } catch (DcsException e) {
                c.events.add(c.at() + " config " + changes + " failed: " + e.getMessage());
            }
        }

        /** Short etcd blips only; the leader must ride every one of them out. */
        void blips() {
            List<SimCluster.Node> primaries = c.writablePrimaries();
            String leader = c.leaderKey().orElse(null);
            if (primaries.size() != 1 || !primaries.get(0).name.equals(leader)) {
                throw new AssertionError("no leader formed in " + FaultSchedule.SETTLE_SECONDS + " s: " + c.describe());
            }
            int promotions = c.nodes.values().stream().mapToInt(x -> x.pg.promotions()).sum();
            c.addInvariant(sim -> {
                String now = sim.dcs.snapshot().leader().map(l -> l.name()).orElse("none");
                int p = sim.nodes.values().stream().mapToInt(x -> x.pg.promotions()).sum();
                if (!leader.equals(now) || p != promotions || !sim.node(leader).pg.isWritablePrimary()) {
                    throw new AssertionError("needless failover at " + sim.at() + " after an etcd blip shorter than "
                            + FaultSchedule.blipLimitMillis(s.ttl(), s.loopWait()) + " ms: leader " + leader
                            + " -> " + now + ", promotions " + promotions + " -> " + p + "; " + sim.describe());
                }
            });
            long start = now();
            for (Fault f : s.faults()) {
                runUntil(start + TimeUnit.MILLISECONDS.toNanos(f.atMillis()));
                counts.merge(f.what(), 1, Integer::sum);
                if (f.what() == Menu.ETCD_DOWN) {
                    c.dcs.setDown(true);
                    c.events.add(c.at() + " etcd down for " + f.durationMillis() + " ms");
                    after(f.durationMillis(), "etcd up", () -> {
                        c.dcs.setDown(false);
                        c.events.add(c.at() + " etcd up");
                    });
                } else {
                    // etcd runs on (its lessor too) but no agent reaches it
                    names.forEach(c::partition);
                    after(f.durationMillis(), "agents reach etcd again", () -> names.forEach(c::heal));
                }
            }
            runUntil(now() + TimeUnit.SECONDS.toNanos(s.ttl()));
        }

        /**
         * The faults stop: every pending end of a fault happens now, every agent runs, pause is off. Returns how
         * many simulated milliseconds the cluster took to converge; fails past {@link #CONVERGENCE_BOUND_SECONDS}.
         */
        long healAndConverge() {
            while (!later.isEmpty()) {
                later.poll().action().run();
            }
            c.dcs.setDown(false);
            c.dcs.answerPromptly();
            c.healAllLinks();
            for (String name : names) {
                c.dcs.heal(name);
                c.network.thawShipping(name);
                SimCluster.Node n = c.node(name);
                n.resumeAgent();
                boot(n);
            }
            if (c.dcs.snapshot().config().map(DynamicConfig::pause).orElse(false)) {
                changeConfig(Map.of("pause", false));
            }
            c.events.add(c.at() + " faults stop");
            long stopped = now();
            for (int second = 0; second < CONVERGENCE_BOUND_SECONDS; second++) {
                c.run(Duration.ofSeconds(1));
                if (c.isConverged()) {
                    return TimeUnit.NANOSECONDS.toMillis(now() - stopped);
                }
            }
            throw new AssertionError("not converged " + CONVERGENCE_BOUND_SECONDS + " s after the faults stopped: "
                    + c.describe() + "; timeline switches " + c.nodes.values().stream()
                    .map(n -> n.name + n.pg.switchPoints()).toList() + ", sync key " + c.dcs.get("sync").orElse("none"));
        }
    }

    /**
     * The promotion rules, checked at every event: a node whose promotion count rose since the last check was
     * promoted by the cycle in between, so the cluster as etcd held it at the last check is what it decided on.
     */
    static final class PromotionRules implements java.util.function.Consumer<SimCluster> {
        private final Map<String, Integer> promotions = new LinkedHashMap<>();
        private ClusterView before;
        private long beforeRevision = -1;
        /**
         * The candidate a failover key names (a switchover's or a manual failover's), from when the key is seen until
         * someone else holds the leader key: the key is cleared when the candidate takes the leader key, and its
         * promotion may come cycles later (its postmaster died mid-promotion, say). {@link #manualFailoverTo} is the
         * same for a key with no leader (an operator's manual failover).
         */
        private String namedCandidate;
        private String manualFailoverTo;
        /**
         * The member that took the leader key while a manual failover's key named it, while it holds the key: its
         * promotion is that failover's even after a later key (a switchover asked from it) replaced the failover key
         * before its promotion completed (seed 867550: its postmaster died mid-promotion and was started again as the
         * key holder).
         */
        private String manualFailoverLeader;

        @Override
        public void accept(SimCluster c) {
            for (SimCluster.Node n : c.nodes.values()) {
                int p = n.pg.promotions();
                Integer seen = promotions.put(n.name, p);
                if (seen != null && p > seen && before != null) {
                    check(c, n);
                }
            }
            long revision = c.dcs.revision();
            if (revision != beforeRevision) {
                before = c.dcs.snapshot();
                beforeRevision = revision;
                Optional<FailoverKey> key = before.failover().filter(f -> f.scheduledAt() == null
                        && f.member() != null && !f.member().isEmpty());
                if (key.isPresent()) {
                    namedCandidate = key.get().member();
                    boolean manual = key.get().leader() == null || key.get().leader().isEmpty();
                    manualFailoverTo = manual ? namedCandidate : null;
                } else if (before.leader().filter(l -> !l.name().equals(namedCandidate)).isPresent()) {
                    namedCandidate = null;
                    manualFailoverTo = null;
                }
                String holder = before.leader().map(l -> l.name()).orElse(null);
                if (holder != null && holder.equals(manualFailoverTo)) {
                    manualFailoverLeader = holder;
                } else if (holder == null || !holder.equals(manualFailoverLeader)) {
                    manualFailoverLeader = null;
                }
            }
        }

        private void check(SimCluster c, SimCluster.Node n) {
            boolean named = n.name.equals(namedCandidate);
            if (n.name.equals(manualFailoverTo) || n.name.equals(manualFailoverLeader)) {
                // an operator's manual failover names its candidate: Patroni and pgkeel promote it whatever its lag
                // or synchronous state (docs/decisions.md; ctl asks first), in pause too; the loss is the operator's
                c.forgetAcknowledgedCommits("manual failover to " + n.name);
            }
            Optional<DynamicConfig> config = before.config();
            if (config.map(DynamicConfig::pause).orElse(false) && !named) {
                throw new AssertionError("promotion while paused at " + c.at() + ": " + n.name
                        + " promoted, and no failover key named it; " + c.describe());
            }
            // a candidate a failover key names is not weighed for lag once the leader is gone (Patroni's
            // manual_failover_process_no_leader, and pgkeel's Switchovers.withoutLeader)
            if (!named && config.isPresent() && !config.get().sync().mode().isOn()
                    && before.lastLeaderLsn().isPresent()) {
                List<String> switches = n.pg.switchPoints();
                String last = switches.get(switches.size() - 1);
                long at = Long.parseLong(last.substring(0, last.indexOf('#')));
                long lag = before.lastLeaderLsn().get() - at;
                if (lag > config.get().maximumLagOnFailover()) {
                    throw new AssertionError("promotion past maximum_lag_on_failover at " + c.at() + ": " + n.name
                            + " promoted at " + at + ", " + lag + " bytes behind the leader's last optime "
                            + before.lastLeaderLsn().get() + " (maximum_lag_on_failover "
                            + config.get().maximumLagOnFailover() + "); " + c.describe());
                }
            }
        }
    }

    // ---- what the schedules found ----------------------------------------------------------------------------

    /**
     * Seed 1832 (quorum mode, 5 nodes): the walsenders to every standby stop, the primary a dies with WAL nobody
     * acknowledged, c is promoted (timeline 2) and then hands over to b in a switchover, writing the sync key with b as
     * its leader. a comes back as a standby still on timeline 1, ahead by LSN of everyone on timeline 2 (its WAL past
     * the fork was never acknowledged). b refused to promote because "a is ahead" (the sync key's leader needs no
     * votes unless someone is ahead), d and e deferred to a ("member a is ahead of me"), and a got no votes on its
     * abandoned timeline: no primary, ever. A member on a lower timeline than mine that is ahead by LSN has diverged
     * past my timeline's fork: its extra WAL is not in the cluster's history, so it no longer counts as ahead.
     * The seed's meaning depends on {@link FaultSchedule}'s draws; the regression is the scenario it describes.
     */
    @Test
    void aFormerPrimaryOnAnAbandonedTimelineDoesNotBlockEveryoneElse() {
        Result r = run(1832, Kind.FULL);
        assertThat(r.convergedAfterMillis()).isLessThanOrEqualTo(TimeUnit.SECONDS.toMillis(CONVERGENCE_BOUND_SECONDS));
    }

    /**
     * Two clusters of the 1,000,000-schedule soak that never had a primary again: a failover key's candidate with a
     * failsafe key that did not name it asked nobody, so never heard the members that key names (256500; also 319205,
     * 608432, 932801); a former leader that handed the key over waited for a sync standby lagging past
     * maximum_lag_on_failover, which refuses to race (396832). The seeds' meaning depends on FaultSchedule's draws.
     */
    @ParameterizedTest(name = "seed {0}")
    @org.junit.jupiter.params.provider.ValueSource(longs = {256500, 396832})
    void soakClustersThatNeverHadAPrimaryAgainConverge(long seed) {
        Result r = run(seed, Kind.FULL);
        assertThat(r.convergedAfterMillis()).isLessThanOrEqualTo(TimeUnit.SECONDS.toMillis(CONVERGENCE_BOUND_SECONDS));
    }

    /**
     * Seed 867550 of the 1,000,000-schedule soak (strict synchronous mode): an operator's failover to b, which had been
     * down and is out of the sync key; b takes the leader key, its postmaster dies mid-promotion, and a switchover key
     * from b replaces the failover key before b, still the key holder, completes that promotion. Its loss is the
     * manual failover's (the operator's word), which {@link PromotionRules} must still see as such though the failover
     * key is gone by then. The seed's meaning depends on FaultSchedule's draws.
     */
    @Test
    void aManualFailoverPromotionCompletedAfterALaterSwitchoverKeyKeepsItsExemption() {
        Result r = run(867550, Kind.FULL);
        assertThat(r.events()).anyMatch(e -> e.endsWith("acknowledged commits so far may be lost: manual failover to b"));
        assertThat(r.convergedAfterMillis()).isLessThanOrEqualTo(TimeUnit.SECONDS.toMillis(CONVERGENCE_BOUND_SECONDS));
    }

    // ---- many schedules ------------------------------------------------------------------------------------

    static List<Long> seeds(int defaultCount) {
        String one = System.getProperty("sim.seed");
        if (one != null) {
            return java.util.Arrays.stream(one.split(",")).map(String::trim).map(Long::parseLong).toList();
        }
        int n = Integer.getInteger("sim.schedules", defaultCount);
        List<Long> out = new ArrayList<>(n);
        for (long i = 1; i <= n; i++) {
            out.add(i);
        }
        return out;
    }

    /** What a batch of schedules came to. */
    record Summary(int schedules, List<ScheduleFailed> failures, long acknowledged, long promotions,
                   long maxConvergedMillis, Map<Menu, Long> faults, double seconds) {}

    /** Schedules in flight at once: enough to keep every core busy, few enough to hold their results. */
    private static final int BATCH = 2_000;

    /**
     * Runs the schedules of these seeds on all cores, a batch at a time (a million schedules' event logs would not
     * fit in memory: only failures keep theirs); every failure is kept. With {@code stopAtFirst}, schedules after a
     * failing one are skipped (the count of schedules run is then the position of the first failure).
     */
    static Summary runAll(List<Long> seeds, Kind kind, Function<Observation, Action> policy, boolean stopAtFirst)
            throws Exception {
        long began = System.nanoTime();
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "chaos-sim");
            t.setDaemon(true);
            return t;
        });
        java.util.concurrent.atomic.AtomicLong firstFailingIndex = new java.util.concurrent.atomic.AtomicLong(
                Long.MAX_VALUE);
        List<ScheduleFailed> failures = new ArrayList<>();
        long acknowledged = 0;
        long promotions = 0;
        long maxConverged = 0;
        Map<Menu, Long> faults = new EnumMap<>(Menu.class);
        int ran = 0;
        try {
            for (int from = 0; from < seeds.size() && !(stopAtFirst && !failures.isEmpty()); from += BATCH) {
                List<Future<Object>> futures = new ArrayList<>();
                for (int i = from; i < Math.min(seeds.size(), from + BATCH); i++) {
                    long seed = seeds.get(i);
                    long index = i;
                    futures.add(pool.submit(() -> {
                        if (stopAtFirst && index > firstFailingIndex.get()) {
                            return null;
                        }
                        try {
                            Result r = run(FaultSchedule.from(seed, kind), policy);
                            return new Result(r.seed(), List.of(), r.acknowledged(), r.promotions(),
                                    r.convergedAfterMillis(), r.faults());
                        } catch (ScheduleFailed e) {
                            firstFailingIndex.accumulateAndGet(index, Math::min);
                            return e;
                        }
                    }));
                }
                for (int i = 0; i < futures.size(); i++) {
                    Object o = futures.get(i).get();
                    if (stopAtFirst && from + i > firstFailingIndex.get()) {
                        continue;
                    }
                    if (o instanceof ScheduleFailed f) {
                        failures.add(f);
                    } else if (o instanceof Result r) {
                        acknowledged += r.acknowledged();
                        promotions += r.promotions();
                        maxConverged = Math.max(maxConverged, r.convergedAfterMillis());
                        r.faults().forEach((m, k) -> faults.merge(m, (long) k, Long::sum));
                    }
                    if (o != null) {
                        ran++;
                    }
                }
            }
            return new Summary(ran, failures, acknowledged, promotions, maxConverged, faults,
                    (System.nanoTime() - began) / 1e9);
        } finally {
            pool.shutdownNow();
        }
    }

    /** The default run: {@link #DEFAULT_SCHEDULES} full schedules (and blip schedules, one in ten), all green. */
    @Test
    void randomFaultSchedulesKeepEveryInvariant() throws Exception {
        boolean replay = System.getProperty("sim.seed") != null;
        Kind only = Optional.ofNullable(System.getProperty("sim.kind")).map(Kind::valueOf).orElse(null);
        List<Long> seeds = seeds(DEFAULT_SCHEDULES);
        for (Kind kind : Kind.values()) {
            if (only != null && kind != only || replay && only == null && kind == Kind.BLIPS) {
                continue;
            }
            List<Long> these = kind == Kind.FULL || replay ? seeds : seeds.subList(0, Math.max(1, seeds.size() / 10));
            if (replay) {
                ScheduleFailed first = null;
                for (long seed : these) {
                    try {
                        Result r = run(seed, kind);
                        System.out.println(String.join("\n", r.events()));
                        System.out.println("converged " + r.convergedAfterMillis() + " ms after the faults stopped");
                    } catch (ScheduleFailed e) {
                        // every seed of the list is replayed; the first failure fails the test
                        System.out.println(String.join("\n", e.events));
                        System.out.println(e.getMessage().lines().findFirst().orElse(""));
                        first = first == null ? e : first;
                    }
                }
                if (first != null) {
                    throw first;
                }
                continue;
            }
            Summary s = runAll(these, kind, HaPolicy::decide, false);
            System.out.printf(java.util.Locale.ROOT, "chaos simulation %s: %d schedules in %.1f s (%.0f/s), %d failed,"
                    + " %d commits acknowledged, %d promotions, slowest convergence %.1f s, faults %s%n", kind,
                    s.schedules(), s.seconds(), s.schedules() / s.seconds(), s.failures().size(), s.acknowledged(),
                    s.promotions(), s.maxConvergedMillis() / 1000.0, s.faults());
            s.failures().stream().limit(20).forEach(f -> System.out.println(f.getMessage().lines().findFirst()
                    .orElse("")));
            if (!s.failures().isEmpty()) {
                throw new AssertionError(s.failures().size() + " of " + s.schedules() + " schedules failed, seeds "
                        + s.failures().stream().map(f -> f.seed).limit(50).toList() + "; the first: "
                        + s.failures().get(0).getMessage(), s.failures().get(0));
            }
            assertThat(s.acknowledged()).as("the writer got commits through").isPositive();
            if (kind == Kind.FULL) {
                assertThat(s.promotions()).as("failovers happened").isPositive();
                assertThat(s.faults().keySet()).as("every fault of the menu was drawn")
                        .containsAll(seeds.size() >= 1000 ? List.of(Menu.values()) : List.of());
            }
        }
    }

    /** The same seed gives the same event log, event for event (the schedules may run on any thread, in any order). */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Kind.class)
    void oneSeedTwiceGivesTheSameEventLog(Kind kind) throws Exception {
        long seed = 4242;
        Result first = run(seed, kind);
        Future<Result> second;
        ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            second = other.submit(() -> run(seed, kind));
            assertThat(second.get().events()).isEqualTo(first.events());
        } finally {
            other.shutdownNow();
        }
        assertThat(first.events().size()).as("a schedule logs its events").isGreaterThan(10);
    }

    // ---- the checker is shown to work -----------------------------------------------------------------------

    /** Policies that break one rule each, on purpose. */
    enum Broken {
        /** A replica that cannot reach etcd promotes itself (no leader key, no lease). */
        PROMOTES_WITHOUT_THE_LEASE(o -> !o.dcs().isReachable() && o.pg().isRunningReplica()
                ? new Action.Promote(java.util.Set.of(), null, "BROKEN: promoting without the leader key")
                : HaPolicy.decide(o)),
        /** Weighs every member as if maximum_lag_on_failover were unlimited. */
        IGNORES_MAXIMUM_LAG_ON_FAILOVER(o -> HaPolicy.decide(withConfig(o, "maximum_lag_on_failover",
                Long.MAX_VALUE / 4))),
        /** Decides in pause as if not paused. */
        PROMOTES_WHILE_PAUSED(o -> HaPolicy.decide(withConfig(o, "pause", false)));

        final Function<Observation, Action> policy;

        Broken(Function<Observation, Action> policy) {
            this.policy = policy;
        }
    }

    /** {@code o} with one dynamic setting replaced, as if the config key said so. */
    static Observation withConfig(Observation o, String key, Object value) {
        DynamicConfig d = o.self().dynamic();
        Map<String, Object> raw = new LinkedHashMap<>(d.raw());
        raw.put(key, value);
        DynamicConfig changed = DynamicConfigParser.parse(raw, "config", new ArrayList<>()).withRevision(d.modRevision());
        NodeSettings s = o.self();
        NodeSettings self = new NodeSettings(s.name(), s.tags(), changed, s.usePgRewind(),
                s.removeDataDirectoryOnRewindFailure(), s.removeDataDirectoryOnDivergedTimelines(), s.fenceMarginNanos(),
                s.apiUrl());
        return new Observation(o.dcs(), o.pg(), o.peers(), o.receivedLsn(), self, o.nowNanos(), o.wallNow(),
                o.request(), o.memory(), o.failsafeLeader());
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Broken.class)
    void theInvariantsCatchABrokenPolicyWithinTheDefaultScheduleCount(Broken broken) throws Exception {
        Summary s = runAll(defaultSeeds(), Kind.FULL, broken.policy, true);
        assertThat(s.failures()).as(broken + " is caught").isNotEmpty();
        System.out.println(broken + ": caught after " + s.schedules() + " schedules: "
                + s.failures().get(0).getMessage().lines().findFirst().orElse(""));
    }

    /**
     * The lag rule's own check, on one scenario: asynchronous, both standbys' walsenders stopped, the primary's
     * machine dies. The real policy promotes nobody; the one that ignores maximum_lag_on_failover is caught.
     */
    @ParameterizedTest(name = "broken {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void aPromotionPastMaximumLagOnFailoverIsCaught(boolean broken) {
        Map<String, Object> settings = Map.of("maximum_lag_on_failover", 64, "synchronous_mode", "off");
        SimCluster c = HaSim.cluster(broken ? Broken.IGNORES_MAXIMUM_LAG_ON_FAILOVER.policy : HaPolicy::decide,
                settings, "a", "b", "c");
        c.addInvariant(new PromotionRules());
        c.startAll();
        c.run(Duration.ofSeconds(5));
        String primary = c.writablePrimaries().get(0).name;
        c.nodes.keySet().stream().filter(n -> !n.equals(primary)).forEach(c.network::freezeShipping);
        c.run(Duration.ofSeconds(3));
        c.node(primary).crash();
        if (!broken) {
            c.run(Duration.ofSeconds(3L * HaSim.TTL));
            assertThat(c.writablePrimaries()).as(c.describe()).isEmpty();
            return;
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> c.run(Duration.ofSeconds(3L * HaSim.TTL)))
                .hasMessageContaining("promotion past maximum_lag_on_failover");
    }

    private static List<Long> defaultSeeds() {
        List<Long> out = new ArrayList<>();
        for (long i = 1; i <= DEFAULT_SCHEDULES; i++) {
            out.add(i);
        }
        return out;
    }
}

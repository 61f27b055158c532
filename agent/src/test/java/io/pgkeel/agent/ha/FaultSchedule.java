package io.pgkeel.agent.ha;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One fault schedule, drawn entirely from a seed: a cluster (3 to 5 nodes, a replication mode, failsafe_mode on or
 * off, ttl/loop_wait/maximum_lag_on_failover, each machine's clock rate) and the faults that hit it, each at a time,
 * on a target and for a duration. The same seed gives the same schedule; what a fault does to the cluster as it is
 * then (which node is primary, say) is worked out by {@link ChaosSimulationTest} when the fault's time comes.
 *
 * @param seed          what everything here was drawn from
 * @param kind          the full fault menu, or short etcd blips only
 * @param nodes         how many nodes (3-5), named a, b, c, d, e
 * @param mode          the replication mode at start
 * @param failsafe      failsafe_mode at start
 * @param ttl           ttl at start, seconds
 * @param loopWait      loop_wait at start, seconds
 * @param maxLag        maximum_lag_on_failover at start, bytes (the writer commits 16 bytes every 50 ms)
 * @param syncNodeCount synchronous_node_count at start
 * @param clockRates    each machine's clock rate (own seconds per true second), within {@link #MAX_DRIFT} of 1
 * @param faults        the faults, in time order
 */
record FaultSchedule(long seed, Kind kind, int nodes, Mode mode, boolean failsafe, int ttl, int loopWait,
                     long maxLag, int syncNodeCount, double[] clockRates, List<Fault> faults) {

    /**
     * How far a machine's clock may run fast or slow against etcd's (and the other machines'): 5%, i.e. rates in
     * [0.95, 1.05]. The fence margin (ttl/5, within 1-5 s) covers a rate ratio up to ttl / (ttl - margin), at least
     * 1.2 for every ttl in {@link #TTLS}; 1.05 / 0.95 is 1.105. (Real monotonic clocks drift by parts per million.)
     */
    static final double MAX_DRIFT = 0.05;
    static final int[] TTLS = {10, 15, 20, 30};
    static final int[] LOOP_WAITS = {1, 2, 3};
    static final long[] MAX_LAGS = {64, 1024, 1_048_576};
    /** Simulated seconds the cluster gets to form before the first fault. */
    static final int SETTLE_SECONDS = 8;

    enum Kind { FULL, BLIPS }

    /** The replication modes a cluster starts in (config changes move it between them). */
    enum Mode {
        ASYNC("off", false), SYNC("on", false), STRICT("on", true), QUORUM("quorum", false);

        final String synchronousMode;
        final boolean strict;

        Mode(String synchronousMode, boolean strict) {
            this.synchronousMode = synchronousMode;
            this.strict = strict;
        }
    }

    /**
     * The fault menu. The weight is the fault's share of the draws: its probability is weight / {@link #TOTAL}
     * (docs/chaos.md lists them as percentages).
     */
    enum Menu {
        /** The machine dies (agent and postmaster); it boots again after the duration. */
        MACHINE_CRASH(8),
        /** kill -9 of the agent; on a primary its fence guard stops PostgreSQL at once; restarted after the duration. */
        AGENT_KILL(7),
        /** SIGSTOP of the agent (no cycles, no REST answers; its fence guard still acts), SIGCONT after the duration. */
        AGENT_FREEZE(7),
        /** kill -9 of a postmaster (the primary's, half of the time). */
        POSTMASTER_CRASH(7),
        /** The postmaster of the next standby to promote dies during the promotion; the primary's machine dies. */
        POSTMASTER_CRASH_MID_PROMOTION(5),
        /** A switchover is requested and, 0-3 s later, the old primary's or the candidate's postmaster dies. */
        POSTMASTER_CRASH_MID_SWITCHOVER(5),
        /** etcd is down (quorum lost) for the duration: leases do not expire meanwhile and get a fresh TTL after. */
        ETCD_DOWN(6),
        /** etcd answers later than the call timeout (everyone's requests, or one agent's) for the duration. */
        ETCD_SLOW(5),
        /** One etcd member of three dies: its clients' next request times out, and a raft election may follow. */
        ETCD_MEMBER_LOST(5),
        /** One agent cannot reach etcd (the others and its peers still can) for the duration. */
        AGENT_CUT_FROM_ETCD(7),
        /** REST between agents is cut (one pair both ways, or one agent from all) for the duration. */
        PEER_REST_CUT(5),
        /**
         * The walsender to a standby, or to every standby, stops for the duration (a lag spike); in a quarter of the
         * draws the primary's machine then dies 1-3 s later, its standbys behind, and boots after the duration.
         */
        LAG_SPIKE(6),
        /** An operator asks for a switchover (to a named candidate or any). */
        SWITCHOVER(5),
        /** An operator asks for a failover to a named candidate. */
        FAILOVER(3),
        /** ttl changes. */
        CONFIG_TTL(3),
        /** loop_wait changes. */
        CONFIG_LOOP_WAIT(2),
        /** synchronous_mode (and strict) change. */
        CONFIG_SYNC_MODE(3),
        /** synchronous_node_count changes. */
        CONFIG_SYNC_NODE_COUNT(2),
        /** pause: true for the duration, then false again. */
        CONFIG_PAUSE(3),
        /** Nothing happens. */
        QUIET(6);

        final int weight;

        Menu(int weight) {
            this.weight = weight;
        }

        static final int TOTAL = java.util.Arrays.stream(values()).mapToInt(m -> m.weight).sum();

        static Menu draw(Random r) {
            int x = r.nextInt(TOTAL);
            for (Menu m : values()) {
                x -= m.weight;
                if (x < 0) {
                    return m;
                }
            }
            throw new AssertionError("weights");
        }
    }

    /**
     * One fault.
     *
     * @param atMillis       simulated milliseconds after the cluster settled
     * @param what           which fault
     * @param onPrimary      aimed at whoever is primary then (else at {@code node})
     * @param node           the node (index) aimed at otherwise, or a second node
     * @param durationMillis how long it lasts, for faults that end
     * @param pick           a further random choice the fault makes (a config value, one member or all, ...)
     */
    record Fault(long atMillis, Menu what, boolean onPrimary, int node, long durationMillis, int pick) {}

    /** How many faults a full schedule has. */
    static final int FAULTS = 6;

    static FaultSchedule from(long seed, Kind kind) {
        Random r = new Random(seed);
        int nodes = 3 + r.nextInt(3);
        Mode mode = Mode.values()[r.nextInt(Mode.values().length)];
        boolean failsafe = r.nextBoolean();
        int ttl = TTLS[r.nextInt(TTLS.length)];
        int loopWait = LOOP_WAITS[r.nextInt(LOOP_WAITS.length)];
        long maxLag = MAX_LAGS[r.nextInt(MAX_LAGS.length)];
        int syncNodeCount = 1 + r.nextInt(2);
        double[] rates = new double[nodes];
        boolean drifting = kind == Kind.FULL && r.nextBoolean();
        for (int i = 0; i < nodes; i++) {
            rates[i] = drifting ? 1.0 + (r.nextDouble() * 2 - 1) * MAX_DRIFT : 1.0;
        }
        List<Fault> faults = new ArrayList<>();
        long at = 0;
        if (kind == Kind.FULL) {
            for (int i = 0; i < FAULTS; i++) {
                at += 200 + r.nextInt(4000);
                Menu what = Menu.draw(r);
                faults.add(new Fault(at, what, r.nextBoolean(), r.nextInt(nodes), 500 + r.nextInt(2 * ttl * 1000),
                        r.nextInt(1 << 16)));
            }
        } else {
            // etcd blips shorter than the leader can ride out (see blipLimitMillis), far enough apart to renew between
            long limit = blipLimitMillis(ttl, loopWait);
            for (int i = 0; i < 4; i++) {
                at += (long) loopWait * 2000 + 500 + r.nextInt(3000);
                long d = 200 + r.nextInt((int) (limit - 200));
                faults.add(new Fault(at, r.nextBoolean() ? Menu.ETCD_DOWN : Menu.AGENT_CUT_FROM_ETCD, false, 0, d, -1));
                at += d;
            }
        }
        return new FaultSchedule(seed, kind, nodes, mode, failsafe, ttl, loopWait, maxLag, syncNodeCount, rates,
                List.copyOf(faults));
    }

    /**
     * The longest etcd blip the leader must ride out without a failover: ttl - fence margin - 2 x loop_wait (its
     * last renewal before the blip may be loop_wait old, its first after the blip loop_wait late), less 100 ms.
     */
    static long blipLimitMillis(int ttl, int loopWait) {
        return ttl * 1000L - io.pgkeel.common.cluster.Timing.fenceMarginMillis(ttl) - 2000L * loopWait - 100;
    }

    String names(int i) {
        return String.valueOf((char) ('a' + i));
    }

    /** One line: the cluster and its faults, for the event log. */
    String describe() {
        StringBuilder b = new StringBuilder("schedule seed " + seed + " " + kind + ": " + nodes + " nodes, " + mode
                + ", failsafe " + failsafe + ", ttl " + ttl + ", loop_wait " + loopWait + ", maximum_lag_on_failover "
                + maxLag + ", synchronous_node_count " + syncNodeCount + ", clock rates");
        for (double rate : clockRates) {
            b.append(String.format(java.util.Locale.ROOT, " %.4f", rate));
        }
        return b.toString();
    }
}

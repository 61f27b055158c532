package io.pgkeel.agent.ha;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgkeel.testing.SimCluster;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * failsafe_mode (issue 13) on three real HaNodes in simulated time (ttl 10, loop_wait 1). The judge is the
 * simulation's checker: after every event at most one PostgreSQL takes writes. It is shown to catch deliberately
 * broken agents ({@link HaSim.Variant}), so that its silence on the real one means something.
 */
class FailsafeSimulationTest {
    private static final Duration TTL = Duration.ofSeconds(HaSim.TTL);

    private static SimCluster failsafeCluster(HaSim.Variant variant) {
        SimCluster c = HaSim.cluster(variant, Map.of("failsafe_mode", true), "a", "b", "c");
        c.startAll();
        c.run(Duration.ofSeconds(20));
        assertThat(c.isConverged()).as(c.describe()).isTrue();
        assertThat(c.dcs.get("failsafe")).as("the leader keeps the failsafe key")
                .hasValue("{a=http://a:8008/patroni, b=http://b:8008/patroni, c=http://c:8008/patroni}");
        return c;
    }

    /** A converged cluster whose primary has been cut from etcd (only) for 15 s, writing all along on failsafe. */
    private record OnFailsafe(SimCluster c, String primary, String replica) {}

    private static OnFailsafe primaryOnFailsafe() {
        SimCluster c = failsafeCluster(HaSim.Variant.REAL);
        String leader = leader(c);
        c.partition(leader);
        runWhileWritable(c, leader, Duration.ofSeconds(15));
        return new OnFailsafe(c, leader, replicas(c, leader).get(0));
    }

    private static String leader(SimCluster c) {
        return c.leaderKey().orElseThrow();
    }

    private static List<String> replicas(SimCluster c, String leader) {
        return c.nodes.keySet().stream().filter(n -> !n.equals(leader)).toList();
    }

    /** Runs {@code d} in 0.5 s steps, asserting after each that {@code name} still takes writes. */
    private static void runWhileWritable(SimCluster c, String name, Duration d) {
        for (long ms = 0; ms < d.toMillis(); ms += 500) {
            c.run(Duration.ofMillis(500));
            assertThat(c.node(name).pg.isWritablePrimary()).as(c.describe() + "\n" + c.lastEvents(20)).isTrue();
        }
    }

    private static int promotionsOf(SimCluster c, List<String> names) {
        return names.stream().mapToInt(n -> c.node(n).pg.promotions()).sum();
    }

    @Test
    void quorumLostForTwoAndAHalfTtl_thePrimaryKeepsWriting_nobodyPromotes_etcdBackOnePrimary() {
        SimCluster c = failsafeCluster(HaSim.Variant.REAL);
        String leader = leader(c);
        c.dcs.setDown(true);
        runWhileWritable(c, leader, TTL.multipliedBy(5).dividedBy(2));
        assertThat(promotionsOf(c, replicas(c, leader))).isZero();
        assertThat(c.node(leader).agent.lastReason()).isEqualTo(FailsafeRules.CONFIRMED);
        long acknowledged = c.acknowledgedCommits();
        c.dcs.setDown(false);
        c.run(Duration.ofSeconds(20));
        assertThat(c.isConverged()).as(c.describe()).isTrue();
        assertThat(leader(c)).isEqualTo(leader);
        assertThat(c.acknowledgedCommits()).isGreaterThan(acknowledged);
    }

    @Test
    void withoutFailsafeTheSameOutageStopsThePrimaryAtItsLease() {
        SimCluster c = HaSim.cluster("a", "b", "c");
        c.startAll();
        c.run(Duration.ofSeconds(20));
        String leader = leader(c);
        c.dcs.setDown(true);
        c.run(TTL);
        assertThat(c.writablePrimaries()).isEmpty();
        assertThat(c.events).anyMatch(e -> e.contains("fence fired on " + leader));
    }

    /** etcd down, and one replica cut from the primary (from the start of the outage, or 5 s into it). */
    @ParameterizedTest(name = "cut {0} s into the outage")
    @ValueSource(ints = {0, 5})
    void quorumLostAndOneReplicaUnreachable_thePrimaryStopsBeforeItsLastConfirmedDeadline(int cutAfter) {
        SimCluster c = failsafeCluster(HaSim.Variant.REAL);
        String leader = leader(c);
        String cut = replicas(c, leader).get(0);
        c.dcs.setDown(true);
        c.run(Duration.ofSeconds(cutAfter));
        c.cutLinks(leader, cut);
        long cutAt = c.clock.nanoTime();
        c.run(TTL);
        assertThat(c.node(leader).pg.isWritablePrimary()).as(c.describe()).isFalse();
        assertThat(c.events).anyMatch(e -> e.contains("fence fired on " + leader));
        assertThat(c.clock.nanoTime() - cutAt).isLessThanOrEqualTo(TTL.toNanos());
        c.dcs.setDown(false);
        c.healAllLinks();
        c.run(Duration.ofSeconds(40));
        assertThat(c.isConverged()).as(c.describe()).isTrue();
    }

    /**
     * The primary alone loses etcd; the others keep it and reach the primary: it keeps running and nobody else
     * promotes. Then one replica stops answering it: the primary fences itself, and only then does a replica take
     * over (the checker); the time between the two is the margin left.
     */
    @Test
    void primaryCutFromEtcdOnly_keepsRunningWhileEveryoneConfirms_thenFencesBeforeAReplicaTakesOver() {
        SimCluster c = failsafeCluster(HaSim.Variant.REAL);
        String leader = leader(c);
        List<String> replicas = replicas(c, leader);
        c.partition(leader);
        runWhileWritable(c, leader, TTL.multipliedBy(3));
        assertThat(c.leaderKey()).as("the leader key expired in etcd").isEmpty();
        assertThat(promotionsOf(c, replicas)).isZero();
        assertThat(c.node(replicas.get(0)).agent.lastReason()).startsWith("not racing for the leader key: primary '"
                + leader + "' runs in failsafe mode");
        c.cutLinks(leader, replicas.get(0));
        long stoppedAt = -1;
        long promotedAt = -1;
        for (int i = 0; i < 400 && promotedAt < 0; i++) {
            c.run(Duration.ofMillis(100));
            if (stoppedAt < 0 && !c.node(leader).pg.isWritablePrimary()) {
                stoppedAt = c.clock.nanoTime();
            }
            if (c.writablePrimaries().stream().anyMatch(n -> !n.name.equals(leader))) {
                promotedAt = c.clock.nanoTime();
            }
        }
        assertThat(stoppedAt).as(c.describe()).isPositive();
        assertThat(promotedAt).as(c.describe() + "\n" + c.lastEvents(30)).isPositive();
        assertThat(promotedAt - stoppedAt).as("margin between the old primary's stop and the promotion")
                .isGreaterThanOrEqualTo(Duration.ofSeconds(1).toNanos());
        c.heal(leader);
        c.healAllLinks();
        c.run(Duration.ofSeconds(40));
        assertThat(c.isConverged()).as(c.describe()).isTrue();
        assertThat(leader(c)).isNotEqualTo(leader);
    }

    /** failsafe_mode switched off while the primary is cut off: the replicas refuse, the primary fences itself. */
    @Test
    void failsafeTurnedOffWhileThePrimaryIsCutOff_itFencesAndAReplicaTakesOver() {
        OnFailsafe f = primaryOnFailsafe();
        SimCluster c = f.c();
        String leader = f.primary();
        assertThat(editConfig(c, Map.of("failsafe_mode", false))).isTrue();
        c.run(TTL.multipliedBy(3));
        assertThat(c.node(leader).pg.isWritablePrimary()).isFalse();
        assertThat(c.writablePrimaries()).hasSize(1);
        c.heal(leader);
        c.run(Duration.ofSeconds(40));
        assertThat(c.isConverged()).as(c.describe()).isTrue();
        assertThat(c.dcs.get("failsafe")).as("the new leader deletes the key with failsafe_mode off").isEmpty();
    }

    /**
     * ttl made shorter (10 -> 4 s) while the primary is cut off from etcd: the primary, which cannot read it, counts
     * its rounds with the ttl it knows; the replicas must promise at least that long, or one of them races while the
     * primary still takes writes.
     */
    @Test
    void ttlShortenedWhileThePrimaryIsCutOff_promisesLastAsLongAsThePrimaryCounts() {
        OnFailsafe f = primaryOnFailsafe();
        SimCluster c = f.c();
        String leader = f.primary();
        assertThat(editConfig(c, Map.of("ttl", 4, "loop_wait", 1, "retry_timeout", 1))).isTrue();
        c.run(Duration.ofSeconds(5));
        c.cutLinks(leader, f.replica());
        c.run(TTL.multipliedBy(3));
        assertThat(c.writablePrimaries()).hasSize(1).noneMatch(n -> n.name.equals(leader));
    }

    /**
     * A replica cut from the primary (so it no longer renews its promise) restarts its agent: it waits until the primary
     * has stopped, then one replica takes over.
     */
    @Test
    void aReplicaCutFromThePrimaryAndRestartedTakesOverOnlyAfterThePrimaryStopped() {
        replicaCutFromThePrimaryRestarts(Map.of());
    }

    /**
     * ttl shortened (10 to 4 s) while the primary is cut from etcd, then a replica cut from the primary restarts its
     * agent: the promise it gave before the restart (for the primary's ttl, 10 s) is read back from its disk and kept,
     * where waiting its own current ttl after the start (4 s) let it promote while the primary still took writes.
     */
    @Test
    void aPromiseGivenBeforeAnAgentRestartIsKeptFromDiskWhenTtlWasShortenedMeanwhile() {
        replicaCutFromThePrimaryRestarts(Map.of("ttl", 4, "loop_wait", 1, "retry_timeout", 1));
    }

    /**
     * The primary on failsafe, {@code configChange} made (if any), then one replica cut from the primary restarts its
     * agent: at most one primary throughout, and a replica takes over in the end.
     */
    private static void replicaCutFromThePrimaryRestarts(Map<String, Object> configChange) {
        OnFailsafe f = primaryOnFailsafe();
        SimCluster c = f.c();
        String leader = f.primary();
        if (!configChange.isEmpty()) {
            assertThat(editConfig(c, configChange)).isTrue();
        }
        c.run(Duration.ofSeconds(5));
        c.cutLinks(leader, f.replica());
        c.node(f.replica()).killAgent();
        c.node(f.replica()).startAgent();
        c.run(TTL.multipliedBy(3));
        assertThat(c.writablePrimaries()).hasSize(1).noneMatch(n -> n.name.equals(leader));
    }

    /**
     * A switchover right after etcd is back, to a replica whose failsafe promise still runs: the leader refuses it (it
     * clears the failover key) and keeps writing, where it used to stop and hand the key to a candidate that may not
     * promote until its promise ends (no primary meanwhile). Once the promise has ended the switchover goes through.
     */
    @Test
    void aSwitchoverToAReplicaWhosePromiseRunsIsRefusedAndThePrimaryKeepsWriting() {
        OnFailsafe f = primaryOnFailsafe();
        SimCluster c = f.c();
        c.heal(f.primary());
        c.run(Duration.ofSeconds(2));
        assertThat(leader(c)).isEqualTo(f.primary());
        c.requestSwitchover(f.primary(), f.replica());
        runWhileWritable(c, f.primary(), Duration.ofSeconds(5));
        assertThat(c.dcs.get("failover")).as("refused: the key is cleared").isEmpty();
        c.run(TTL);
        c.requestSwitchover(f.primary(), f.replica());
        c.run(Duration.ofSeconds(10));
        assertThat(leader(c)).isEqualTo(f.replica());
        assertThat(c.writablePrimaries()).hasSize(1).allMatch(n -> n.name.equals(f.replica()));
    }

    /**
     * A failsafe key write whose answer was lost lands after the leader read the key again: a new member 'd' joins,
     * the leader's write naming it times out but is held by etcd; 'd' is cut from etcd until its member key is gone,
     * so the leader reads the old key and wants nothing new; then the held write lands (the key names 'd'), the leader
     * is cut from etcd and from 'd' at once. 'd' reads a key naming it and may race; the primary must ask it (it
     * cannot, and stops at its lease's deadline), where asking only the last read let it run on failsafe beside 'd'.
     */
    @Test
    void aFailsafeKeyWriteThatLandsAfterALaterReadIsStillAsked() {
        SimCluster c = HaSim.cluster(HaSim.Variant.REAL, Map.of("failsafe_mode", true), "a", "b", "c", "d");
        List.of("a", "b", "c").forEach(n -> c.node(n).startAgent());
        c.run(Duration.ofSeconds(20));
        String leader = leader(c);
        assertThat(c.dcs.get("failsafe")).hasValue("{a=http://a:8008/patroni, b=http://b:8008/patroni,"
                + " c=http://c:8008/patroni}");
        c.dcs.holdFailsafeWrites(leader);
        c.node("d").startAgent();
        c.run(Duration.ofSeconds(15));
        assertThat(c.dcs.get("failsafe")).as("the write naming d is held").hasValue("{a=http://a:8008/patroni,"
                + " b=http://b:8008/patroni, c=http://c:8008/patroni}");
        c.partition("d");
        c.run(TTL.multipliedBy(2));
        c.dcs.landHeldFailsafeWrites();
        assertThat(c.dcs.get("failsafe")).hasValueSatisfying(k -> assertThat(k).contains("d=http://d:8008/patroni"));
        c.partition(leader);
        c.cutLinks(leader, "d");
        c.heal("d");
        c.run(TTL.multipliedBy(4));
        assertThat(c.writablePrimaries()).hasSize(1);
    }

    /** A replica's agent restarts while the primary runs on failsafe: it forgot its promise and waits one ttl. */
    @Test
    void aReplicaAgentRestartedDuringTheOutageDoesNotRaceAndThePrimaryKeepsRunning() {
        OnFailsafe f = primaryOnFailsafe();
        SimCluster c = f.c();
        String leader = f.primary();
        String restarted = f.replica();
        c.node(restarted).killAgent();
        c.node(restarted).startAgent();
        c.run(Duration.ofMillis(1500));
        // (its first cycle rewrites postgresql.conf, as after every start)
        assertThat(c.node(restarted).agent.lastReason()).as(c.describe()).startsWith("not racing for the leader key");
        runWhileWritable(c, leader, TTL.multipliedBy(2));
        assertThat(promotionsOf(c, replicas(c, leader))).isZero();
        c.heal(leader);
        c.run(Duration.ofSeconds(20));
        assertThat(c.isConverged()).as(c.describe()).isTrue();
        assertThat(leader(c)).isEqualTo(leader);
    }

    /**
     * The primary loses etcd; one replica cannot reach the primary's REST API (so it does not see it running) but
     * the primary reaches it. Real agents: that replica keeps its promise and waits. An agent that answers
     * "Accepted" without keeping the promise races: the checker must catch the second primary.
     */
    private static void oneWayCutWhilePrimaryRunsOnFailsafe(HaSim.Variant variant) {
        SimCluster c = failsafeCluster(variant);
        String leader = leader(c);
        String blind = replicas(c, leader).get(0);
        c.partition(leader);
        c.cutLink(blind, leader);
        runWhileWritable(c, leader, TTL.multipliedBy(4));
    }

    @Test
    void theCheckerCatchesAReplicaThatDoesNotKeepItsPromise() {
        oneWayCutWhilePrimaryRunsOnFailsafe(HaSim.Variant.REAL);
        assertThatThrownBy(() -> oneWayCutWhilePrimaryRunsOnFailsafe(HaSim.Variant.PROMISES_NOT_KEPT))
                .isInstanceOf(AssertionError.class).hasMessageContaining("split brain");
    }

    /** The primary loses etcd and one replica entirely; a primary that counts silence as consent stays too long. */
    private static void primaryAndOneReplicaApart(HaSim.Variant variant) {
        SimCluster c = failsafeCluster(variant);
        String leader = leader(c);
        c.partition(leader);
        c.cutLinks(leader, replicas(c, leader).get(0));
        c.run(TTL.multipliedBy(4));
        assertThat(c.writablePrimaries()).hasSize(1).noneMatch(n -> n.name.equals(leader));
    }

    @Test
    void theCheckerCatchesAPrimaryThatCountsSilenceAsConsent() {
        primaryAndOneReplicaApart(HaSim.Variant.REAL);
        assertThatThrownBy(() -> primaryAndOneReplicaApart(HaSim.Variant.SILENCE_COUNTS_AS_ACCEPTED))
                .isInstanceOf(AssertionError.class).hasMessageContaining("split brain");
    }

    static List<Long> seeds() {
        return IntStream.rangeClosed(1, Integer.getInteger("failsafe.seeds", 150)).mapToObj(i -> (long) i * 104729)
                .toList();
    }

    /**
     * Random faults with failsafe_mode on for 3 simulated minutes: quorum losses, one agent cut from etcd, REST links
     * cut (both ways or one way), replica agents restarted, crashes, failsafe_mode switched off and on. Never two
     * writable primaries; after healing, one primary and two streaming replicas.
     */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void randomFaultsWithFailsafeNeverCauseSplitBrainAndTheClusterHeals(long seed) {
        Random random = new Random(seed);
        SimCluster c = failsafeCluster(HaSim.Variant.REAL);
        List<String> names = List.copyOf(c.nodes.keySet());
        for (int round = 0; round < 36; round++) {
            SimCluster.Node n = c.node(names.get(random.nextInt(names.size())));
            String other = names.get(random.nextInt(names.size()));
            switch (random.nextInt(11)) {
                case 0 -> n.crash();
                case 1 -> {
                    if (!n.agentAlive()) {
                        n.startAgent();
                    } else {
                        n.killAgent();
                        n.startAgent();
                    }
                }
                case 2 -> c.partition(n.name);
                case 3 -> c.heal(n.name);
                case 4 -> {
                    c.dcs.setDown(true);
                    c.events.add(c.at() + " dcs down");
                    c.run(Duration.ofMillis(1000 + random.nextInt(30000)));
                    c.dcs.setDown(false);
                    c.events.add(c.at() + " dcs up");
                }
                case 5 -> {
                    if (!other.equals(n.name)) {
                        c.cutLinks(n.name, other);
                    }
                }
                case 6 -> {
                    if (!other.equals(n.name)) {
                        c.cutLink(n.name, other);
                    }
                }
                case 7 -> c.healAllLinks();
                case 8 -> setFailsafe(c, random.nextInt(3) != 0);
                case 9 -> n.pg.crash();
                default -> {
                    // quiet period
                }
            }
            c.run(Duration.ofMillis(500 + random.nextInt(8000)));
        }
        names.forEach(c.dcs::heal);
        c.healAllLinks();
        c.nodes.values().stream().filter(n -> !n.agentAlive()).forEach(SimCluster.Node::startAgent);
        c.run(Duration.ofSeconds(60));
        assertThat(c.isConverged()).as("seed " + seed + ": " + c.describe() + "\n" + c.lastEvents(30)).isTrue();
        assertThat(c.maxWritablePrimaries()).isLessThanOrEqualTo(1);
    }

    private static void setFailsafe(SimCluster c, boolean on) {
        if (!c.dcs.isDown()) {
            editConfig(c, Map.of("failsafe_mode", on));
        }
    }

    /** An operator's edit of the config key (patronictl edit-config); true when written. */
    private static boolean editConfig(SimCluster c, Map<String, Object> changes) {
        var session = c.dcs.session("operator");
        var cfg = session.read().config().orElseThrow();
        Map<String, Object> raw = new HashMap<>(cfg.raw());
        raw.putAll(changes);
        c.events.add(c.at() + " config " + changes);
        return session.writeConfig(raw, cfg.modRevision());
    }
}

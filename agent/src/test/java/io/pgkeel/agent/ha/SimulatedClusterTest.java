package io.pgkeel.agent.ha;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.testing.SimCluster;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Three real HaNodes on fakes, in simulated time: scenarios first, then random faults with many seeds. */
class SimulatedClusterTest {

    private static SimCluster healthyCluster() {
        SimCluster c = HaSim.cluster("a", "b", "c");
        c.startAll();
        c.run(Duration.ofSeconds(15));
        assertThat(c.isConverged()).as(c.describe()).isTrue();
        return c;
    }

    @Test
    void plannedSwitchoversHandOverToTheCandidateWithoutLosingAnAcknowledgedWrite() {
        SimCluster c = healthyCluster();
        for (int i = 0; i < 6; i++) {
            String leader = c.leaderKey().orElseThrow();
            String candidate = c.nodes.keySet().stream().filter(n -> !n.equals(leader)).toList().get(i % 2);
            c.requestSwitchover(leader, candidate);
            c.run(Duration.ofSeconds(4));
            assertThat(c.leaderKey()).as(c.describe()).contains(candidate);
            assertThat(c.isConverged()).as(c.describe()).isTrue();
            assertThat(c.primaryHasTheLastAcknowledgedWrite()).as(c.describe()).isTrue();
            assertThat(c.dcs.get("failover")).as("the winner clears the failover key").isEmpty();
            // a clean handover needs no pg_rewind
            assertThat(c.node(leader).pg.rewinds()).as(c.describe()).isZero();
            // the new primary keeps a slot per other member; the old one, now a replica, none (they would hold its WAL)
            assertThat(c.node(candidate).pg.probe().slots()).hasSize(2);
            assertThat(c.node(leader).pg.probe().slots()).as("slots left on the old leader").isEmpty();
        }
        assertThat(c.maxWritablePrimaries()).isEqualTo(1);
    }

    @Test
    void aDepartedMembersSlotIsDroppedAfterMemberSlotsTtlEvenAcrossARestartOfEveryAgent() {
        SimCluster c = HaSim.cluster("a", "b", "c", "d");
        c.startAll();
        c.run(Duration.ofSeconds(15));
        assertThat(c.isConverged()).as(c.describe()).isTrue();
        var operator = c.dcs.session("operator");
        var config = operator.read().config().orElseThrow();
        java.util.Map<String, Object> raw = new java.util.LinkedHashMap<>(config.raw());
        raw.put("member_slots_ttl", 60);
        assertThat(operator.writeConfig(raw, config.modRevision())).isTrue();
        String leader = c.leaderKey().orElseThrow();
        String leaving = c.nodes.keySet().stream().filter(n -> !n.equals(leader)).findFirst().orElseThrow();
        c.node(leaving).stopAgent();
        c.run(Duration.ofSeconds(30));
        assertThat(c.node(leader).pg.probe().slots()).as("kept within member_slots_ttl").contains(leaving);
        assertThat(operator.read().retainedSlots()).as("published in status").contains(leaving);
        // a restart of every agent (a rolling upgrade, say): the memory of who left is gone with them, except what
        // the status key says
        for (SimCluster.Node n : c.nodes.values()) {
            if (n.agentAlive()) {
                n.killAgent();
                n.startAgent();
            }
        }
        c.run(Duration.ofSeconds(30));
        String now = c.leaderKey().orElseThrow();
        assertThat(c.node(now).pg.probe().slots()).as("still kept: a new member_slots_ttl runs from the restart")
                .contains(leaving);
        c.run(Duration.ofSeconds(40));
        assertThat(c.nodes.values().stream().filter(n -> n.pg.probe().slots().contains(leaving)).map(n -> n.name))
                .as("dropped everywhere once member_slots_ttl has passed").isEmpty();
        assertThat(operator.read().retainedSlots()).doesNotContain(leaving);
        assertThat(c.writablePrimaries()).as(c.describe()).hasSize(1);
    }

    @Test
    void aNewTtlInTheConfigKeyMovesEveryoneOntoLeasesOfThatTtl() {
        SimCluster c = healthyCluster();
        var operator = c.dcs.session("operator");
        var config = operator.read().config().orElseThrow();
        java.util.Map<String, Object> raw = new java.util.LinkedHashMap<>(config.raw());
        raw.put("ttl", 20);
        assertThat(operator.writeConfig(raw, config.modRevision())).isTrue();
        c.run(Duration.ofSeconds(5));
        var leader = operator.read().leader().orElseThrow();
        long remaining = c.dcs.leaseExpiry(leader.leaseId()).orElseThrow() - c.clock.nanoTime();
        assertThat(remaining).as("the leader key rides on a 20 s lease").isGreaterThan(Duration.ofSeconds(15).toNanos());
        assertThat(c.isConverged()).as(c.describe()).isTrue();
        // and the longer lease is what a failover now waits for
        c.node(leader.name()).crash();
        c.run(Duration.ofSeconds(12));
        assertThat(c.leaderKey()).as("the 20 s lease has not run out yet").contains(leader.name());
        c.run(Duration.ofSeconds(15));
        assertThat(c.leaderKey()).isPresent().isNotEqualTo(java.util.Optional.of(leader.name()));
    }

    @Test
    void newPostgresqlParametersInTheConfigKeyReachEveryRunningPostgres() {
        SimCluster c = healthyCluster();
        var operator = c.dcs.session("operator");
        var config = operator.read().config().orElseThrow();
        java.util.Map<String, Object> raw = new java.util.LinkedHashMap<>(config.raw());
        raw.put("postgresql", java.util.Map.of("use_pg_rewind", true, "use_slots", true,
                "parameters", java.util.Map.of("work_mem", "16MB")));
        assertThat(operator.writeConfig(raw, config.modRevision())).isTrue();
        c.run(Duration.ofSeconds(3));
        for (SimCluster.Node n : c.nodes.values()) {
            assertThat(n.pg.parameters()).as(n.name).isEqualTo(java.util.Map.of("work_mem", "16MB"));
        }
        assertThat(c.isConverged()).as(c.describe()).isTrue();
    }

    @Test
    void callbacksFireAsPatroniFiresThem() {
        SimCluster c = healthyCluster();
        String leader = c.leaderKey().orElseThrow();
        String candidate = c.nodes.keySet().stream().filter(n -> !n.equals(leader)).findFirst().orElseThrow();
        assertThat(c.node(leader).callbacks).contains("on_start primary");
        assertThat(c.node(candidate).callbacks).last().isEqualTo("on_start replica");
        c.node(leader).callbacks.clear();
        c.node(candidate).callbacks.clear();
        c.requestSwitchover(leader, candidate);
        c.run(Duration.ofSeconds(4));
        assertThat(c.node(leader).callbacks).containsExactly("on_stop primary", "on_role_change replica");
        assertThat(c.node(candidate).callbacks).containsExactly("on_role_change primary");
    }

    @Test
    void switchoverToANofailoverMemberIsRefusedAndTheLeaderStays() {
        SimCluster c = HaSim.cluster("a", "b", "c");
        c.node("c").tags.put("nofailover", true);
        c.startAll();
        c.run(Duration.ofSeconds(15));
        String leader = c.leaderKey().orElseThrow();
        String tagged = leader.equals("c") ? "b" : "c";
        c.requestSwitchover(leader, tagged);
        c.run(Duration.ofSeconds(4));
        assertThat(c.leaderKey()).contains(leader);
        assertThat(c.dcs.get("failover")).isEmpty();
        assertThat(c.isConverged()).as(c.describe()).isTrue();
    }

    @Test
    void bootstrapsOnePrimaryAndTwoStreamingReplicas() {
        SimCluster c = healthyCluster();
        assertThat(c.dcs.get("initialize")).isPresent();
        assertThat(c.dcs.get("config")).isPresent();
        assertThat(c.writablePrimaries()).hasSize(1);
    }

    @Test
    void crashOfThePrimaryMachinePromotesAReplicaAfterTheLeaseAndTheOldOneRejoins() {
        SimCluster c = healthyCluster();
        String old = c.leaderKey().orElseThrow();
        long crashAt = c.clock.nanoTime();
        c.node(old).crash();
        c.run(Duration.ofSeconds(HaSim.TTL + 3));
        assertThat(c.writablePrimaries()).hasSize(1);
        String next = c.writablePrimaries().get(0).name;
        assertThat(next).isNotEqualTo(old);
        assertThat(c.leaderKey()).hasValue(next);
        c.node(old).startAgent();
        c.run(Duration.ofSeconds(10));
        assertThat(c.isConverged()).as(c.describe()).isTrue();
        assertThat(c.node(old).pg.rewinds()).as("the old primary went through pg_rewind").isPositive();
        assertThat(c.dcs.get("history")).as("the new leader recorded the timeline switch")
                .hasValueSatisfying(h -> assertThat(h).startsWith("[[1, ").endsWith(", " + next + "]]"));
        assertThat(c.clock.nanoTime() - crashAt).isPositive();
    }

    @Test
    void aFormerPrimaryWhosePgRewindFailsIsKeptAsItIsUnlessRemovalIsAllowed() {
        SimCluster c = healthyCluster();
        String old = c.leaderKey().orElseThrow();
        c.node(old).crash();
        c.run(Duration.ofSeconds(HaSim.TTL + 3));
        assertThat(c.writablePrimaries()).hasSize(1);
        c.node(old).pg.failNextRewind();
        c.node(old).startAgent();
        c.run(Duration.ofSeconds(10));
        assertThat(c.node(old).pg.clones()).as("Patroni's default: the data directory is kept").isZero();
        assertThat(c.node(old).pg.probe().initialized()).isTrue();
        assertThat(c.node(old).pg.probe().isRunning()).as("and not started as it is").isFalse();
        assertThat(c.node(old).agent.lastReason()).contains("pg_rewind from '").contains("failed");

        // the operator allows it: remove_data_directory_on_rewind_failure in the config key
        var operator = c.dcs.session("operator");
        var config = operator.read().config().orElseThrow();
        java.util.Map<String, Object> raw = new java.util.LinkedHashMap<>(config.raw());
        raw.put("postgresql", java.util.Map.of("use_pg_rewind", true, "use_slots", true,
                "remove_data_directory_on_rewind_failure", true));
        assertThat(operator.writeConfig(raw, config.modRevision())).isTrue();
        c.run(Duration.ofSeconds(10));
        assertThat(c.isConverged()).as(c.describe()).isTrue();
        assertThat(c.node(old).pg.clones()).as("the data directory was removed and cloned anew").isEqualTo(1);
    }

    /**
     * A switchover whose candidate's postmaster dies at any moment of the handover, in pause or not: the leader never
     * leaves the cluster without a primary of its own making. Until the key is handed over, the old leader keeps it
     * and runs as primary again; once handed over, outside pause the cluster fails over as usual. Every acknowledged
     * write survives either way.
     */
    @ParameterizedTest(name = "pause={0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void aSwitchoverWhoseCandidateDiesAtAnyStepLeavesAPrimary(boolean pause) {
        int abandoned = 0;
        int completed = 0;
        for (int killAtMs = 0; killAtMs <= 2000; killAtMs += 20) {
            SimCluster c = healthyCluster();
            if (pause) {
                var operator = c.dcs.session("operator");
                var config = operator.read().config().orElseThrow();
                java.util.Map<String, Object> raw = new java.util.LinkedHashMap<>(config.raw());
                raw.put("pause", true);
                assertThat(operator.writeConfig(raw, config.modRevision())).isTrue();
                c.run(Duration.ofSeconds(2));
            }
            String leader = c.leaderKey().orElseThrow();
            String candidate = c.nodes.keySet().stream().filter(n -> !n.equals(leader)).findFirst().orElseThrow();
            c.requestSwitchover(leader, candidate);
            c.run(Duration.ofMillis(killAtMs));
            boolean keyHandedOver = !c.leaderKey().equals(java.util.Optional.of(leader));
            c.node(candidate).pg.crash();
            c.events.add(c.at() + " postmaster of " + candidate + " killed");
            c.run(Duration.ofSeconds(20));
            String at = "killed " + killAtMs + " ms after the request: " + c.describe() + "\n" + c.lastEvents(25);
            boolean candidatePromoted = c.node(candidate).pg.promotions() > 0;
            if (!keyHandedOver && !candidatePromoted && !c.leaderKey().equals(java.util.Optional.of(candidate))) {
                abandoned++;
                assertThat(c.leaderKey()).as(at).contains(leader);
                assertThat(c.node(leader).pg.isWritablePrimary()).as(at).isTrue();
            } else {
                completed++;
            }
            if (!pause) {
                c.node(candidate).pg.crash(); // no-op if down; the agent restarts it either way
                c.run(Duration.ofSeconds(20));
                assertThat(c.isConverged()).as(at).isTrue();
            }
            if (!c.writablePrimaries().isEmpty()) {
                assertThat(c.primaryHasTheLastAcknowledgedWrite()).as(at).isTrue();
            }
            assertThat(c.maxWritablePrimaries()).isEqualTo(1);
        }
        assertThat(abandoned).as("some kills came before the handover").isPositive();
        assertThat(completed).as("some after it").isPositive();
    }

    @Test
    void primaryCutOffFromTheDcsStopsWritesBeforeItsLeaseExpiresAndAReplicaTakesOver() {
        SimCluster c = healthyCluster();
        String old = c.leaderKey().orElseThrow();
        c.dcs.partition(old);
        c.run(Duration.ofSeconds(HaSim.TTL + 3));
        assertThat(c.node(old).pg.isWritablePrimary()).isFalse();
        assertThat(c.events).anyMatch(e -> e.contains("fence fired on " + old));
        assertThat(c.writablePrimaries()).hasSize(1).noneMatch(n -> n.name.equals(old));
        c.dcs.heal(old);
        c.run(Duration.ofSeconds(10));
        assertThat(c.isConverged()).as(c.describe()).isTrue();
    }

    @Test
    void dcsDownForLongerThanTheLeaseLeavesNoWritablePrimaryAndOnePrimaryAfterwards() {
        SimCluster c = healthyCluster();
        c.dcs.setDown(true);
        c.run(Duration.ofSeconds(HaSim.TTL + 2));
        assertThat(c.writablePrimaries()).as("nobody takes writes without a confirmed lease").isEmpty();
        c.dcs.setDown(false);
        c.run(Duration.ofSeconds(HaSim.TTL + 10));
        assertThat(c.isConverged()).as(c.describe()).isTrue();
    }

    @Test
    void shortDcsBlipDoesNotDemoteThePrimary() {
        SimCluster c = healthyCluster();
        String leader = c.leaderKey().orElseThrow();
        c.dcs.setDown(true);
        c.run(Duration.ofSeconds(3));
        c.dcs.setDown(false);
        c.run(Duration.ofSeconds(3));
        assertThat(c.node(leader).pg.isWritablePrimary()).isTrue();
        assertThat(c.node(leader).pg.promotions()).isZero();
    }

    @Test
    void cleanStopOfTheLeaderHandsOverWithoutWaitingForTheLease() {
        SimCluster c = healthyCluster();
        String old = c.leaderKey().orElseThrow();
        c.node(old).stopAgent();
        c.run(Duration.ofSeconds(2));
        assertThat(c.writablePrimaries()).hasSize(1).noneMatch(n -> n.name.equals(old));
    }

    @Test
    void postmasterCrashOnThePrimaryIsRestartedInPlace() {
        SimCluster c = healthyCluster();
        String leader = c.leaderKey().orElseThrow();
        int timeline = c.node(leader).pg.timeline();
        c.node(leader).pg.crash();
        c.run(Duration.ofSeconds(3));
        assertThat(c.leaderKey()).hasValue(leader);
        assertThat(c.node(leader).pg.isWritablePrimary()).isTrue();
        assertThat(c.node(leader).pg.timeline()).isEqualTo(timeline);
    }

    @Test
    void nofailoverNodeNeverPromotes() {
        SimCluster c = HaSim.cluster("a", "b");
        c.node("b").tags.put("nofailover", true);
        c.node("a").startAgent();
        c.run(Duration.ofSeconds(5));
        c.node("b").startAgent();
        c.run(Duration.ofSeconds(10));
        assertThat(c.isConverged()).as(c.describe()).isTrue();
        c.node("a").crash();
        c.run(Duration.ofSeconds(30));
        assertThat(c.writablePrimaries()).isEmpty();
        assertThat(c.node("b").pg.promotions()).isZero();
    }

    /**
     * review14: without pg_rewind, a former primary that comes back as a standby keeps the WAL it wrote past the fork
     * on its old timeline, so its LSN is higher than the new timeline's. Left alone with a free key (the new primary
     * crashed, the other member's agent stopped) it must not promote: it lacks every commit acknowledged on the new
     * timeline. The member that has them takes over once its agent is back.
     */
    @Test
    void aFormerPrimaryPastTheEndOfItsTimelineNeverPromotesOverTheNewerTimeline() {
        SimCluster c = HaSim.cluster(java.util.Map.of("postgresql", java.util.Map.of("use_pg_rewind", false,
                "use_slots", true)), "a", "b", "c");
        c.startAll();
        c.run(Duration.ofSeconds(15));
        assertThat(c.isConverged()).as(c.describe()).isTrue();
        String old = c.leaderKey().orElseThrow();
        List<String> others = c.nodes.keySet().stream().filter(n -> !n.equals(old)).sorted().toList();
        others.forEach(c.network::freezeShipping);
        c.run(Duration.ofSeconds(2)); // the old primary acknowledges commits nobody else has
        c.node(old).crash();
        others.forEach(c.network::thawShipping);
        c.run(Duration.ofSeconds(3L * HaSim.TTL));
        String next = c.leaderKey().orElseThrow();
        String bystander = others.stream().filter(n -> !n.equals(next)).findFirst().orElseThrow();
        c.node(old).startAgent();
        c.run(Duration.ofSeconds(3L * HaSim.TTL)); // commits acknowledged on the new timeline; old cannot stream
        assertThat(c.node(old).pg.timeline()).as(c.describe()).isLessThan(c.node(next).pg.timeline());
        assertThat(c.node(old).pg.isStreamingFrom(next)).as(c.describe()).isFalse();
        int promotionsBefore = c.node(old).pg.promotions();

        c.node(bystander).stopAgent();
        c.node(next).crash();
        c.run(Duration.ofSeconds(4L * HaSim.TTL));
        assertThat(c.node(old).pg.promotions()).as(c.describe() + "\n" + c.lastEvents(20)).isEqualTo(promotionsBefore);
        assertThat(c.writablePrimaries()).isEmpty();

        c.node(bystander).startAgent();
        c.run(Duration.ofSeconds(3L * HaSim.TTL));
        assertThat(c.leaderKey()).as(c.describe()).contains(bystander);
        assertThat(c.primaryHasTheLastAcknowledgedWrite()).as(c.describe()).isTrue();
    }

    static List<Long> seeds() {
        return IntStream.rangeClosed(1, 200).mapToObj(i -> (long) i * 7919).toList();
    }

    /**
     * Random faults for 3 simulated minutes: machine crashes, postmaster crashes, clean stops, DCS partitions of
     * one node, DCS outages. Never two writable primaries at once; after healing, one primary and two streaming
     * replicas.
     */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void randomFaultsNeverCauseSplitBrainAndTheClusterHeals(long seed) {
        Random random = new Random(seed);
        SimCluster c = healthyCluster();
        List<String> names = List.copyOf(c.nodes.keySet());
        for (int round = 0; round < 36; round++) {
            SimCluster.Node n = c.node(names.get(random.nextInt(names.size())));
            switch (random.nextInt(9)) {
                case 0 -> n.crash();
                case 1 -> {
                    if (!n.agentAlive()) {
                        n.startAgent();
                    }
                }
                case 2 -> n.pg.crash();
                case 3 -> n.stopAgent();
                case 4 -> c.partition(n.name);
                case 5 -> c.heal(n.name);
                case 6 -> {
                    c.dcs.setDown(true);
                    c.events.add(c.at() + " dcs down");
                    c.run(Duration.ofMillis(1000 + random.nextInt(14000)));
                    c.dcs.setDown(false);
                    c.events.add(c.at() + " dcs up");
                }
                case 7 -> c.leaderKey().ifPresent(l -> c.requestSwitchover(l,
                        random.nextBoolean() ? null : names.get(random.nextInt(names.size()))));
                default -> {
                    // quiet period
                }
            }
            c.run(Duration.ofMillis(500 + random.nextInt(6000)));
        }
        names.forEach(c.dcs::heal);
        c.nodes.values().stream().filter(n -> !n.agentAlive()).forEach(SimCluster.Node::startAgent);
        c.run(Duration.ofSeconds(60));
        assertThat(c.isConverged()).as("seed " + seed + ": " + c.describe() + "\n" + c.lastEvents(20)).isTrue();
        assertThat(c.maxWritablePrimaries()).isLessThanOrEqualTo(1);
    }
}

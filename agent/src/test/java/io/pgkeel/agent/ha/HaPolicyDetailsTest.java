package io.pgkeel.agent.ha;

import static io.pgkeel.agent.ha.Scenario.MY_LEASE;
import static io.pgkeel.agent.ha.Scenario.OTHER_LEASE;
import static io.pgkeel.agent.ha.Scenario.me;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class HaPolicyDetailsTest {

    @Test
    void leaderCreatesTheMissingSlotsOfTheOtherMembersAndPublishesItsPosition() {
        Action a = HaPolicy.decide(me("a").primary(4242).slots("b").cluster(c -> c.leader("a", MY_LEASE)
                .members("a", "b", "Node-C.3")).observation());
        assertThat(a).isInstanceOfSatisfying(Action.LeadAsPrimary.class, lead -> {
            assertThat(lead.slotsToCreate()).containsExactly("node_c_3");
            assertThat(lead.optime()).isEqualTo(4242);
            assertThat(lead.systemIdentifierToWrite()).isNull();
            assertThat(lead.writeConfig()).isFalse();
            assertThat(lead.writeHistory()).as("timeline 1 has no history").isFalse();
        });
        Action promoted = HaPolicy.decide(me("a").primary(10).timeline(3).cluster(c -> c.leader("a", MY_LEASE)
                .members("a")).observation());
        assertThat(((Action.LeadAsPrimary) promoted).writeHistory()).as("timeline 3, empty history").isTrue();
    }

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> slotDrops() {
        return java.util.stream.Stream.of(
                slotRow("member gone longer than member_slots_ttl, its slot here -> dropped",
                        me("a").primary(1).slots("b", "c").sawMemberSlot("c", 1801), "c"),
                slotRow("member gone, but not yet for member_slots_ttl -> kept",
                        me("a").primary(1).slots("b", "c").sawMemberSlot("c", 1799)),
                slotRow("member_slots_ttl 0 (Patroni 3.0's behaviour) -> dropped as soon as the member is gone",
                        me("a").primary(1).slots("b", "c").sawMemberSlot("c", 0).memberSlotsTtl(0), "c"),
                slotRow("member still in etcd, however long ago it was last noted -> kept",
                        me("a").primary(1).slots("b", "c").sawMemberSlot("b", 5000)),
                slotRow("a slot no member of this cluster ever had (an operator's, a backup tool's) -> never dropped",
                        me("a").primary(1).slots("b", "barman").memberSlotsTtl(0)),
                slotRow("departed member whose slot is not here -> nothing to drop",
                        me("a").primary(1).slots("b").sawMemberSlot("c", 5000)),
                slotRow("a permanent slot (permanent_slots) is never dropped, even one a departed member had",
                        me("a").primary(1).slots("b", "c").sawMemberSlot("c", 5000).permanentSlots("c")),
                slotRow("pause -> nothing dropped",
                        me("a").primary(1).slots("b", "c").sawMemberSlot("c", 5000).paused()));
    }

    private static org.junit.jupiter.params.provider.Arguments slotRow(String name, Scenario s, String... dropped) {
        return org.junit.jupiter.params.provider.Arguments.of(org.junit.jupiter.api.Named.of(name, s), Set.of(dropped));
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.MethodSource("slotDrops")
    void leaderDropsOnlyTheSlotsOfMembersGoneLongerThanMemberSlotsTtl(Scenario s, Set<String> dropped) {
        Action a = HaPolicy.decide(s.cluster(c -> c.leader("a", MY_LEASE).members("a", "b")).observation());
        assertThat(a).isInstanceOfSatisfying(Action.LeadAsPrimary.class,
                lead -> assertThat(lead.slotsToDrop()).isEqualTo(dropped));
    }

    @Test
    void leaderPublishesTheSlotsItKeepsForDepartedMembers() {
        Action a = HaPolicy.decide(me("a").primary(1).slots("b", "c", "d", "barman").sawMemberSlot("b", 0)
                .sawMemberSlot("c", 100).sawMemberSlot("d", 1801).sawMemberSlot("e", 100)
                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b")).observation());
        assertThat(a).isInstanceOfSatisfying(Action.LeadAsPrimary.class, lead -> {
            assertThat(lead.slotsToDrop()).containsExactly("d");
            assertThat(lead.slotsToRetain()).as("members' slots here (c departed within member_slots_ttl), not an"
                    + " operator's").containsExactlyInAnyOrder("b", "c");
        });
    }

    @Test
    void leaderCreatesMissingPermanentSlots_onlyWithUseSlots() {
        Action a = HaPolicy.decide(me("a").primary(1).slots("b", "dr").permanentSlots("dr", "barman")
                .cluster(c -> c.leader("a", MY_LEASE).members("a", "b")).observation());
        assertThat(((Action.LeadAsPrimary) a).slotsToCreate()).containsExactly("barman");
    }

    @Test
    void aPermanentSlotNamedLikeMyOwnMemberSlotIsNeverKeptOnMe() {
        // member PG-Node.1 streams through slot pg_node_1 on the others; on PG-Node.1 it would hold WAL for ever
        Scenario self = me("PG-Node.1").primary(1).slots("b").permanentSlots("pg_node_1", "dr");
        Action lead = HaPolicy.decide(self.cluster(c -> c.leader("PG-Node.1", MY_LEASE).members("PG-Node.1", "b"))
                .observation());
        assertThat(((Action.LeadAsPrimary) lead).slotsToCreate()).containsExactly("dr");
        Action race = HaPolicy.decide(me("PG-Node.1").replica(1000).permanentSlots("pg_node_1", "dr")
                .cluster(c -> c.members("PG-Node.1")).observation());
        assertThat(((Action.AcquireLeader) race).slotsAfterPromote()).containsExactly("dr");
        Action other = HaPolicy.decide(me("b").primary(1).slots("pg_node_1").permanentSlots("pg_node_1", "dr")
                .cluster(c -> c.leader("b", MY_LEASE).members("PG-Node.1", "b")).observation());
        assertThat(((Action.LeadAsPrimary) other).slotsToCreate()).as("created on the others as usual")
                .containsExactly("dr");
        Action made = HaPolicy.decide(me("PG-Node.1").primary(1).slots("b", "pg_node_1").permanentSlots("pg_node_1")
                .cluster(c -> c.leader("PG-Node.1", MY_LEASE).members("PG-Node.1", "b")).observation());
        assertThat(((Action.LeadAsPrimary) made).slotsToDrop()).as("one made before (by an older pgkeel) goes")
                .containsExactly("pg_node_1");
        Action paused = HaPolicy.decide(me("PG-Node.1").primary(1).slots("b", "pg_node_1").permanentSlots("pg_node_1")
                .paused().cluster(c -> c.leader("PG-Node.1", MY_LEASE).members("PG-Node.1", "b")).observation());
        assertThat(((Action.LeadAsPrimary) paused).slotsToDrop()).as("in pause nothing is dropped").isEmpty();
    }

    @Test
    void leaderRewritesMissingInitializeAndConfigKeys() {
        Action a = HaPolicy.decide(me("a").primary(1).cluster(c -> c.leader("a", MY_LEASE).members("a").initialize("")
                .noConfig()).observation());
        assertThat(a).isInstanceOfSatisfying(Action.LeadAsPrimary.class, lead -> {
            assertThat(lead.systemIdentifierToWrite()).isEqualTo("42");
            assertThat(lead.writeConfig()).isTrue();
        });
    }

    @Test
    void theLeaderWritesTheStatusKeyOnlyWhenItWouldChange() {
        java.util.function.Function<Scenario, Action.LeadAsPrimary> lead = s -> (Action.LeadAsPrimary) HaPolicy.decide(
                s.cluster(c -> c.leader("a", MY_LEASE).members("a", "b")).observation());
        assertThat(lead.apply(me("a").primary(4242).slots("b")).writeStatus()).as("never written").isTrue();
        assertThat(lead.apply(me("a").primary(4242).slots("b").statusWritten(4242)).writeStatus()).as("unchanged")
                .isFalse();
        assertThat(lead.apply(me("a").primary(4243).slots("b").statusWritten(4242)).writeStatus()).as("new optime")
                .isTrue();
        assertThat(lead.apply(me("a").primary(4242).slots("b").sawMemberSlot("b", 1).statusWritten(4242))
                .writeStatus()).as("a slot to retain now").isTrue();
    }

    @Test
    void whoeverTakesTheLeaderKeyClearsTheFailoverKeyThatBroughtItThere() {
        Action race = HaPolicy.decide(me("b").replica(1000).cluster(c -> c.members("a", "b").failover("a", "b", null))
                .observation());
        assertThat(race).isInstanceOfSatisfying(Action.AcquireLeader.class,
                a -> assertThat(a.clearFailoverRevision()).isEqualTo(77));
        Action plain = HaPolicy.decide(me("b").replica(1000).cluster(c -> c.members("b")).observation());
        assertThat(((Action.AcquireLeader) plain).clearFailoverRevision()).isEqualTo(-1);
    }

    @Test
    void parametersAreAppliedExactlyAsTheConfigKeyHasThem() {
        Action a = HaPolicy.decide(me("b").replicaFollowing("a", 1).configParameters("work_mem=16MB", "max_connections=200")
                .postgresqlConfWrittenWith("work_mem=8MB").cluster(c -> c.leader("a", OTHER_LEASE).members("a", "b"))
                .observation());
        assertThat(a).isInstanceOfSatisfying(Action.ApplyParameters.class, apply -> assertThat(apply.parameters())
                .isEqualTo(java.util.Map.of("work_mem", "16MB", "max_connections", "200")));
    }

    @Test
    void theLeaseIsSafeOnlyUntilItsDeadlineMinusTheMargin() {
        LeaseStatus lease = new LeaseStatus(1, 10_000_000_000L, true);
        long margin = NodeSettings.fenceMarginFor(10);
        assertThat(margin).isEqualTo(2_000_000_000L);
        assertThat(lease.isSafeAt(7_999_999_999L, margin)).isTrue();
        assertThat(lease.isSafeAt(8_000_000_000L, margin)).isFalse();
        assertThat(LeaseStatus.none().isSafeAt(0, margin)).isFalse();
        assertThat(NodeSettings.fenceMarginFor(30)).isEqualTo(5_000_000_000L);
        assertThat(NodeSettings.fenceMarginFor(4)).isEqualTo(1_000_000_000L);
    }

    /** Stands in for the compiler's exhaustiveness check (Java 17 has no pattern switch over sealed types). */
    @Test
    void everyActionTypeIsDecidedByAtLeastOneTableRow() {
        Set<Class<?>> decided = HaPolicyTest.rows()
                .map(args -> HaPolicy.decide(((Scenario) ((org.junit.jupiter.api.Named<?>) args.get()[0]).getPayload())
                        .observation()).getClass())
                .collect(Collectors.toSet());
        assertThat(decided).containsExactlyInAnyOrderElementsOf(Arrays.asList(Action.class.getPermittedSubclasses()));
    }

    @Test
    void unlockedClusterWithMeAsTheOnlyEligibleIsHealthiestEvenWithoutPeers() {
        assertThat(HaPolicy.whyNotHealthiest(me("b").replica(5).cluster(c -> c.members("b")).observation(),
                me("b").replica(5).cluster(c -> c.members("b")).observation().dcs().cluster())).isEmpty();
    }
}

package io.pgkeel.agent.ha;

import static io.pgkeel.agent.ha.Scenario.OTHER_LEASE;
import static io.pgkeel.agent.ha.Scenario.me;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.testing.FakeClock;
import io.pgkeel.testing.FakeDcs;
import io.pgkeel.testing.FakePostgres;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The actor knows every action. Stands in for the compiler's exhaustiveness check over the sealed interface (Java 17
 * has no pattern switch): an action it did not know would end in an AssertionError, which it does not catch.
 */
class ActorTest {

    static List<Action> oneOfEach() {
        return List.of(new Action.Bootstrap("x"), new Action.AbandonBootstrap("x"), new Action.CloneFromLeader("a", "x"),
                new Action.StartPostgres(false, "a", "x"), new Action.AcquireLeader(false, Set.of(), -1, "x"),
                new Action.ReattachLeader("x"),
                new Action.LeadAsPrimary(1, Set.of(), Set.of(), Set.of(), true, null, false, false, "x"),
                new Action.Promote(Set.of(), "x"), new Action.Demote(false, "x"), new Action.Follow("a", "x"),
                new Action.Rewind("a", "x"), new Action.RemoveDataDirectory("x"),
                new Action.Switchover(List.of("a"), 1, "x"), new Action.AwaitHandover("x"),
                new Action.HandOver("a", 1, "x"), new Action.ClearFailoverKey(1, "x"), new Action.ReleaseLeader("x"),
                new Action.Restart(false, "a", "x"), new Action.Reinitialize("a", "x"),
                new Action.DropReplicaSlots(Set.of("a"), "x"), new Action.ApplyParameters(Map.of(), "x"),
                new Action.Wait("x"));
    }

    @Test
    void theSamplesHoldOneActionOfEachType() {
        assertThat(oneOfEach().stream().map(Object::getClass).toList())
                .containsExactlyInAnyOrderElementsOf(Arrays.asList(Action.class.getPermittedSubclasses()));
    }

    @Test
    void everyActionIsCarriedOutOrFailsAsAnOutcome() {
        FakeClock clock = new FakeClock();
        FakeDcs dcs = new FakeDcs(clock);
        FakePostgres.Network network = new FakePostgres.Network();
        FakePostgres pg = network.node("b");
        Actor actor = new Actor(dcs.session("b"), pg, new MemberKey(dcs.session("b")), new LeaseFence(() -> { }),
                new OperatorInbox(), clock, HaListener.NONE);
        Observation o = me("b").handingOver(0.1, 1, "a")
                .cluster(c -> c.leader("a", OTHER_LEASE).members("a", "b")).observation();
        for (Action a : oneOfEach()) {
            // fakes refuse many of these in this state: that is an Outcome too; an unknown action is not
            assertThat(actor.act(a, o, identity(), clock.nanoTime())).as(a.toString()).isNotNull();
        }
    }

    private static NodeIdentity identity() {
        return new NodeIdentity("sim", "b", Map.of(), Map.of(), io.pgkeel.common.cluster.DynamicConfig.defaults(),
                java.util.Optional.empty(), "postgres://b:5432/postgres", "http://b:8008/patroni", "test");
    }
}

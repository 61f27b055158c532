package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.function.Function;

/**
 * A DCS outage the primary cannot see through (etcd frozen, quorum lost), checked against the lease: the primary
 * stops taking writes before etcd can have expired its lease, and nobody takes writes while the outage lasts.
 */
final class DcsOutage {
    private DcsOutage() {}

    /** How the outage starts and ends (etcd frozen and thawed, two members of three frozen and thawed, ...). */
    record Fault(Runnable begin, Runnable end) {}

    /**
     * Starts {@code fault} and checks the lease bound on {@code primary} (the leader): its last accepted write
     * comes before the lease can have expired in etcd, and for {@code nobodyWritesFor} after the fault began no node
     * takes writes. Ends the fault (also on failure) before it returns. {@code what} names the fault in the output.
     */
    static void assertPrimaryStopsBeforeItsLeaseCanExpire(TestCluster cluster, AgentProcess primary, Fault fault,
                                                          Duration nobodyWritesFor, String what) {
        Sql.execute(primary.pgPort, "CREATE TABLE IF NOT EXISTS outage_check (id serial PRIMARY KEY)");
        long lease = cluster.etcd.leaseOf(cluster.key("leader"));
        assertThat(lease).as("the leader key rides on a lease").isNotZero();
        // etcd cannot expire the lease before (now + remaining): measured before asking, so the bound is safe. The
        // agent is held still meanwhile: a renewal landing between this question and the fault would move the
        // lease (and the agent's deadline) past the bound measured here
        long askedAt;
        long remaining;
        Host.signal(primary.pid(), "STOP");
        try {
            Await.pause(100); // a renewal already on its way arrives
            askedAt = System.nanoTime();
            remaining = cluster.etcd.leaseRemainingSeconds(lease);
            fault.begin().run();
        } finally {
            Host.signal(primary.pid(), "CONT");
        }
        long faultAt = System.nanoTime();
        try {
            assertThat(remaining).isPositive();
            long stoppedAfter = Sql.writeUntilRefused(primary.pgPort, "INSERT INTO outage_check DEFAULT VALUES", askedAt,
                    Duration.ofSeconds(60), what);
            System.out.printf("%s: primary %s stopped taking writes %.2f s after; lease had >= %d s left%n", what,
                    primary.name, (System.nanoTime() - faultAt) / 1e9, remaining);
            assertThat(stoppedAfter).as("writes stop before the lease can have expired in etcd")
                    .isLessThan(Duration.ofSeconds(remaining).toNanos());

            long until = faultAt + nobodyWritesFor.toNanos();
            while (System.nanoTime() - until < 0) {
                assertThat(cluster.writablePrimaries()).as("nobody takes writes during: %s", what).isEmpty();
                Await.pause(200);
            }
        } finally {
            fault.end().run();
        }
    }

    /** Switches failsafe_mode on or off through {@code node}'s PATCH /config, as patronictl edit-config would. */
    static void switchFailsafeMode(AgentProcess node, boolean on) {
        Rest.Answer a = Rest.call(node, "PATCH", "/config", "{\"failsafe_mode\": " + on + "}");
        assertThat(a.status()).as("PATCH /config failsafe_mode %s: %s", on, a).isEqualTo(200);
    }

    /**
     * Switches failsafe_mode on through {@code leader} and waits until every node has read the failsafe key naming
     * every node with the api_url {@code apiUrl} gives it (GET /failsafe: the key as that node last read it). Only
     * then does failsafe apply: a primary acts on the key it read, not on the one it wrote.
     */
    static void switchFailsafeModeOn(TestCluster cluster, AgentProcess leader, Function<AgentProcess, String> apiUrl) {
        switchFailsafeMode(leader, true);
        for (AgentProcess node : cluster.nodes) {
            Await.until(Duration.ofSeconds(20), node.name + " to have read the failsafe key naming every member", () -> {
                Rest.Answer a = Rest.call(node, "GET", "/failsafe", null);
                return a.status() == 200 && cluster.nodes.stream()
                        .allMatch(n -> a.body().contains("\"" + n.name + "\":\"" + apiUrl.apply(n) + "\""));
            }, () -> Rest.call(node, "GET", "/failsafe", null).toString());
        }
    }
}

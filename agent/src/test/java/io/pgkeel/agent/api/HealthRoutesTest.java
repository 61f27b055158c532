package io.pgkeel.agent.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.agent.ha.NodeSnapshot;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Patroni's health-check status codes, one named row per case. */
class HealthRoutesTest {

    static Arguments row(String name, NodeSnapshot s, String path, Map<String, List<String>> query, int status) {
        return Arguments.of(Named.of(name, s), path, query, status);
    }

    static Stream<Arguments> rows() {
        NodeSnapshot primary = Snapshots.primary();
        NodeSnapshot replica = Snapshots.replica(5000, 4000, Map.of());
        NodeSnapshot stopped = Snapshots.stopped();
        Map<String, List<String>> none = Map.of();
        return Stream.of(
                row("primary: /primary", primary, "/primary", none, 200),
                row("primary: / (HAProxy's default check)", primary, "/", none, 200),
                row("primary: /master (legacy)", primary, "/master", none, 200),
                row("primary: /read-write", primary, "/read-write", none, 200),
                row("primary: /leader", primary, "/leader", none, 200),
                row("primary: /replica", primary, "/replica", none, 503),
                row("primary: /read-only", primary, "/read-only", none, 200),
                row("primary: /health", primary, "/health", none, 200),
                row("primary: /standby-leader", primary, "/standby-leader", none, 503),
                row("replica: /primary", replica, "/primary", none, 503),
                row("replica: /replica", replica, "/replica", none, 200),
                row("replica: /read-only", replica, "/read-only", none, 200),
                row("replica: /async", replica, "/async", none, 200),
                row("replica: /sync (sync mode off)", replica, "/sync", none, 503),
                row("replica: lag 1000 within ?lag=1kB", replica, "/replica", Map.of("lag", List.of("1kB")), 200),
                row("replica: lag 1000 over ?lag=999", replica, "/replica", Map.of("lag", List.of("999")), 503),
                // api.py do_GET: parse_int gives None for a lag it cannot read, and None means sys.maxsize
                row("replica: ?lag=garbage sets no limit", replica, "/replica", Map.of("lag", List.of("lots")), 200),
                row("replica: ?replication_state=streaming", replica, "/replica",
                        Map.of("replication_state", List.of("streaming")), 200),
                row("replica: ?replication_state=in archive recovery", replica, "/replica",
                        Map.of("replication_state", List.of("in archive recovery")), 503),
                row("replica: tag missing", replica, "/replica", Map.of("tag_zone", List.of("a")), 503),
                // api.py do_GET: a string tag is compared as it is (case counts)
                row("replica tagged zone=a: ?tag_zone=A", Snapshots.replica(5000, 5000, Map.of("zone", "a")), "/replica",
                        Map.of("tag_zone", List.of("A")), 503),
                row("replica tagged zone=a: ?tag_zone=a", Snapshots.replica(5000, 5000, Map.of("zone", "a")), "/replica",
                        Map.of("tag_zone", List.of("a")), 200),
                row("replica tagged noloadbalance", Snapshots.replica(5000, 5000, Map.of("noloadbalance", true)),
                        "/replica", none, 503),
                row("replica: /readiness streaming", replica, "/readiness", none, 200),
                row("replica: /readiness?lag=500 (replay lag 1000)", replica, "/readiness",
                        Map.of("lag", List.of("500")), 503),
                row("replica: /readiness?lag=500&mode=write (nothing unreceived)", replica, "/readiness",
                        Map.of("lag", List.of("500"), "mode", List.of("write")), 200),
                row("replica 2 MB behind in replay: /readiness defaults to maximum_lag_on_failover",
                        Snapshots.replica(2_100_000, 5000, Map.of()), "/readiness", none, 503),
                row("stopped: /health", stopped, "/health", none, 503),
                row("stopped: /replica", stopped, "/replica", none, 503),
                row("stopped: /patroni is always 200", stopped, "/patroni", none, 200),
                row("unknown path", primary, "/no-such-thing", none, 503),
                row("replica: /readiness?lag=garbage uses maximum_lag_on_failover", replica, "/readiness",
                        Map.of("lag", List.of("lots")), 200));
    }

    /**
     * Patroni 4.1 api.py do_GET: which paths the ?tag_ filter applies to (every 200 except the leader paths), and
     * its matching rules (_filter_tags in tags.py for which tags a node has).
     */
    static Stream<Arguments> tagRows() {
        NodeSnapshot primary = Snapshots.primary();
        NodeSnapshot replica = Snapshots.replica(5000, 5000, Map.of());
        NodeSnapshot tagged = Snapshots.replica(5000, 5000, Map.of("zone", "a", "nofailover", true,
                "failover_priority", 2, "weight", 1.5, "noloadbalance", false));
        NodeSnapshot nofailoverFalse = Snapshots.replica(5000, 5000, Map.of("nofailover", false));
        Map<String, List<String>> foo = Map.of("tag_foo", List.of("bar"));
        return Stream.of(
                row("primary without the tag: /read-only?tag_foo=bar", primary, "/read-only", foo, 503),
                row("primary without the tag: /health?tag_foo=bar", primary, "/health", foo, 503),
                row("primary: tags ignored on /primary", primary, "/primary", foo, 200),
                row("primary: tags ignored on /", primary, "/", foo, 200),
                row("primary: tags ignored on /leader", primary, "/leader", foo, 200),
                row("primary: tags ignored on /read-write", primary, "/read-write", foo, 200),
                row("primary: tags ignored on /master", primary, "/master", foo, 200),
                row("primary: /read-only-sync?tag_foo=bar", primary, "/read-only-sync", foo, 503),
                row("primary: /read-only-sync", primary, "/read-only-sync", Map.of(), 200),
                row("replica without nofailover: ?tag_nofailover=false", replica, "/replica",
                        Map.of("tag_nofailover", List.of("false")), 503),
                row("replica with nofailover: false (Patroni drops it): ?tag_nofailover=false", nofailoverFalse,
                        "/replica", Map.of("tag_nofailover", List.of("false")), 503),
                row("replica with nofailover and failover_priority: ?tag_nofailover=true", tagged, "/replica",
                        Map.of("tag_nofailover", List.of("true")), 200),
                row("boolean tag: ?tag_nofailover=True (Python lowercases the tag, not the query)", tagged,
                        "/replica", Map.of("tag_nofailover", List.of("True")), 503),
                row("number tag: ?tag_failover_priority=2", tagged, "/replica",
                        Map.of("tag_failover_priority", List.of("2")), 200),
                row("float tag: ?tag_weight=1.5", tagged, "/replica", Map.of("tag_weight", List.of("1.5")), 200),
                row("noloadbalance false is dropped: ?tag_noloadbalance=false", tagged, "/replica",
                        Map.of("tag_noloadbalance", List.of("false")), 503),
                row("two tags, both match", tagged, "/async", Map.of("tag_zone", List.of("a"),
                        "tag_failover_priority", List.of("2")), 200),
                row("two tags, one does not match", tagged, "/read-only", Map.of("tag_zone", List.of("a"),
                        "tag_failover_priority", List.of("3")), 503),
                row("blank value is no filter (parse_qs drops it)", replica, "/replica",
                        Map.of("tag_foo", List.of("")), 200),
                row("first value counts", tagged, "/replica", Map.of("tag_zone", List.of("a", "b")), 200),
                row("a 503 stays 503 with matching tags", tagged, "/primary", Map.of("tag_zone", List.of("a")), 503),
                row("replica: tag on /health", tagged, "/health", Map.of("tag_zone", List.of("b")), 503),
                // do_GET matches words inside the path
                row("replica: /replica/anything is /replica", replica, "/replica/anything", Map.of(), 200),
                row("replica: /patroni/x is /patroni", Snapshots.stopped(), "/patroni/x", Map.of(), 200),
                row("replica, DCS unreachable: /async needs a cluster view",
                        Snapshots.with(replica, replica.cluster(), false, 1), "/async", Map.of(), 503),
                row("replica, DCS unreachable: /replica does not", Snapshots.with(replica, replica.cluster(), false, 1),
                        "/replica", Map.of(), 200));
    }

    /** Every health path that depends on synchronous replication (Patroni 4.1 api.py do_GET, {@code elif cluster:}). */
    static final List<String> SYNC_PATHS = List.of("/sync", "/synchronous", "/async", "/asynchronous", "/quorum",
            "/read-only-sync", "/read-only-synchronous", "/read-only-quorum");

    /** One state and the sync paths that answer 200 in it: a row per path, the others expecting 503. */
    static Stream<Arguments> state(String name, NodeSnapshot s, String... ok) {
        return SYNC_PATHS.stream().map(p -> row(name + ": " + p, s, p, Map.of(), List.of(ok).contains(p) ? 200 : 503));
    }

    /**
     * Who is a synchronous or quorum standby (api.py get_postgresql_status: a running replica named in the sync key
     * while synchronous_mode is on, or quorum) and what each path answers for it. This node is n1; as a replica it
     * follows the leader n2. A sync key written by another leader than the current one (or with no leader key) names
     * no standby of the current primary: nobody is synchronous then (Patroni's ha.py is_sync_standby).
     */
    static Stream<Arguments> syncRows() {
        NodeSnapshot replica = Snapshots.replica(5000, 5000, Map.of());
        NodeSnapshot primary = Snapshots.primary();
        String[] async = {"/async", "/asynchronous"};
        String[] sync = {"/sync", "/synchronous", "/read-only-sync", "/read-only-synchronous"};
        String[] quorum = {"/quorum", "/read-only-quorum"};
        String[] leader = {"/read-only-sync", "/read-only-synchronous", "/read-only-quorum"};
        NodeSnapshot onNamed = Snapshots.inSyncMode(replica, "on", Snapshots.syncKey("n2", "n1"), "n2");
        return Stream.of(
                state("off, named in a sync key", Snapshots.inSyncMode(replica, "off", Snapshots.syncKey("n2", "n1"),
                        "n2"), async),
                state("on, named", onNamed, sync),
                state("on, named with another", Snapshots.inSyncMode(replica, "on", Snapshots.syncKey("n2", "n0,n1"),
                        "n2"), sync),
                state("on, named in capitals (PostgreSQL compares standby names case-insensitively)",
                        Snapshots.inSyncMode(replica, "on", Snapshots.syncKey("n2", "N1"), "n2"), sync),
                state("on, not named", Snapshots.inSyncMode(replica, "on", Snapshots.syncKey("n2", "n3"), "n2"), async),
                state("on, named only as the key's leader", Snapshots.inSyncMode(replica, "on",
                        Snapshots.syncKey("n1", "n3"), "n1"), async),
                state("on, no sync key", Snapshots.inSyncMode(replica, "on", null, "n2"), async),
                state("on, stale key: written by n3, n2 leads", Snapshots.inSyncMode(replica, "on",
                        Snapshots.syncKey("n3", "n1"), "n2"), async),
                state("on, stale key: no leader key", Snapshots.inSyncMode(replica, "on", Snapshots.syncKey("n2", "n1"),
                        null), async),
                state("on, named, stopped", Snapshots.inSyncMode(Snapshots.stopped(), "on",
                        Snapshots.syncKey("n2", "n1"), "n2")),
                state("on, named, noloadbalance", Snapshots.inSyncMode(Snapshots.replica(5000, 5000,
                        Map.of("noloadbalance", true)), "on", Snapshots.syncKey("n2", "n1"), "n2")),
                state("on, named, DCS not reached in this cycle", Snapshots.with(onNamed, onNamed.cluster(), false, 1)),
                state("quorum, named", Snapshots.inSyncMode(replica, "quorum", Snapshots.syncKey("n2", "n1"), "n2"),
                        quorum),
                state("quorum, not named", Snapshots.inSyncMode(replica, "quorum", Snapshots.syncKey("n2", "n3"),
                        "n2"), async),
                state("quorum, stale key: written by n3, n2 leads", Snapshots.inSyncMode(replica, "quorum",
                        Snapshots.syncKey("n3", "n1"), "n2"), async),
                state("primary, off", Snapshots.inSyncMode(primary, "off", null, "n1"), leader),
                state("primary, on", Snapshots.inSyncMode(primary, "on", Snapshots.syncKey("n1", "n2"), "n1"), leader),
                state("primary, quorum", Snapshots.inSyncMode(primary, "quorum", Snapshots.syncKey("n1", "n2"), "n1"),
                        leader),
                state("primary named in a stale key", Snapshots.inSyncMode(primary, "on", Snapshots.syncKey("n3", "n1"),
                        "n1"), leader)).flatMap(x -> x);
    }

    /** The filters of /replica apply to a synchronous or quorum standby's 200 as to any replica's. */
    static Stream<Arguments> syncFilterRows() {
        NodeSnapshot lagging = Snapshots.inSyncMode(Snapshots.replica(5000, 4000, Map.of("zone", "a")), "on",
                Snapshots.syncKey("n2", "n1"), "n2");
        NodeSnapshot quorum = Snapshots.inSyncMode(Snapshots.replica(5000, 4000, Map.of("zone", "a")), "quorum",
                Snapshots.syncKey("n2", "n1"), "n2");
        NodeSnapshot async = Snapshots.inSyncMode(Snapshots.replica(5000, 4000, Map.of("zone", "a")), "on",
                Snapshots.syncKey("n2", "n3"), "n2");
        return Stream.of(
                row("sync: lag 1000 within ?lag=1kB", lagging, "/sync", Map.of("lag", List.of("1kB")), 200),
                row("sync: lag 1000 over ?lag=999", lagging, "/sync", Map.of("lag", List.of("999")), 503),
                row("read-only-sync: lag 1000 over ?lag=999", lagging, "/read-only-sync",
                        Map.of("lag", List.of("999")), 503),
                row("quorum: lag 1000 over ?lag=999", quorum, "/quorum", Map.of("lag", List.of("999")), 503),
                row("read-only-quorum: lag 1000 over ?lag=999", quorum, "/read-only-quorum",
                        Map.of("lag", List.of("999")), 503),
                row("async: lag 1000 over ?lag=999", async, "/async", Map.of("lag", List.of("999")), 503),
                row("async: lag 1000 within ?lag=1000", async, "/async", Map.of("lag", List.of("1000")), 200),
                row("sync: ?replication_state=streaming", lagging, "/synchronous",
                        Map.of("replication_state", List.of("streaming")), 200),
                row("sync: ?replication_state=in archive recovery", lagging, "/sync",
                        Map.of("replication_state", List.of("in archive recovery")), 503),
                row("sync: ?tag_zone=a", lagging, "/sync", Map.of("tag_zone", List.of("a")), 200),
                row("sync: ?tag_zone=b", lagging, "/sync", Map.of("tag_zone", List.of("b")), 503),
                row("quorum: ?tag_zone=a", quorum, "/quorum", Map.of("tag_zone", List.of("a")), 200),
                row("quorum: ?tag_zone=b", quorum, "/read-only-quorum", Map.of("tag_zone", List.of("b")), 503),
                row("async: ?tag_zone=b", async, "/asynchronous", Map.of("tag_zone", List.of("b")), 503));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource({"syncRows", "syncFilterRows"})
    void syncPathsFollowTheSyncKey(NodeSnapshot snapshot, String path, Map<String, List<String>> query, int status) {
        assertThat(HealthRoutes.answer(path, query, snapshot, Snapshots.NOW).status()).isEqualTo(status);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("tagRows")
    void tagFilterAndPathMatchingArePatronis(NodeSnapshot snapshot, String path, Map<String, List<String>> query,
                                              int status) {
        assertThat(HealthRoutes.answer(path, query, snapshot, Snapshots.NOW).status()).isEqualTo(status);
    }

    /** {@code s} as published while the DCS is not accessible: no leader key held, failsafe active or not. */
    private static NodeSnapshot withoutDcs(NodeSnapshot s, boolean failsafeActive) {
        NodeSnapshot cut = new NodeSnapshot(s.identity(), s.pg(), s.cluster(), false, false, s.lastAction(),
                s.lastReason(), s.lastCycleNanos(), s.dcsLastSeenEpochSeconds(), s.ttl(), s.loopWait());
        return Snapshots.withFailsafe(cut, new NodeSnapshot.FailsafeState(true,
                Map.of("n1", "http://127.0.0.1:8008/patroni", "n2", "http://127.0.0.1:8009/patroni"), failsafeActive));
    }

    /**
     * Patroni 4.1 with failsafe_mode: a primary whose failsafe round every member confirmed is the leader for ttl
     * ({@code _handle_dcs_error}: {@code set_is_leader(True)}, which do_GET and _readiness ask); a replica whose
     * promise runs is ready without the DCS ({@code _readiness}: {@code failsafe_is_active()}).
     */
    static Stream<Arguments> failsafeRows() {
        NodeSnapshot confirmed = withoutDcs(Snapshots.primary(), true);
        NodeSnapshot unconfirmed = withoutDcs(Snapshots.primary(), false);
        // a replica that heard nothing from a WAL sender (no latest_end_lsn) and has no cluster view
        NodeSnapshot promised = withoutDcs(Snapshots.replica(0, 0, Map.of()), true);
        NodeSnapshot unpromised = withoutDcs(Snapshots.replica(0, 0, Map.of()), false);
        NodeSnapshot stoppedConfirmed = withoutDcs(Snapshots.stopped(), true);
        Map<String, List<String>> none = Map.of();
        return Stream.of(
                row("primary in failsafe, confirmed: /primary", confirmed, "/primary", none, 200),
                row("primary in failsafe, confirmed: /", confirmed, "/", none, 200),
                row("primary in failsafe, confirmed: /read-write", confirmed, "/read-write", none, 200),
                row("primary in failsafe, confirmed: /leader", confirmed, "/leader", none, 200),
                row("primary in failsafe, confirmed: /read-only", confirmed, "/read-only", none, 200),
                row("primary in failsafe, confirmed: /replica", confirmed, "/replica", none, 503),
                row("primary in failsafe, confirmed: /readiness", confirmed, "/readiness", none, 200),
                row("primary in failsafe, confirmed: /health", confirmed, "/health", none, 200),
                row("primary without the DCS, not confirmed: /primary", unconfirmed, "/primary", none, 503),
                row("primary without the DCS, not confirmed: /leader", unconfirmed, "/leader", none, 503),
                row("primary without the DCS, not confirmed: /readiness", unconfirmed, "/readiness", none, 503),
                row("replica with a promise running: /readiness without the DCS", promised, "/readiness", none, 200),
                row("replica with a promise running: /primary", promised, "/primary", none, 503),
                row("replica with a promise running: /leader", promised, "/leader", none, 503),
                row("replica with a promise running: /replica", promised, "/replica", none, 200),
                row("replica without a promise: /readiness without the DCS", unpromised, "/readiness", none, 503),
                row("stopped primary, failsafe active: /primary", stoppedConfirmed, "/primary", none, 503));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("failsafeRows")
    void aPrimaryInFailsafeAnswersAsTheLeader(NodeSnapshot snapshot, String path, Map<String, List<String>> query,
                                              int status) {
        assertThat(HealthRoutes.answer(path, query, snapshot, Snapshots.NOW).status()).isEqualTo(status);
    }

    @Test
    void livenessGivesAPrimaryInFailsafeTheLeadersTtl() {
        NodeSnapshot confirmed = withoutDcs(Snapshots.primary(), true);
        NodeSnapshot unconfirmed = withoutDcs(Snapshots.primary(), false);
        long after45s = confirmed.lastCycleNanos() + 45_000_000_000L;
        // Patroni: ttl on a running primary, 2 x ttl elsewhere (pgkeel: on the leader, which this primary is)
        assertThat(HealthRoutes.answer("/liveness", Map.of(), confirmed, after45s).status()).isEqualTo(503);
        assertThat(HealthRoutes.answer("/liveness", Map.of(), unconfirmed, after45s).status()).isEqualTo(200);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void answers(NodeSnapshot snapshot, String path, Map<String, List<String>> query, int status) {
        assertThat(HealthRoutes.answer(path, query, snapshot, Snapshots.NOW).status()).isEqualTo(status);
    }

    @Test
    void livenessIsAlways200InPause() {
        NodeSnapshot s = Snapshots.primary();
        var c = s.cluster();
        var paused = new io.pgkeel.common.cluster.ClusterView(c.initialize(), java.util.Optional.of(
                new io.pgkeel.common.cluster.DynamicConfig(30, 10, 10, 1048576, true, true, 1800, java.util.Set.of(), true, 300, false,
                        false, io.pgkeel.common.cluster.SyncSettings.OFF, Map.of(), Map.of(), 3)),
                c.leader(), c.members(), c.lastLeaderLsn(), c.failover(), c.history(), c.revision());
        NodeSnapshot p = new NodeSnapshot(s.identity(), s.pg(), paused, true, true, "LeadAsPrimary", "ok",
                s.lastCycleNanos(), 0, 30, 10);
        assertThat(HealthRoutes.answer("/liveness", Map.of(), p, s.lastCycleNanos() + 300_000_000_000L).status())
                .isEqualTo(200);
        assertThat(HealthRoutes.answer("/liveness", Map.of(), s, s.lastCycleNanos() + 300_000_000_000L).status())
                .isEqualTo(503);
    }

    @Test
    void livenessFailsWhenTheLoopHasNotRunForTtl() {
        NodeSnapshot s = Snapshots.primary();
        assertThat(HealthRoutes.answer("/liveness", Map.of(), s, s.lastCycleNanos() + 29_000_000_000L).status())
                .isEqualTo(200);
        assertThat(HealthRoutes.answer("/liveness", Map.of(), s, s.lastCycleNanos() + 31_000_000_000L).status())
                .isEqualTo(503);
        assertThat(HealthRoutes.answer("/liveness", Map.of(), s, 0).withBody()).isFalse();
    }

    @Test
    void noSnapshotYetIsUnavailable() {
        assertThat(HealthRoutes.answer("/primary", Map.of(), null, 0).status()).isEqualTo(503);
    }

    @Test
    void statusBodyHasPatronisFields() {
        Map<String, Object> body = StatusJson.of(Snapshots.primary());
        assertThat(body).containsEntry("state", "running").containsEntry("role", "primary")
                .containsEntry("timeline", 2).containsEntry("server_version", 150018)
                .containsEntry("database_system_identifier", "42").containsKey("patroni").containsKey("xlog");
        assertThat(body.get("xlog")).isEqualTo(Map.of("location", 5000L));
        Map<String, Object> rep = StatusJson.of(Snapshots.replica(5000, 4000, Map.of()));
        assertThat(rep).containsEntry("role", "replica").containsEntry("replication_state", "streaming");
        @SuppressWarnings("unchecked")
        Map<String, Object> xlog = (Map<String, Object>) rep.get("xlog");
        assertThat(xlog).containsEntry("received_location", 5000L).containsEntry("replayed_location", 4000L);
    }
}

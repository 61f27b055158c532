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
                row("replica: ?lag=garbage", replica, "/replica", Map.of("lag", List.of("lots")), 503),
                row("replica: ?replication_state=streaming", replica, "/replica",
                        Map.of("replication_state", List.of("streaming")), 200),
                row("replica: ?replication_state=in archive recovery", replica, "/replica",
                        Map.of("replication_state", List.of("in archive recovery")), 503),
                row("replica: tag missing", replica, "/replica", Map.of("tag_zone", List.of("a")), 503),
                row("replica tagged zone=a: ?tag_zone=A", Snapshots.replica(5000, 5000, Map.of("zone", "a")), "/replica",
                        Map.of("tag_zone", List.of("A")), 200),
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
                row("unknown path", primary, "/no-such-thing", none, 503));
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
                new io.pgkeel.common.cluster.DynamicConfig(30, 10, 10, 1048576, true, true, 1800, java.util.Set.of(), true, 300, 0,
                        false, false, Map.of(), Map.of(), 3)),
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

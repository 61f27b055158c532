package io.pgkeel.agent.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.pgkeel.agent.ha.NodeSnapshot;
import io.pgkeel.agent.ha.RequestOutcome;
import io.pgkeel.agent.ha.RequestRefusal;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.peer.PeerStatus;
import io.pgkeel.testing.FakeClock;
import io.pgkeel.testing.FakeDcs;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The HTTP side on an EmbeddedChannel: raw bytes in, raw bytes out, with the server's own pipeline. */
class RestApiHandlerTest {
    private final AtomicReference<NodeSnapshot> snapshot = new AtomicReference<>(Snapshots.primary());
    private final FakeClock clock = new FakeClock();
    private final FakeDcs dcs = new FakeDcs(clock);
    private final FakeDcs.Session session = dcs.session("n1");
    private final AtomicInteger wakeups = new AtomicInteger();
    private final AtomicInteger reloads = new AtomicInteger();
    /** What GET /patroni on the other members answers. */
    private final AtomicReference<java.util.List<PeerStatus>> peers = new AtomicReference<>(java.util.List.of());
    /** What the HA loop makes of an operator request: done, with a snapshot newer than the request. */
    private final FakeOperator operator = new FakeOperator();

    {
        operator.answer = r -> {
            NodeSnapshot b = Snapshots.primary();
            snapshot.set(new NodeSnapshot(b.identity(), b.pg(), b.cluster(), true, true, "Restart", "restarting",
                    clock.nanoTime() + 1, 0, 30, 10));
            return CompletableFuture.completedFuture(RequestOutcome.done("done"));
        };
    }

    /** The access policy and extra headers in force. */
    private final AtomicReference<SecurityRefresher.RestSecurity> security = new AtomicReference<>(
            new SecurityRefresher.RestSecurity(AccessPolicy.OPEN, Map.of(), null));

    /** What the cluster does when the loop is woken (after a failover key was written). */
    private Runnable onWake = () -> { };

    private EmbeddedChannel channel() {
        AdminActions admin = new AdminActions(session, snapshot::get, new AdminActions.Hooks(() -> { wakeups.incrementAndGet(); onWake.run(); }, reloads::incrementAndGet,
                members -> peers.get().stream().filter(p -> members.stream().anyMatch(m -> m.name().equals(p.name())))
                        .toList(), operator, clock));
        return EmbeddedRest.channel(new RestApiHandler(snapshot::get, clock, new StatusJson(),
                        new Metrics("demo", "n1", "0.1.0", snapshot::get), admin, Runnable::run, security::get));
    }

    private static String exchange(EmbeddedChannel ch, String request) {
        return EmbeddedRest.exchange(ch, request);
    }

    @Test
    void primaryAnswers200WithTheStatusJsonAndKeepsTheConnection() {
        EmbeddedChannel ch = channel();
        String r = exchange(ch, "GET /primary HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(r).startsWith("HTTP/1.1 200 OK").contains("content-type: application/json")
                .contains("\"role\":\"primary\"");
        assertThat(ch.isOpen()).isTrue();
        assertThat(exchange(ch, "GET /replica HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 503");
    }

    @Test
    void headAndOptionsAnswerTheStatusCodeOnly() {
        assertThat(exchange(channel(), "HEAD /primary HTTP/1.1\r\nHost: x\r\n\r\n"))
                .startsWith("HTTP/1.1 200").contains("content-length: 0").doesNotContain("role");
        assertThat(exchange(channel(), "OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 200");
        snapshot.set(Snapshots.replica(1, 1, java.util.Map.of()));
        assertThat(exchange(channel(), "OPTIONS / HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 503");
    }

    @Test
    void http10ClosesAfterTheResponse() {
        EmbeddedChannel ch = channel();
        // RFC 7230 2.6: the server answers with its own version (1.1); what matters is that it closes
        assertThat(exchange(ch, "GET /health HTTP/1.0\r\n\r\n")).startsWith("HTTP/1.1 200").contains("connection: close");
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void malformedAndOversizedRequestsGet4xxAndTheServerSurvives() {
        assertThat(exchange(channel(), "BLAH\r\n\r\n")).startsWith("HTTP/1.1 400");
        String hugeHeader = "GET /primary HTTP/1.1\r\nX-Big: " + "a".repeat(20_000) + "\r\n\r\n";
        assertThat(exchange(channel(), hugeHeader)).matches("(?s)HTTP/1.1 4\\d\\d.*");
        assertThat(exchange(channel(), "GET /primary HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 200");
    }

    @Test
    void clusterHistoryAndConfigComeFromTheLastClusterView() {
        String cluster = exchange(channel(), "GET /cluster HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(cluster).startsWith("HTTP/1.1 200").contains("\"scope\":\"demo\"").contains("\"members\":[]");
        assertThat(exchange(channel(), "GET /history HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 200")
                .contains("[[1,100,\"no recovery target specified\",\"2026-11-28T00:00:00+00:00\",\"n1\"]]");
        assertThat(exchange(channel(), "GET /config HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 502");
    }

    @Test
    void metricsUsePatronisNamesAndLabels() {
        String r = exchange(channel(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(r).startsWith("HTTP/1.1 200").contains("text/plain");
        assertThat(r).contains("patroni_primary{name=\"n1\",scope=\"demo\"} 1.0")
                .contains("patroni_xlog_location{name=\"n1\",scope=\"demo\"} 5000.0")
                .contains("patroni_postgres_timeline{name=\"n1\",scope=\"demo\"} 2.0")
                .contains("patroni_postgres_state{name=\"n1\",scope=\"demo\"} 5.0")
                .contains("patroni_version{name=\"n1\",scope=\"demo\"} 100.0")
                .contains("patroni_replica{name=\"n1\",scope=\"demo\"} 0.0")
                .contains("patroni_postmaster_start_time{name=\"n1\",scope=\"demo\"} 1.795824E9");
    }

    /** Publishes a snapshot whose cluster view is what the fake etcd holds now. */
    private void snapshotFromDcs() {
        NodeSnapshot base = Snapshots.primary();
        snapshot.set(new NodeSnapshot(base.identity(), base.pg(), session.read(), true, true, "x", "y",
                base.lastCycleNanos(), 0, 30, 10));
    }

    private static String request(String method, String path, String body) {
        return method + " " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
    }

    @Test
    void patchConfigMergesWithCompareAndSetAndWakesTheLoop() {
        session.initializeConfig(Map.of("ttl", 30, "loop_wait", 10, "retry_timeout", 10,
                "maximum_lag_on_failover", 1048576));
        snapshotFromDcs();
        String r = exchange(channel(), request("PATCH", "/config", "{\"ttl\": 40, \"maximum_lag_on_failover\": null}"));
        assertThat(r).startsWith("HTTP/1.1 200").contains("\"ttl\":40").doesNotContain("maximum_lag_on_failover");
        assertThat(session.read().config().orElseThrow().ttl()).isEqualTo(40);
        assertThat(wakeups).hasValue(1);
        // the snapshot still carries the old revision, but PATCH reads the key anew: the second builds on the first
        assertThat(exchange(channel(), request("PATCH", "/config", "{\"ttl\": 50}"))).startsWith("HTTP/1.1 200");
        assertThat(session.read().config().orElseThrow().ttl()).isEqualTo(50);
        assertThat(session.read().config().orElseThrow().raw()).doesNotContainKey("maximum_lag_on_failover");
    }

    @Test
    void badConfigValuesAreRefusedNamingTheKey() {
        session.initializeConfig(Map.of("ttl", 30, "loop_wait", 10, "retry_timeout", 10));
        snapshotFromDcs();
        assertThat(exchange(channel(), request("PATCH", "/config", "{\"ttl\": \"abc\"}")))
                .startsWith("HTTP/1.1 400").contains("config.ttl");
        // api.py _read_json_content: send_error(400), Python's error page (the reason goes to the log)
        assertThat(exchange(channel(), request("PATCH", "/config", "{not json"))).startsWith("HTTP/1.1 400")
                .contains("<p>Error code: 400</p>");
        assertThat(exchange(channel(), request("PATCH", "/config", "[1]"))).startsWith("HTTP/1.1 400")
                .contains("<p>Error code: 400</p>");
        assertThat(session.read().config().orElseThrow().ttl()).isEqualTo(30);
    }

    /**
     * Issue 11 §10: what Patroni accepts is accepted, adjusted as Patroni 4.1 adjusts it, with a warning; once such a
     * value is in the config key, later edits (pause) still go through.
     */
    @Test
    void oddTimingIsAcceptedWithAWarning_andLaterPatchesStillWork() {
        session.initializeConfig(Map.of("ttl", 30, "loop_wait", 10, "retry_timeout", 10));
        for (String patch : java.util.List.of("{\"ttl\": 20}", "{\"ttl\": 12}", "{\"ttl\": 3}",
                "{\"retry_timeout\": 15}", "{\"loop_wait\": 0}")) {
            snapshotFromDcs();
            assertThat(exchange(channel(), request("PATCH", "/config", patch))).as(patch)
                    .startsWith("HTTP/1.1 200").contains("warning: 299 pgkeel \"config: ");
        }
        snapshotFromDcs();
        assertThat(exchange(channel(), request("PATCH", "/config", "{\"ttl\": 20, \"loop_wait\": 10}")))
                .startsWith("HTTP/1.1 200");
        snapshotFromDcs();
        String paused = exchange(channel(), request("PATCH", "/config", "{\"pause\": true}"));
        assertThat(paused).startsWith("HTTP/1.1 200").contains("\"pause\":true")
                .contains("adjusting loop_wait from 10 to 1 and retry_timeout from 15 to 9");
        DynamicConfig inForce = session.read().config().orElseThrow();
        assertThat(inForce.pause()).isTrue();
        assertThat(java.util.List.of(inForce.ttl(), inForce.loopWait(), inForce.retryTimeout()))
                .containsExactly(20, 1, 9);
        assertThat(inForce.raw()).containsEntry("ttl", 20).containsEntry("retry_timeout", 15);
    }

    /** Issue 11 §3: a safety setting pgkeel cannot honour is refused, naming the key; ignored ones are warned about. */
    @Test
    void safetySettingsAreRefusedNamingTheKey_ignoredOnesAreWarnings() {
        session.initializeConfig(Map.of("ttl", 30, "loop_wait", 10, "retry_timeout", 10));
        for (String patch : java.util.List.of("{\"standby_cluster\": {\"host\": \"10.0.0.9\", \"port\": 5432}}",
                "{\"standby_cluster\": {\"restore_command\": \"cp %f %p\"}}")) {
            snapshotFromDcs();
            String key = patch.substring(2, patch.indexOf('"', 2));
            assertThat(exchange(channel(), request("PATCH", "/config", patch))).as(patch)
                    .startsWith("HTTP/1.1 400").contains("config." + key).contains("pgkeel will not run without it");
        }
        assertThat(session.read().config().orElseThrow().raw()).containsOnlyKeys("ttl", "loop_wait", "retry_timeout");
        snapshotFromDcs();
        assertThat(exchange(channel(), request("PATCH", "/config", "{\"synchronous_mode\": \"sometimes\"}")))
                .as("issue 12: a bad synchronous_mode is refused, naming the key")
                .startsWith("HTTP/1.1 400").contains("config.synchronous_mode: expected on, off or quorum");
        snapshotFromDcs();
        assertThat(exchange(channel(), request("PATCH", "/config",
                "{\"failsafe_mode\": false, \"postgresql\": {\"pg_ident\": [\"map1 alice postgres\"]}}")))
                .startsWith("HTTP/1.1 200")
                .contains("warning: 299 pgkeel \"config.postgresql.pg_ident is a Patroni setting pgkeel does not use yet");
        // issue 13: failsafe_mode is acted on, in each spelling
        for (String patch : java.util.List.of("{\"failsafe_mode\": true}", "{\"failsafe_mode\": \"on\"}")) {
            snapshotFromDcs();
            assertThat(exchange(channel(), request("PATCH", "/config", patch))).as(patch).startsWith("HTTP/1.1 200")
                    .doesNotContain("config.failsafe_mode");
            assertThat(session.read().config().orElseThrow().failsafeMode()).as(patch).isTrue();
        }
    }

    /** Written by another tool, a safety setting must not lock the operator out: pause still goes through. */
    @Test
    void aSafetySettingAlreadyInTheConfigKeyDoesNotBlockOtherEdits() {
        session.initializeConfig(Map.of("ttl", 30, "loop_wait", 10, "retry_timeout", 10, "standby_cluster",
                Map.of("host", "10.0.0.9")));
        snapshotFromDcs();
        assertThat(exchange(channel(), request("PATCH", "/config", "{\"pause\": true}"))).startsWith("HTTP/1.1 200")
                .contains("warning: 299 pgkeel \"config.standby_cluster = {host=10.0.0.9}");
        assertThat(session.read().config().orElseThrow().pause()).isTrue();
    }

    @Test
    void patchWithoutAConfigKeyIs503AndPutReplacesIt() {
        snapshotFromDcs();
        assertThat(exchange(channel(), request("PATCH", "/config", "{\"ttl\": 40}"))).startsWith("HTTP/1.1 503");
        assertThat(exchange(channel(), request("PUT", "/config", "{\"ttl\": 20, \"loop_wait\": 2, \"retry_timeout\": 5}")))
                .startsWith("HTTP/1.1 200");
        assertThat(session.read().config().orElseThrow().loopWait()).isEqualTo(2);
    }

    /**
     * Issue 11 §10: right after bootstrap the published snapshot may predate the config key. PATCH reads the key at
     * request time and compare-and-sets on the revision it read, as Patroni's do_PATCH_config (it reads the cluster
     * from the DCS for the request).
     */
    @Test
    void patchReadsTheConfigKeyAtRequestTimeNotTheSnapshot() {
        snapshotFromDcs(); // published before the config key exists
        session.initializeConfig(Map.of("ttl", 30, "loop_wait", 10, "retry_timeout", 10));
        assertThat(exchange(channel(), request("PATCH", "/config", "{\"pause\": true}"))).startsWith("HTTP/1.1 200");
        var after = session.read().config().orElseThrow();
        assertThat(after.pause()).isTrue();
        assertThat(after.ttl()).as("the rest of the key as it was").isEqualTo(30);
        // and a second PATCH on the same stale snapshot builds on the first, not on what the snapshot had
        assertThat(exchange(channel(), request("PATCH", "/config", "{\"loop_wait\": 5}"))).startsWith("HTTP/1.1 200");
        assertThat(session.read().config().orElseThrow().pause()).isTrue();
        assertThat(session.read().config().orElseThrow().loopWait()).isEqualTo(5);
    }

    @Test
    void reloadIsScheduled() {
        assertThat(exchange(channel(), request("POST", "/reload", ""))).startsWith("HTTP/1.1 202")
                .contains("reload scheduled");
        assertThat(reloads).hasValue(1);
    }

    /** n1 leads (on its lease), n2 and n3 are members. */
    private FakeDcs.Session clusterWithLeaderN1() {
        session.keepAlive(30);
        session.tryAcquireLeader();
        session.publishMember(member("n1"));
        for (String n : java.util.List.of("n2", "n3")) {
            FakeDcs.Session other = dcs.session(n);
            other.keepAlive(30);
            other.publishMember(member(n));
        }
        session.initializeConfig(Map.of("ttl", 30, "loop_wait", 10, "retry_timeout", 10));
        peers.set(java.util.List.of(replica("n2", false), replica("n3", false)));
        return session;
    }

    private static Member member(String n) {
        return new Member(n, "postgres://" + n + ":5432/postgres", "http://" + n + ":8008/patroni", "running",
                n.equals("n1") ? "primary" : "replica", 1, 1000, null, Map.of(), 0);
    }

    private static PeerStatus replica(String name, boolean nofailover) {
        return new PeerStatus(name, true, true, true, 1000, 1, nofailover, 1, "streaming");
    }

    @Test
    void switchoverAndFailoverRequestsAreValidatedAsPatroniDoes() {
        clusterWithLeaderN1();
        assertThat(exchange(channel(), request("POST", "/switchover", "{\"candidate\": \"n2\"}")))
                .startsWith("HTTP/1.1 400").endsWith("Switchover could be performed only from a specific leader");
        assertThat(exchange(channel(), request("POST", "/failover", "{\"leader\": \"n1\"}")))
                .startsWith("HTTP/1.1 400").endsWith("Failover could be performed only to a specific candidate");
        assertThat(exchange(channel(), request("POST", "/switchover", "{\"leader\": \"n1\", \"candidate\": \"n1\"}")))
                .startsWith("HTTP/1.1 400").endsWith("Switchover target and source are the same");
        assertThat(exchange(channel(), request("POST", "/switchover", "{\"leader\": \"n2\", \"candidate\": \"n3\"}")))
                .startsWith("HTTP/1.1 412").endsWith("leader name does not match");
        assertThat(exchange(channel(), request("POST", "/switchover", "{\"leader\": \"n1\", \"candidate\": \"zz\"}")))
                .startsWith("HTTP/1.1 412").endsWith("candidate does not exists");
        peers.set(java.util.List.of(replica("n2", true)));
        assertThat(exchange(channel(), request("POST", "/switchover", "{\"leader\": \"n1\", \"candidate\": \"n2\"}")))
                .startsWith("HTTP/1.1 412").endsWith("no good candidates have been found");
        assertThat(exchange(channel(), request("POST", "/failover", "{\"candidate\": \"n2\", \"scheduled_at\": \"2026-01-01T01:00:00+00:00\"}")))
                .startsWith("HTTP/1.1 400").endsWith("Failover can't be scheduled");
        assertThat(exchange(channel(), request("POST", "/switchover", "{\"leader\": \"n1\", \"scheduled_at\": \"2026-01-01T01:00:00\"}")))
                .startsWith("HTTP/1.1 400").endsWith("Timezone information is mandatory for the scheduled switchover");
        assertThat(exchange(channel(), request("POST", "/switchover", "{\"leader\": \"n1\", \"scheduled_at\": \"2025-01-01T01:00:00+00:00\"}")))
                .startsWith("HTTP/1.1 422").endsWith("Cannot schedule switchover in the past");
        assertThat(exchange(channel(), request("POST", "/switchover", "{\"leader\": \"n1\", \"scheduled_at\": \"tomorrow\"}")))
                .startsWith("HTTP/1.1 422").contains("Unable to parse scheduled timestamp");
        assertThat(exchange(channel(), "POST /switchover HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"))
                .startsWith("HTTP/1.1 400");
        assertThat(session.read().failover()).as("no refused request reaches etcd").isEmpty();
        assertThat(wakeups).hasValue(0);
    }

    /**
     * n1 leads with n2 and n3 (both healthy) in synchronous_mode {@code mode}; the sync key, written by n1, names
     * {@code voters} (null: no sync key). A request that passes the checks reaches the leader, which (here) clears the
     * failover key without acting, so it answers 503 "... failed".
     */
    private static java.util.function.Consumer<RestApiHandlerTest> sync(String mode, String voters) {
        return t -> {
            t.clusterWithLeaderN1();
            t.session.writeConfig(Map.of("ttl", 30, "loop_wait", 10, "retry_timeout", 10, "synchronous_mode", mode),
                    -1);
            if (voters != null) {
                assertThat(t.session.writeSync("n1", java.util.List.of(voters.split(",")), 0, 0)).isTrue();
            }
            t.onWake = () -> t.session.deleteFailover(-1);
        };
    }

    private static Arguments precheck(String name, java.util.function.Consumer<RestApiHandlerTest> setup, String path,
                                      String body, int status, String text) {
        return Arguments.of(Named.of(name, setup), request("POST", path, body), status, text);
    }

    /**
     * Patroni 4.1 api.py is_failover_possible in synchronous mode: with synchronous_mode on (not quorum) a switchover
     * goes only to a member the sync key names, and one without a candidate needs such a member; a failover to a
     * named candidate is not held to it (patronictl asks first instead).
     */
    static Stream<Arguments> syncPrecheckRows() {
        String toN3 = "{\"leader\": \"n1\", \"candidate\": \"n3\"}";
        String toN2 = "{\"leader\": \"n1\", \"candidate\": \"n2\"}";
        String anyone = "{\"leader\": \"n1\"}";
        String cannot = "candidate name does not match with sync_standby";
        return Stream.of(
                precheck("on: switchover to an async member", sync("on", "n2"), "/switchover", toN3, 412, cannot),
                precheck("on: switchover to the sync standby", sync("on", "n2"), "/switchover", toN2, 503,
                        "Switchover failed"),
                precheck("on: switchover to a member not in the cluster", sync("on", "n2"), "/switchover",
                        "{\"leader\": \"n1\", \"candidate\": \"zz\"}", 412, cannot),
                precheck("on, no sync key: switchover to n2", sync("on", null), "/switchover", toN2, 412, cannot),
                precheck("on, no sync key: switchover to anyone", sync("on", null), "/switchover", anyone, 412,
                        "switchover is not possible: can not find sync_standby"),
                precheck("on, the key names a departed member: switchover to anyone", sync("on", "n9"), "/switchover",
                        anyone, 412, "switchover is not possible: can not find sync_standby"),
                precheck("on: switchover to anyone, the sync standby is healthy", sync("on", "n2"), "/switchover",
                        anyone, 503, "Switchover failed"),
                precheck("on: switchover to anyone, only the sync standby is asked", sync("on", "n2").andThen(t ->
                        t.peers.set(java.util.List.of(replica("n2", true), replica("n3", false)))), "/switchover",
                        anyone, 412, "switchover is not possible: no good candidates have been found"),
                precheck("on: failover to an async member", sync("on", "n2"), "/failover",
                        "{\"candidate\": \"n3\"}", 503, "Failover failed"),
                precheck("on: failover naming the leader is a switchover", sync("on", "n2"), "/failover", toN3, 412,
                        cannot),
                // issue 12: in quorum mode too a switchover goes only to a member the sync key names (Patroni 4.1
                // checks on mode only)
                precheck("quorum: switchover to a member not in the key", sync("quorum", "n2"), "/switchover", toN3,
                        412, cannot),
                precheck("quorum, no sync key: switchover to anyone", sync("quorum", null), "/switchover", anyone,
                        412, "switchover is not possible: can not find sync_standby"),
                precheck("off: switchover to a member not in a sync key", sync("off", "n2"), "/switchover", toN3, 503,
                        "Switchover failed"),
                precheck("off: no good candidate", sync("off", null).andThen(t ->
                        t.peers.set(java.util.List.of(replica("n2", true), replica("n3", true)))), "/switchover",
                        anyone, 412, "switchover is not possible: no good candidates have been found"),
                precheck("a leader alone: switchover to anyone", t -> {
                    t.session.keepAlive(30);
                    t.session.tryAcquireLeader();
                    t.session.publishMember(member("n1"));
                    t.session.initializeConfig(Map.of("ttl", 30, "loop_wait", 10, "retry_timeout", 10));
                }, "/switchover", anyone, 412,
                        "switchover is not possible: cluster does not have members except leader"),
                precheck("failover naming the leader: no good candidate", sync("off", null).andThen(t ->
                        t.peers.set(java.util.List.of(replica("n2", true)))), "/failover", toN2, 412,
                        "switchover is not possible: no good candidates have been found"));
    }

    private static PeerStatus promised(String name) {
        return new PeerStatus(name, true, true, true, 1000, 1, false, 1, "streaming", true);
    }

    /**
     * A candidate whose failsafe promise runs ({@code failsafe_mode_is_active} in its GET /patroni) could not promote
     * before the promise ends: a switchover to it is refused up front (pgkeel only), and one to anyone skips it.
     */
    static Stream<Arguments> failsafePrecheckRows() {
        String toN2 = "{\"leader\": \"n1\", \"candidate\": \"n2\"}";
        String anyone = "{\"leader\": \"n1\"}";
        return Stream.of(
                precheck("switchover to a candidate whose promise runs: 412", sync("off", null).andThen(t ->
                        t.peers.set(java.util.List.of(promised("n2")))), "/switchover", toN2, 412,
                        "switchover is not possible: candidate 'n2' promised a primary in failsafe mode not to become"
                                + " primary for now (failsafe_mode_is_active)"),
                precheck("failover to a candidate whose promise runs: 412", sync("off", null).andThen(t ->
                        t.peers.set(java.util.List.of(promised("n2")))), "/failover", "{\"candidate\": \"n2\"}",
                        412, "failover is not possible: candidate 'n2' promised a primary in failsafe mode not to"
                                + " become primary for now (failsafe_mode_is_active)"),
                precheck("switchover to anyone, every replica's promise runs: no good candidate",
                        sync("off", null).andThen(t -> t.peers.set(java.util.List.of(promised("n2"), promised("n3")))),
                        "/switchover", anyone, 412, "switchover is not possible: no good candidates have been found"),
                precheck("switchover to anyone, one replica's promise runs: the other one goes (to the leader)",
                        sync("off", null).andThen(t -> t.peers.set(java.util.List.of(promised("n2"),
                                replica("n3", false)))), "/switchover", anyone, 503, "Switchover failed"),
                precheck("switchover to a candidate whose promise does not run: to the leader", sync("off", null)
                        .andThen(t -> t.peers.set(java.util.List.of(replica("n2", false)))), "/switchover", toN2, 503,
                        "Switchover failed"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("failsafePrecheckRows")
    void switchoverToACandidateWhosePromiseRunsIsRefused(java.util.function.Consumer<RestApiHandlerTest> setup,
                                                        String raw, int status, String text) {
        switchoverPrechecksInSynchronousModeArePatronis(setup, raw, status, text);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("syncPrecheckRows")
    void switchoverPrechecksInSynchronousModeArePatronis(java.util.function.Consumer<RestApiHandlerTest> setup,
                                                         String raw, int status, String text) {
        setup.accept(this);
        String r = exchange(channel(), raw);
        assertThat(r).startsWith("HTTP/1.1 " + status + " ");
        assertThat(r.substring(r.indexOf("\r\n\r\n") + 4)).isEqualTo(text);
    }

    @Test
    void switchoverWritesTheFailoverKeyAndAnswersOnceAnotherMemberLeads() {
        clusterWithLeaderN1();
        FakeDcs.Session n2 = dcs.session("n2");
        onWake = () -> {
            assertThat(session.read().failover().orElseThrow().member()).isEqualTo("n2");
            session.releaseLeader();
            n2.keepAlive(30);
            n2.tryAcquireLeader();
            n2.deleteFailover(-1);
        };
        assertThat(exchange(channel(), request("POST", "/switchover", "{\"leader\": \"n1\", \"candidate\": \"n2\"}")))
                .startsWith("HTTP/1.1 200").contains("text/html").endsWith("Successfully switched over to \"n2\"");
    }

    @Test
    void switchoverThatTheLeaderRefusesAnswers503() {
        clusterWithLeaderN1();
        onWake = () -> session.deleteFailover(-1);
        assertThat(exchange(channel(), request("POST", "/switchover", "{\"leader\": \"n1\", \"candidate\": \"n2\"}")))
                .startsWith("HTTP/1.1 503").endsWith("Switchover failed");
    }

    @Test
    void scheduledSwitchoverIsWrittenAndCanBeCancelled() {
        clusterWithLeaderN1();
        assertThat(exchange(channel(), request("POST", "/switchover",
                "{\"leader\": \"n1\", \"scheduled_at\": \"2026-01-01T01:00:00+00:00\"}")))
                .startsWith("HTTP/1.1 202").endsWith("Switchover scheduled");
        assertThat(session.read().failover().orElseThrow().scheduledAt()).isEqualTo("2026-01-01T01:00:00Z");
        assertThat(exchange(channel(), request("DELETE", "/switchover", ""))).startsWith("HTTP/1.1 200")
                .endsWith("scheduled switchover deleted");
        assertThat(session.read().failover()).isEmpty();
        assertThat(exchange(channel(), request("DELETE", "/switchover", ""))).startsWith("HTTP/1.1 404")
                .endsWith("no switchover is scheduled");
    }

    @Test
    void restartAndReinitializeGoThroughTheLoopAndReportItsAnswer() {
        assertThat(exchange(channel(), request("POST", "/restart", ""))).startsWith("HTTP/1.1 200")
                .endsWith("restarted successfully");
        assertThat(exchange(channel(), request("POST", "/restart", "{\"role\": \"boss\"}"))).startsWith("HTTP/1.1 400");
        assertThat(exchange(channel(), request("POST", "/restart", "{\"schedule\": \"2025-01-01T01:00:00+00:00\"}")))
                .startsWith("HTTP/1.1 422").endsWith("Cannot schedule restart in the past");
        assertThat(exchange(channel(), request("POST", "/restart", "{\"schedule\": \"2026-01-01T01:00:00+00:00\","
                + " \"role\": \"replica\"}"))).startsWith("HTTP/1.1 202").endsWith("Restart scheduled");
        assertThat(operator.scheduled).isEqualTo(java.time.Instant.parse("2026-01-01T01:00:00Z"));
        assertThat(operator.scheduledRole).isEqualTo("replica");
        assertThat(exchange(channel(), request("POST", "/restart", "{\"schedule\": \"2026-01-01T02:00:00+00:00\"}")))
                .startsWith("HTTP/1.1 409");
        assertThat(exchange(channel(), request("DELETE", "/restart", ""))).startsWith("HTTP/1.1 200")
                .endsWith("scheduled restart deleted");
        assertThat(exchange(channel(), request("DELETE", "/restart", ""))).startsWith("HTTP/1.1 404");
        operator.answer = r -> CompletableFuture.completedFuture(RequestOutcome.refused(
                RequestRefusal.I_AM_THE_LEADER, "not reinitializing: I am the leader, can not reinitialize"));
        assertThat(exchange(channel(), request("POST", "/reinitialize", "{\"force\": true}"))).startsWith("HTTP/1.1 503")
                .endsWith("\r\n\r\nI am the leader, can not reinitialize");
    }

    @Test
    void otherWriteMethodsAreNotImplemented() {
        assertThat(exchange(channel(), request("POST", "/no-such-thing", "{}"))).startsWith("HTTP/1.1 501")
                .contains("Message: Unsupported method (&#x27;POST&#x27;).".replace("&#x27;", "'"));
    }

    private static final String NO_LENGTH = "\r\nHost: x\r\n\r\n";

    /** A refusal by the HA loop, of a kind, with its explanation (which goes to the log, not to the answer). */
    private static java.util.function.Consumer<RestApiHandlerTest> refuses(RequestRefusal refusal, String reason) {
        return t -> t.operator.answer = r -> CompletableFuture.completedFuture(RequestOutcome.refused(refusal, reason));
    }

    private static Arguments writeRow(String name, java.util.function.Consumer<RestApiHandlerTest> setup, String raw,
                                      int status, String body) {
        return Arguments.of(Named.of(name, setup), raw, status, body);
    }

    private static String page(int code) {
        return "<p>Error code: " + code + "</p>";
    }

    /**
     * Patroni 4.1's answers to every write endpoint, path by path: (state, request) -> status and text. The
     * function each row comes from in patroni/api.py (or ha.py for the HA loop's answers) is named in the row.
     */
    static Stream<Arguments> writeRows() {
        java.util.function.Consumer<RestApiHandlerTest> none = t -> { };
        java.util.function.Consumer<RestApiHandlerTest> leader = t -> t.clusterWithLeaderN1();
        java.util.function.Consumer<RestApiHandlerTest> paused = t -> {
            t.session.initializeConfig(Map.of("ttl", 30, "loop_wait", 10, "retry_timeout", 10, "pause", true));
            t.snapshotFromDcs();
        };
        return Stream.of(
                // _read_json_content: no Content-Length where a body is required -> send_error(411)
                writeRow("do_POST_switchover: no Content-Length", leader, "POST /switchover HTTP/1.1" + NO_LENGTH, 411,
                        page(411)),
                writeRow("do_POST_failover: no Content-Length", leader, "POST /failover HTTP/1.1" + NO_LENGTH, 411,
                        page(411)),
                writeRow("do_PATCH_config: no Content-Length", leader, "PATCH /config HTTP/1.1" + NO_LENGTH, 411,
                        page(411)),
                writeRow("do_PUT_config: no Content-Length", leader, "PUT /config HTTP/1.1" + NO_LENGTH, 411,
                        page(411)),
                writeRow("do_POST_citus: no Content-Length", none, "POST /citus HTTP/1.1" + NO_LENGTH, 411, page(411)),
                writeRow("do_POST_mpp: no Content-Length", none, "POST /mpp HTTP/1.1" + NO_LENGTH, 411, page(411)),
                // _read_json_content: empty, not JSON, not an object, or {} where required -> send_error(400)
                writeRow("do_POST_switchover: Content-Length 0", leader,
                        "POST /switchover HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 400, page(400)),
                writeRow("do_POST_switchover: {}", leader, request("POST", "/switchover", "{}"), 400, page(400)),
                writeRow("do_POST_failover: [1]", leader, request("POST", "/failover", "[1]"), 400, page(400)),
                writeRow("do_PATCH_config: not JSON", leader, request("PATCH", "/config", "{nope"), 400, page(400)),
                writeRow("do_POST_restart: [1]", none, request("POST", "/restart", "[1]"), 400, page(400)),
                // body_is_optional: no Content-Length or {} is an empty request
                writeRow("do_POST_restart: no Content-Length", none, "POST /restart HTTP/1.1" + NO_LENGTH, 200,
                        "restarted successfully"),
                writeRow("do_POST_restart: {}", none, request("POST", "/restart", "{}"), 200, "restarted successfully"),
                writeRow("do_POST_restart: unknown key", none, request("POST", "/restart", "{\"bogus\": 1}"), 400,
                        "Unknown filter for the scheduled restart: bogus"),
                writeRow("do_POST_restart: timeout 0", none, request("POST", "/restart", "{\"timeout\": 0}"), 400,
                        "Timeout should be a positive number of seconds"),
                writeRow("do_POST_restart: bad role", none, request("POST", "/restart", "{\"role\": \"boss\"}"), 400,
                        "PostgreSQL role should be either primary, standby_leader, or replica"),
                writeRow("do_POST_restart -> postgres_version_to_int: 10", none,
                        request("POST", "/restart", "{\"postgres_version\": \"10\"}"), 400,
                        "Invalid PostgreSQL version format: X.Y or X.Y.Z is accepted: 10"),
                writeRow("do_POST_restart -> postgres_version_to_int: a.b", none,
                        request("POST", "/restart", "{\"postgres_version\": \"a.b\"}"), 400,
                        "Invalid PostgreSQL version: a.b"),
                writeRow("do_POST_restart: schedule in pause", paused,
                        request("POST", "/restart", "{\"schedule\": \"2026-01-01T01:00:00+00:00\"}"), 500,
                        "Can't schedule restart in the paused state"),
                writeRow("do_POST_restart: a second schedule", t -> t.operator.scheduled = java.time.Instant.EPOCH,
                        request("POST", "/restart", "{\"schedule\": \"2026-01-01T01:00:00+00:00\"}"), 409,
                        "Another restart is already scheduled"),
                writeRow("ha.restart: role does not match", refuses(RequestRefusal.CONDITIONS_NOT_SATISFIED,
                        "not restarting: this member is a primary, not a"
                        + " replica"), request("POST", "/restart", "{\"role\": \"replica\"}"), 503,
                        "restart conditions are not satisfied"),
                writeRow("ha.restart: another action runs", refuses(RequestRefusal.ALREADY_IN_PROGRESS,
                        "another request is already in progress"),
                        request("POST", "/restart", ""), 503, "restart already in progress"),
                writeRow("ha.reinitialize: on the leader", refuses(RequestRefusal.I_AM_THE_LEADER,
                        "not reinitializing: I am the leader, can not reinitialize"), request("POST", "/reinitialize", ""), 503,
                        "I am the leader, can not reinitialize"),
                writeRow("ha.reinitialize: no leader", refuses(RequestRefusal.CLUSTER_HAS_NO_LEADER,
                        "not reinitializing: cluster has no leader, can not reinitialize"), "POST /reinitialize HTTP/1.1" + NO_LENGTH, 503,
                        "Cluster has no leader, can not reinitialize"),
                writeRow("ha.reinitialize: another action runs", refuses(RequestRefusal.ALREADY_IN_PROGRESS,
                        "another request is already in progress"),
                        request("POST", "/reinitialize", "{\"force\": false}"), 503,
                        "reinitialize already in progress"),
                // the kind of refusal chooses the text, whatever the loop's sentence says
                writeRow("ha.restart: the loop did something more urgent", refuses(RequestRefusal.NOT_CARRIED_OUT,
                        "demoting self because the leader lease could not be renewed; another request is already in"
                                + " progress"), request("POST", "/restart", ""), 503, "restart failed"),
                writeRow("ha.restart: a primary without the leader key", refuses(
                        RequestRefusal.CONDITIONS_NOT_SATISFIED, "PAUSE: not restarting"),
                        request("POST", "/restart", ""), 503, "restart conditions are not satisfied"),
                writeRow("ha.reinitialize: not carried out", refuses(RequestRefusal.NOT_CARRIED_OUT,
                        "not reinitializing: I am the leader, can not reinitialize (before the key was lost)"),
                        request("POST", "/reinitialize", ""), 503, "reinitialize failed"),
                writeRow("do_POST_reinitialize: started", none, request("POST", "/reinitialize", ""), 200,
                        "reinitialize started"),
                writeRow("do_DELETE_restart: none scheduled", none, request("DELETE", "/restart", ""), 404,
                        "no restarts are scheduled"),
                writeRow("do_DELETE_switchover: none scheduled", leader, request("DELETE", "/switchover", ""), 404,
                        "no switchover is scheduled"),
                writeRow("do_POST_reload", none, request("POST", "/reload", ""), 202, "reload scheduled"),
                writeRow("do_PATCH_config: no config key", t -> t.snapshotFromDcs(),
                        request("PATCH", "/config", "{\"ttl\": 40}"), 503, page(503)),
                writeRow("do_POST_citus: not a coordinator", none, request("POST", "/citus", "{\"type\": \"x\"}"), 200,
                        "OK"),
                writeRow("do_POST_mpp: not a coordinator", none, request("POST", "/mpp", "{\"type\": \"x\"}"), 200,
                        "OK"),
                writeRow("do_POST_sigterm", none, request("POST", "/sigterm", ""), 202, "shutdown scheduled"),
                writeRow("do_POST_failsafe: failsafe_mode off", none,
                        request("POST", "/failsafe", "{\"name\": \"n2\"}"), 502, page(502)),
                writeRow("do_GET_failsafe: failsafe_mode off", none, "GET /failsafe HTTP/1.1" + NO_LENGTH, 502,
                        page(502)),
                writeRow("no do_DELETE_x: http.server's 501", none, request("DELETE", "/config", ""), 501,
                        "<p>Message: Unsupported method ('DELETE').</p>"),
                writeRow("do_POST_switchover: leader name does not match", leader,
                        request("POST", "/switchover", "{\"leader\": \"n2\", \"candidate\": \"n3\"}"), 412,
                        "leader name does not match"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("writeRows")
    void writeEndpointsAnswerAsPatroni(java.util.function.Consumer<RestApiHandlerTest> setup, String raw, int status,
                                       String body) {
        setup.accept(this);
        String r = exchange(channel(), raw);
        assertThat(r).startsWith("HTTP/1.1 " + status + " ");
        String content = r.substring(r.indexOf("\r\n\r\n") + 4);
        if (body.startsWith("<p>")) {
            assertThat(r).contains("content-type: text/html;charset=utf-8");
            assertThat(content).startsWith("<!DOCTYPE HTML>").contains(body);
        } else {
            assertThat(r).contains("content-type: text/html\r\n");
            assertThat(content).isEqualTo(body);
        }
    }
}

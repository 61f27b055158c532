package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgkeel.common.Clock;
import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.cluster.SyncKey;
import io.pgkeel.common.dcs.Dcs;
import io.pgkeel.common.dcs.DcsException;
import io.pgkeel.common.dcs.LeaseRenewal;
import io.pgkeel.dcs.EtcdDcsFactory;
import io.pgkeel.dcs.EtcdSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The etcd DCS against a real etcd: Patroni's layout, CAS, lease expiry, watch, garbage and a frozen etcd. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EtcdDcsIT {
    private Path dir;
    private EtcdCluster etcd;

    @BeforeAll
    void startEtcd() {
        dir = Host.tempDir("pgkeel-it-etcd-");
        etcd = EtcdCluster.start(dir);
    }

    @AfterAll
    void stopEtcd() {
        if (etcd != null) {
            etcd.close();
        }
        Host.deleteTree(dir);
    }

    private Dcs connect(String scope, String member) {
        return EtcdDcsFactory.connect(new EtcdSettings(List.of("http://" + etcd.endpoint()), "/service/" + scope + "/",
                member, Duration.ofSeconds(2), "test", Clock.system()));
    }

    private static Member member(String name) {
        return new Member(name, "postgres://127.0.0.1:5432/postgres", "http://127.0.0.1:8008/patroni", "running",
                "replica", 1, 100, "streaming", Map.of("nofailover", false), 0);
    }

    @Test
    void onlyOneMemberAcquiresTheLeaderKeyAndOnlyItsHolderReleasesIt() {
        try (Dcs a = connect("cas", "a"); Dcs b = connect("cas", "b")) {
            a.keepAlive(10);
            b.keepAlive(10);
            assertThat(a.tryAcquireLeader()).isTrue();
            assertThat(b.tryAcquireLeader()).isFalse();
            ClusterView view = b.read();
            assertThat(view.leader()).hasValueSatisfying(l -> assertThat(l.name()).isEqualTo("a"));
            assertThat(etcd.get("/service/cas/leader")).hasValue("a");
            assertThat(b.releaseLeader()).isFalse();
            assertThat(a.releaseLeader()).isTrue();
            assertThat(b.read().leader()).isEmpty();
            assertThat(b.tryAcquireLeader()).isTrue();
        }
    }

    @Test
    void aNewTtlMovesTheLeaderKeyOntoANewLeaseOfThatTtlAndFailoverAndCasStillWork() {
        try (Dcs a = connect("ttl", "a"); Dcs b = connect("ttl", "b")) {
            LeaseRenewal first = a.keepAlive(10);
            b.keepAlive(10);
            assertThat(a.tryAcquireLeader()).isTrue();
            LeaseRenewal moved = a.keepAlive(25);
            assertThat(moved.leaseId()).isNotEqualTo(first.leaseId());
            assertThat(moved.ttlSeconds()).isEqualTo(25);
            assertThat(etcd.leaseOf("/service/ttl/leader")).isEqualTo(moved.leaseId());
            assertThat(etcd.leaseRemainingSeconds(moved.leaseId())).isGreaterThan(20);
            assertThat(a.keepAlive(25).leaseId()).as("no churn once moved").isEqualTo(moved.leaseId());
            // b moves too, and it never held the key: the key stays a's
            b.keepAlive(25);
            assertThat(b.read().leader()).hasValueSatisfying(l -> assertThat(l.name()).isEqualTo("a"));
            assertThat(a.writeFailover("a", "b", null, 0)).isTrue();
            assertThat(a.writeFailover("a", "b", null, 0)).as("CAS: the key exists now").isFalse();
            long rev = b.read().failover().orElseThrow().modRevision();
            assertThat(b.deleteFailover(rev + 1)).isFalse();
            assertThat(b.deleteFailover(rev)).isTrue();
            assertThat(etcd.get("/service/ttl/failover")).isEmpty();
        }
    }

    @Test
    void keysOnALeaseVanishWhenItIsNotRenewedAndTheNextRefreshGrantsANewOne() {
        try (Dcs a = connect("expiry", "a")) {
            LeaseRenewal first = a.keepAlive(2);
            assertThat(first.granted()).isTrue();
            a.publishMember(member("a"));
            assertThat(a.tryAcquireLeader()).isTrue();
            Await.until(Duration.ofSeconds(15), "the leader and member keys to expire with the lease",
                    () -> etcd.get("/service/expiry/leader").isEmpty() && etcd.get("/service/expiry/members/a").isEmpty());
            LeaseRenewal next = a.keepAlive(2);
            assertThat(next.granted()).isTrue();
            assertThat(next.leaseId()).isNotEqualTo(first.leaseId());
        }
    }

    @Test
    void renewalIsMeasuredFromTheMomentItWasSent() {
        try (Dcs a = connect("renew", "a")) {
            a.keepAlive(10);
            long before = System.nanoTime();
            LeaseRenewal r = a.keepAlive(10);
            long after = System.nanoTime();
            assertThat(r.granted()).isFalse();
            assertThat(r.sentAtNanos()).isBetween(before, after);
            assertThat(r.ttlSeconds()).isEqualTo(10);
        }
    }

    @Test
    void writesPatronisLayoutAndReadsItBack() {
        try (Dcs a = connect("layout", "a")) {
            a.keepAlive(10);
            a.publishMember(member("a"));
            assertThat(a.tryInitialize("")).isTrue();
            assertThat(a.tryInitialize("")).isFalse();
            a.setInitialize("7123");
            assertThat(a.initializeConfig(Map.of("ttl", 20, "loop_wait", 2))).isTrue();
            assertThat(a.initializeConfig(Map.of("ttl", 99))).as("config is written once").isFalse();
            a.writeStatus(4242, java.util.Set.of("gone_member"));
            ClusterView v = a.read();
            assertThat(v.initialize()).hasValue("7123");
            assertThat(v.config()).hasValueSatisfying(c -> assertThat(c.ttl()).isEqualTo(20));
            assertThat(v.lastLeaderLsn()).hasValue(4242L);
            assertThat(v.retainedSlots()).containsExactly("gone_member");
            assertThat(v.members()).singleElement().satisfies(m -> assertThat(m.apiUrl())
                    .isEqualTo("http://127.0.0.1:8008/patroni"));
            assertThat(etcd.get("/service/layout/status")).hasValue("{\"optime\":4242,\"retain_slots\":[\"gone_member\"]}");
            assertThat(etcd.get("/service/layout/members/a")).hasValueSatisfying(j -> assertThat(j)
                    .contains("\"conn_url\":\"postgres://127.0.0.1:5432/postgres\"").contains("\"state\":\"running\""));
        }
    }

    @Test
    void garbageTypedIntoKeysIsTreatedAsAbsent() {
        etcd.put("/service/garbage/members/x", "this is not json");
        etcd.put("/service/garbage/config", "[1,2,3]");
        etcd.put("/service/garbage/status", "{\"optime\": \"later\"}");
        etcd.put("/service/garbage/failover", "{{{");
        try (Dcs a = connect("garbage", "a")) {
            a.keepAlive(10);
            a.publishMember(member("a"));
            ClusterView v = a.read();
            assertThat(v.members()).extracting(Member::name).containsExactly("a");
            assertThat(v.config()).isEmpty();
            assertThat(v.lastLeaderLsn()).isEmpty();
            assertThat(v.failover()).isEmpty();
            assertThat(a.initializeConfig(Map.of("ttl", 30))).as("garbage is never overwritten").isFalse();
            assertThat(etcd.get("/service/garbage/config")).hasValue("[1,2,3]");
        }
    }

    @Test
    void valuesOtherPatroniVersionsWroteSurviveTheWritesOfALeader() {
        String history = "[[1,25165984,\"no recovery target specified\",\"2020-12-10T18:37:06.718112+08:00\"],"
                + "[2,50331808,\"no recovery target specified\",\"2024-03-01T09:00:00+00:00\",\"pg2\"]]";
        String config = "{\"ttl\":30,\"loop_wait\":10,\"retry_timeout\":10,\"synchronous_mode\":\"quorum\","
                + "\"postgresql\":{\"parameters\":{\"max_connections\":100,\"wal_log_hints\":true,"
                + "\"shared_buffers\":\"128MB\",\"checkpoint_completion_target\":0.9}},\"x_vendor\":{\"a\":[1,null]}}";
        etcd.put("/service/shapes/history", history);
        etcd.put("/service/shapes/config", config);
        etcd.put("/service/shapes/status",
                "{\"optime\":67395656,\"slots\":{\"standby_dc2\":67395600},\"retain_slots\":[\"pg2\"]}");
        try (Dcs a = connect("shapes", "a")) {
            ClusterView v = a.read();
            assertThat(v.lastLeaderLsn()).hasValue(67395656L);
            a.writeStatus(67400000, java.util.Set.of("pg2", "pg3"));
            assertThat(etcd.get("/service/shapes/status")).as("slots, which pgkeel does not track, are kept")
                    .hasValue("{\"optime\":67400000,\"slots\":{\"standby_dc2\":67395600},\"retain_slots\":[\"pg2\",\"pg3\"]}");
            a.writeHistory(v.history());
            assertThat(etcd.get("/service/shapes/history")).hasValue(history);
            Map<String, Object> patched = io.pgkeel.common.cluster.ConfigPatch.merge(v.config().orElseThrow().raw(),
                    Map.of("ttl", 20));
            assertThat(a.writeConfig(patched, v.config().orElseThrow().modRevision())).isTrue();
            assertThat(etcd.get("/service/shapes/config")).hasValue(config.replace("\"ttl\":30", "\"ttl\":20"));
        }
    }

    /**
     * The {@code sync} key (synchronous replication): written by CAS only (0: create only; a stale revision is
     * refused), deleted by CAS, stored byte for byte as Patroni 4.1 writes it ({@code json.dumps(..., separators=(',',
     * ':'))}: the expected strings were printed by python3's json module), Patroni 3.0.2's value (no quorum) read, and
     * garbage read as a key naming nobody rather than as no key.
     */
    @Test
    void theSyncKeyIsWrittenByCasInPatronisBytesAndGarbageNamesNobody() {
        String key = "/service/sync/sync";
        try (Dcs a = connect("sync", "pg1"); Dcs b = connect("sync", "pg2")) {
            assertThat(a.read().sync()).isEmpty();
            assertThat(a.writeSync("pg1", List.of("pg3", "pg2"), 1, 0)).isTrue();
            assertThat(b.writeSync("pg2", List.of(), 0, 0)).as("0 = create only: the key exists now").isFalse();
            assertThat(etcd.get(key)).hasValue("{\"leader\":\"pg1\",\"quorum\":1,\"sync_standby\":\"pg2,pg3\"}");
            SyncKey written = b.read().sync().orElseThrow();
            assertThat(written).isEqualTo(new SyncKey("pg1", List.of("pg2", "pg3"), 1, written.modRevision()));

            long rev = written.modRevision();
            assertThat(a.writeSync("pg1", List.of("pg2"), 0, rev)).isTrue();
            assertThat(etcd.get(key)).hasValue("{\"leader\":\"pg1\",\"quorum\":0,\"sync_standby\":\"pg2\"}");
            assertThat(b.writeSync("pg1", List.of("pg2", "pg3"), 1, rev)).as("a stale revision is refused").isFalse();
            long now = a.read().sync().orElseThrow().modRevision();
            assertThat(now).isGreaterThan(rev);
            assertThat(a.deleteSync(rev)).as("delete: a stale revision is refused").isFalse();
            assertThat(etcd.get(key)).isPresent();
            assertThat(a.deleteSync(now)).isTrue();
            assertThat(etcd.get(key)).isEmpty();
            assertThat(b.read().sync()).isEmpty();
            assertThat(a.deleteSync(now)).as("already gone").isFalse();

            assertThat(a.writeSync("pg1", List.of(), 0, 0)).as("created again after a delete").isTrue();
            assertThat(etcd.get(key)).hasValue("{\"leader\":\"pg1\",\"quorum\":0,\"sync_standby\":null}");
            long none = b.read().sync().orElseThrow().modRevision();
            assertThat(a.writeSync("pg1", List.of("pg\u00fc"), 0, none)).isTrue();
            assertThat(etcd.get(key)).as("escaped as Python's json.dumps does")
                    .hasValue("{\"leader\":\"pg1\",\"quorum\":0,\"sync_standby\":\"pg\\u00fc\"}");
            assertThat(b.read().sync().orElseThrow().voters()).containsExactly("pg\u00fc");

            etcd.put(key, "{\"leader\":\"pg1\",\"sync_standby\":\"pg3\"}");
            assertThat(b.read().sync()).as("Patroni 3.0.2's value").hasValueSatisfying(k -> {
                assertThat(k.leader()).isEqualTo("pg1");
                assertThat(k.voters()).containsExactly("pg3");
                assertThat(k.quorum()).isZero();
            });

            etcd.put(key, "{}");
            SyncKey empty = b.read().sync().orElseThrow();
            assertThat(empty.leader()).as("{} (Patroni's empty key) names nobody, and keeps its revision").isEmpty();
            assertThat(a.writeSync("pg1", List.of("pg3"), 0, empty.modRevision()))
                    .as("the leader replaces an empty key by CAS on its revision").isTrue();
            etcd.put(key, "{\"leader\":\"pg1\",\"quorum\":\"many\",\"sync_standby\":\"pg2\"}");
            SyncKey garbage = b.read().sync().orElseThrow();
            assertThat(garbage.leader()).as("garbage names nobody").isEmpty();
            assertThat(garbage.voters()).isEmpty();
            assertThat(garbage.matches("pg1", true)).isFalse();
            assertThat(garbage.matches("pg2", true)).isFalse();
            assertThat(a.writeSync("pg1", List.of("pg2"), 0, garbage.modRevision()))
                    .as("the leader replaces garbage by CAS on its revision").isTrue();
            assertThat(b.read().sync().orElseThrow().voters()).containsExactly("pg2");
        }
    }

    @Test
    void theLeaderPositionOfPatroniBefore21IsRead() {
        etcd.put("/service/legacy/optime/leader", "67395656");
        try (Dcs a = connect("legacy", "a")) {
            assertThat(a.read().lastLeaderLsn()).hasValue(67395656L);
        }
    }

    @Test
    void leaderChangesAndNewMembersWakeTheWatcherButMemberHeartbeatsDoNot() {
        try (Dcs a = connect("watch", "a"); Dcs b = connect("watch", "b")) {
            AtomicInteger wakes = new AtomicInteger();
            b.watch(wakes::incrementAndGet);
            a.keepAlive(10);
            Await.pause(300);
            int beforeNew = wakes.get();
            a.publishMember(member("a"));
            Await.until(Duration.ofSeconds(5), "a wake-up for a new member", () -> wakes.get() > beforeNew);
            Await.pause(300);
            int before = wakes.get();
            for (int i = 0; i < 5; i++) {
                a.publishMember(member("a"));
            }
            Await.pause(500);
            assertThat(wakes.get()).as("member heartbeats do not wake loops").isEqualTo(before);
            assertThat(a.tryAcquireLeader()).isTrue();
            Await.until(Duration.ofSeconds(5), "a wake-up for the new leader key", () -> wakes.get() > before);
            int afterAcquire = wakes.get();
            assertThat(a.releaseLeader()).isTrue();
            Await.until(Duration.ofSeconds(5), "a wake-up for the deleted leader key", () -> wakes.get() > afterAcquire);
        }
    }

    @Test
    void aFrozenEtcdFailsEachCallWithinTheTimeout() {
        try (Dcs a = connect("frozen", "a")) {
            a.keepAlive(10);
            etcd.freeze();
            try {
                long start = System.nanoTime();
                assertThatThrownBy(a::read).isInstanceOf(DcsException.class);
                assertThatThrownBy(() -> a.keepAlive(10)).isInstanceOf(DcsException.class);
                assertThat(System.nanoTime() - start).as("two calls, each bounded by the 2 s call timeout")
                        .isLessThan(Duration.ofSeconds(8).toNanos());
            } finally {
                etcd.thaw();
            }
            Await.until(Duration.ofSeconds(20), "etcd to answer again", () -> {
                try {
                    a.read();
                    return true;
                } catch (DcsException e) {
                    return false;
                }
            });
        }
    }
}

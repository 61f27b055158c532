package io.pgkeel.testing;

import io.pgkeel.common.Clock;
import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.DynamicConfigParser;
import io.pgkeel.common.cluster.FailoverKey;
import io.pgkeel.common.cluster.LeaderKey;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.cluster.SyncKey;
import io.pgkeel.common.dcs.Dcs;
import io.pgkeel.common.dcs.DcsException;
import io.pgkeel.common.dcs.LeaseRenewal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * An in-memory etcd for one cluster: real revisions, compare-and-set, leases that expire on a {@link FakeClock}
 * (deleting their keys), watches, and faults (a member partitioned away, the whole store down). Each agent talks
 * to it through its own {@link #session(String)}. Synchronized: sessions may be used from several threads.
 */
public final class FakeDcs {
    /** The status key's value: the leader's position and the departed members' slots it keeps. */
    record Status(long optime, Set<String> retainSlots) {}

    private record Entry(Object value, long createRevision, long modRevision, long lease) {}

    private final Clock clock;
    private final TreeMap<String, Entry> keys = new TreeMap<>();
    private final Map<Long, Long> leaseExpiry = new HashMap<>();
    private final Map<Long, Long> leaseTtl = new HashMap<>();
    private final Set<String> partitioned = new HashSet<>();
    /** Members whose failsafe key writes land late: each is held, its answer lost ({@link #holdFailsafeWrites}). */
    private final Set<String> holdingFailsafeWrites = new HashSet<>();
    private final List<Map<String, String>> heldFailsafeWrites = new ArrayList<>();
    private final List<Runnable> watchers = new ArrayList<>();
    private final Map<String, Long> slow = new HashMap<>();
    private final Map<String, Integer> failNext = new HashMap<>();
    private final Map<String, Long> failNextTimeout = new HashMap<>();
    private long revision;
    private long nextLease = 0x1000;
    private boolean down;

    public FakeDcs(Clock clock) {
        this.clock = clock;
    }

    public Session session(String member) {
        return new Session(member, clock);
    }

    /**
     * A session of an agent whose own monotonic clock is {@code agentClock}: lease refreshes report their send
     * time on it (as EtcdDcs does), while etcd expires leases on the store's clock.
     */
    public Session session(String member, Clock agentClock) {
        return new Session(member, agentClock);
    }

    /**
     * etcd answers {@code member} (or everyone, for {@code "*"}) later than the client waits: each request fails
     * after blocking the caller {@code timeoutNanos} (its call timeout), and a lease refresh among them still
     * reaches etcd (the lease is extended; the client only saw the late reply too late). Other requests time out
     * before etcd applies them. Until {@link #notSlow}.
     */
    public synchronized void slow(String member, long timeoutNanos) {
        slow.put(member, timeoutNanos);
    }

    public synchronized void notSlow(String member) {
        slow.remove(member);
    }

    /**
     * The next {@code requests} requests of {@code member} time out after blocking it {@code timeoutNanos}, with no
     * effect: its client was connected to an etcd member that just died, and moves to another one after that.
     */
    public synchronized void failNext(String member, int requests, long timeoutNanos) {
        failNext.merge(member, requests, Integer::sum);
        failNextTimeout.put(member, timeoutNanos);
    }

    /** Ends every {@link #slow} and {@link #failNext}. */
    public synchronized void answerPromptly() {
        slow.clear();
        failNext.clear();
    }

    /** etcd's revision now: it changes with every write (a snapshot taken at the same revision is the same). */
    public synchronized long revision() {
        return revision;
    }

    /** The cluster as etcd holds it now, whatever the faults (for the simulation's checks, not for agents). */
    public synchronized ClusterView snapshot() {
        return view();
    }

    /** Requests from {@code member} fail until {@link #heal}. */
    public synchronized void partition(String member) {
        partitioned.add(member);
    }

    public synchronized void heal(String member) {
        partitioned.remove(member);
    }

    /**
     * {@code member}'s failsafe key writes reach etcd but not before their answers are lost (etcd under load: the
     * client times out): each write fails and is held, to land at {@link #landHeldFailsafeWrites}, after any reads
     * made meanwhile.
     */
    public synchronized void holdFailsafeWrites(String member) {
        holdingFailsafeWrites.add(member);
    }

    /** The held failsafe key writes land, in order; later writes are answered again. */
    public synchronized void landHeldFailsafeWrites() {
        heldFailsafeWrites.forEach(w -> put("failsafe", new TreeMap<>(w), 0));
        heldFailsafeWrites.clear();
        holdingFailsafeWrites.clear();
    }

    /** Every request fails (etcd frozen or lost quorum); leases do not expire while it is down. */
    public synchronized void setDown(boolean down) {
        if (this.down && !down) {
            // like etcd after a leader change or restart: leases get a fresh TTL rather than expiring at once
            long now = clock.nanoTime();
            leaseExpiry.replaceAll((id, exp) -> now + TimeUnit.SECONDS.toNanos(leaseTtl.get(id)));
        }
        this.down = down;
    }

    public synchronized boolean isDown() {
        return down;
    }

    /** Expires leases whose time has come (etcd's lessor does this every 500 ms). */
    public synchronized void tick() {
        if (down) {
            return;
        }
        long now = clock.nanoTime();
        List<Long> expired = leaseExpiry.entrySet().stream().filter(e -> now - e.getValue() >= 0).map(Map.Entry::getKey)
                .toList();
        for (Long id : expired) {
            revokeLease(id);
        }
    }

    /** When the lease with this id expires (monotonic nanos), if it exists. */
    public synchronized Optional<Long> leaseExpiry(long leaseId) {
        return Optional.ofNullable(leaseExpiry.get(leaseId));
    }

    public synchronized Optional<String> get(String key) {
        Entry e = keys.get(key);
        return e == null ? Optional.empty() : Optional.of(String.valueOf(e.value()));
    }

    /** What an operator could type with etcdctl: any text under any key. */
    public synchronized void putRaw(String key, String value) {
        put(key, value, 0);
    }

    public synchronized void deleteRaw(String key) {
        delete(key);
    }

    private void revokeLease(long id) {
        leaseExpiry.remove(id);
        leaseTtl.remove(id);
        List<String> owned = keys.entrySet().stream().filter(e -> e.getValue().lease() == id).map(Map.Entry::getKey)
                .toList();
        owned.forEach(this::delete);
    }

    private void put(String key, Object value, long lease) {
        revision++;
        Entry old = keys.get(key);
        keys.put(key, new Entry(value, old == null ? revision : old.createRevision(), revision, lease));
        if (old == null && key.startsWith("members/")) {
            watchers.forEach(Runnable::run);
        } else {
            notifyWatchers(key);
        }
    }

    private void delete(String key) {
        if (keys.remove(key) != null) {
            revision++;
            notifyWatchers(key);
        }
    }

    private void notifyWatchers(String key) {
        if (key.equals("leader") || key.equals("config") || key.equals("failover") || key.equals("initialize")) {
            watchers.forEach(Runnable::run);
        }
    }

    private ClusterView view() {
        Optional<String> init = Optional.ofNullable(keys.get("initialize")).map(e -> String.valueOf(e.value()));
        Optional<LeaderKey> leader = Optional.ofNullable(keys.get("leader"))
                .filter(e -> e.value() instanceof String s && !s.isBlank())
                .map(e -> new LeaderKey((String) e.value(), e.lease(), e.createRevision(), e.modRevision()));
        Optional<DynamicConfig> config = Optional.ofNullable(keys.get("config"))
                .filter(e -> e.value() instanceof Map)
                .map(e -> {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> raw = (Map<String, Object>) e.value();
                    return DynamicConfigParser.parse(raw, "config", new ArrayList<>()).withRevision(e.modRevision());
                });
        Optional<Status> status = Optional.ofNullable(keys.get("status")).filter(e -> e.value() instanceof Status)
                .map(e -> (Status) e.value());
        Optional<Long> optime = status.map(Status::optime);
        Optional<FailoverKey> failover = Optional.ofNullable(keys.get("failover"))
                .filter(e -> e.value() instanceof FailoverKey).map(e -> (FailoverKey) e.value());
        List<Member> members = new ArrayList<>();
        keys.subMap("members/", "members0").forEach((k, e) -> {
            if (e.value() instanceof Member m) {
                members.add(m.withModRevision(e.modRevision()));
            }
        });
        @SuppressWarnings("unchecked")
        List<List<Object>> history = Optional.ofNullable(keys.get("history")).filter(e -> e.value() instanceof List)
                .map(e -> (List<List<Object>>) e.value()).orElse(List.of());
        Optional<SyncKey> sync = Optional.ofNullable(keys.get("sync"))
                .filter(e -> e.value() instanceof SyncKey k && k.leader() != null)
                .map(e -> {
                    SyncKey k = (SyncKey) e.value();
                    return new SyncKey(k.leader(), k.voters(), k.quorum(),
                            e.modRevision());
                });
        // as EtcdDcs: only an object of strings is a failsafe key (putRaw text is garbage, left out)
        @SuppressWarnings("unchecked")
        Optional<Map<String, String>> failsafe = Optional.ofNullable(keys.get("failsafe"))
                .filter(e -> e.value() instanceof Map<?, ?> m && m.values().stream()
                        .allMatch(v -> v instanceof String))
                .map(e -> (Map<String, String>) e.value());
        return new ClusterView(init, config, leader, members, optime, failover, history, revision,
                status.map(Status::retainSlots).orElse(java.util.Set.of()), sync, failsafe);
    }

    /** One agent's connection. */
    public final class Session implements Dcs {
        private final String me;
        private final Clock agentClock;
        private long lease;
        /** Store-clock nanoseconds this session's caller spent blocked in requests that timed out, not yet taken. */
        private long blockedNanos;

        private Session(String me, Clock agentClock) {
            this.me = me;
            this.agentClock = agentClock;
        }

        private void reachable(String what) {
            answered(what);
            Long timeout = slowTimeout();
            if (timeout != null) {
                blockedNanos += timeout;
                throw new DcsException(what + ": timed out (etcd slower than the call timeout) from " + me);
            }
        }

        private Long slowTimeout() {
            return slow.containsKey(me) ? slow.get(me) : slow.get("*");
        }

        /** Every fault but slowness. */
        private void answered(String what) {
            tick();
            if (down || partitioned.contains(me)) {
                throw new DcsException(what + ": DCS is not reachable from " + me);
            }
            Integer failing = failNext.get(me);
            if (failing != null) {
                failNext.compute(me, (k, v) -> v <= 1 ? null : v - 1);
                blockedNanos += failNextTimeout.getOrDefault(me, 0L);
                throw new DcsException(what + ": timed out (etcd member lost) from " + me);
            }
        }

        /** How long (store-clock nanoseconds) the caller was blocked by timed-out requests since the last call. */
        public long takeBlockedNanos() {
            synchronized (FakeDcs.this) {
                long b = blockedNanos;
                blockedNanos = 0;
                return b;
            }
        }

        @Override
        public ClusterView read() {
            synchronized (FakeDcs.this) {
                reachable("read");
                return view();
            }
        }

        @Override
        public LeaseRenewal keepAlive(long ttlSeconds) {
            synchronized (FakeDcs.this) {
                answered("keepalive");
                // the send time on the agent's own clock (EtcdDcs reads it before sending); expiry on etcd's
                long sent = agentClock.nanoTime();
                long now = clock.nanoTime();
                Long timeout = slowTimeout();
                if (timeout != null) {
                    // the refresh reaches etcd after the client stopped waiting: the lease is extended from then on
                    if (lease != 0 && leaseExpiry.containsKey(lease)) {
                        leaseExpiry.put(lease, now + timeout + TimeUnit.SECONDS.toNanos(leaseTtl.get(lease)));
                    }
                    blockedNanos += timeout;
                    throw new DcsException("keepalive: timed out (etcd slower than the call timeout) from " + me);
                }
                if (lease != 0 && leaseExpiry.containsKey(lease) && leaseTtl.get(lease) != ttlSeconds) {
                    // a new ttl needs a new lease; the leader key moves onto it in the same step (see EtcdDcs)
                    long fresh = nextLease++;
                    leaseTtl.put(fresh, ttlSeconds);
                    leaseExpiry.put(fresh, now + TimeUnit.SECONDS.toNanos(ttlSeconds));
                    Entry e = keys.get("leader");
                    if (e != null && me.equals(e.value())) {
                        put("leader", me, fresh);
                    }
                    lease = fresh;
                    return new LeaseRenewal(fresh, sent, ttlSeconds, true);
                }
                if (lease != 0 && leaseExpiry.containsKey(lease)) {
                    leaseExpiry.put(lease, now + TimeUnit.SECONDS.toNanos(leaseTtl.get(lease)));
                    return new LeaseRenewal(lease, sent, leaseTtl.get(lease), false);
                }
                lease = nextLease++;
                leaseTtl.put(lease, ttlSeconds);
                leaseExpiry.put(lease, now + TimeUnit.SECONDS.toNanos(ttlSeconds));
                return new LeaseRenewal(lease, sent, ttlSeconds, true);
            }
        }

        private long requireLease() {
            if (lease == 0 || !leaseExpiry.containsKey(lease)) {
                throw new DcsException("lease not found");
            }
            return lease;
        }

        @Override
        public boolean tryAcquireLeader() {
            synchronized (FakeDcs.this) {
                reachable("acquire");
                long l = requireLease();
                if (keys.containsKey("leader")) {
                    return false;
                }
                put("leader", me, l);
                return true;
            }
        }

        @Override
        public boolean reattachLeader() {
            synchronized (FakeDcs.this) {
                reachable("reattach");
                long l = requireLease();
                Entry e = keys.get("leader");
                if (e == null || !me.equals(e.value())) {
                    return false;
                }
                put("leader", me, l);
                return true;
            }
        }

        @Override
        public boolean releaseLeader() {
            synchronized (FakeDcs.this) {
                reachable("release");
                Entry e = keys.get("leader");
                if (e == null || !me.equals(e.value())) {
                    return false;
                }
                delete("leader");
                return true;
            }
        }

        @Override
        public void publishMember(Member m) {
            synchronized (FakeDcs.this) {
                reachable("publish member");
                put("members/" + me, m, requireLease());
            }
        }

        @Override
        public boolean tryInitialize(String sysid) {
            synchronized (FakeDcs.this) {
                reachable("initialize");
                if (keys.containsKey("initialize")) {
                    return false;
                }
                put("initialize", sysid, 0);
                return true;
            }
        }

        @Override
        public void setInitialize(String sysid) {
            synchronized (FakeDcs.this) {
                reachable("set initialize");
                put("initialize", sysid, 0);
            }
        }

        @Override
        public void cancelInitialize() {
            synchronized (FakeDcs.this) {
                reachable("cancel initialize");
                delete("initialize");
            }
        }

        @Override
        public boolean initializeConfig(Map<String, Object> dynamicConfig) {
            synchronized (FakeDcs.this) {
                reachable("config");
                if (keys.containsKey("config")) {
                    return false;
                }
                put("config", Map.copyOf(dynamicConfig), 0);
                return true;
            }
        }

        @Override
        public boolean writeConfig(Map<String, Object> dynamicConfig, long expectedModRevision) {
            synchronized (FakeDcs.this) {
                reachable("write config");
                Entry e = keys.get("config");
                long current = e == null ? 0 : e.modRevision();
                if (expectedModRevision >= 0 && current != expectedModRevision) {
                    return false;
                }
                put("config", Map.copyOf(dynamicConfig), 0);
                return true;
            }
        }

        @Override
        public boolean writeFailover(String leader, String member, String scheduledAt, long expectedModRevision) {
            synchronized (FakeDcs.this) {
                reachable("write failover");
                Entry e = keys.get("failover");
                long current = e == null ? 0 : e.modRevision();
                if (expectedModRevision >= 0 && current != expectedModRevision) {
                    return false;
                }
                put("failover", new FailoverKey(leader, member, scheduledAt, revision + 1), 0);
                return true;
            }
        }

        @Override
        public boolean deleteFailover(long expectedModRevision) {
            synchronized (FakeDcs.this) {
                reachable("delete failover");
                Entry e = keys.get("failover");
                if (e == null || expectedModRevision >= 0 && e.modRevision() != expectedModRevision) {
                    return false;
                }
                delete("failover");
                return true;
            }
        }

        @Override
        public boolean writeSync(String leader, Collection<String> voters, int quorum,
                                 long expectedModRevision) {
            synchronized (FakeDcs.this) {
                reachable("write sync");
                Entry e = keys.get("sync");
                long current = e == null ? 0 : e.modRevision();
                if (current != expectedModRevision) {
                    return false;
                }
                put("sync", new SyncKey(leader, new TreeSet<>(voters).stream()
                        .toList(), quorum, 0), 0);
                return true;
            }
        }

        @Override
        public boolean deleteSync(long expectedModRevision) {
            synchronized (FakeDcs.this) {
                reachable("delete sync");
                Entry e = keys.get("sync");
                if (e == null || e.modRevision() != expectedModRevision) {
                    return false;
                }
                delete("sync");
                return true;
            }
        }

        @Override
        public void writeFailsafe(Map<String, String> topology) {
            synchronized (FakeDcs.this) {
                reachable("write failsafe");
                if (holdingFailsafeWrites.contains(me)) {
                    heldFailsafeWrites.add(Map.copyOf(topology));
                    throw new DcsException("write failsafe: no answer from etcd within the request timeout");
                }
                put("failsafe", new TreeMap<>(topology), 0);
            }
        }

        @Override
        public void deleteFailsafe() {
            synchronized (FakeDcs.this) {
                reachable("delete failsafe");
                delete("failsafe");
            }
        }

        @Override
        public void removeCluster() {
            synchronized (FakeDcs.this) {
                reachable("remove cluster");
                List.copyOf(keys.keySet()).forEach(FakeDcs.this::delete);
            }
        }

        @Override
        public void writeHistory(List<List<Object>> history) {
            synchronized (FakeDcs.this) {
                reachable("history");
                put("history", List.copyOf(history), 0);
            }
        }

        @Override
        public void writeStatus(long optime, Set<String> retainSlots) {
            synchronized (FakeDcs.this) {
                reachable("status");
                put("status", new Status(optime, Set.copyOf(retainSlots)), 0);
            }
        }

        @Override
        public void watch(Runnable onChange) {
            synchronized (FakeDcs.this) {
                watchers.add(onChange);
            }
        }

        @Override
        public void close() {
            synchronized (FakeDcs.this) {
                if (!down && !partitioned.contains(me) && lease != 0) {
                    revokeLease(lease);
                }
                lease = 0;
            }
        }
    }
}

package io.pgkeel.dcs;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.FailoverKey;
import io.pgkeel.common.cluster.LeaderKey;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.cluster.SyncKey;
import io.pgkeel.common.dcs.Dcs;
import io.pgkeel.common.dcs.DcsException;
import io.pgkeel.common.dcs.LeaseRenewal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Dcs} on etcd v3 through jetcd, in Patroni's key layout. jetcd types never leave this class.
 *
 * <p>Thread-safety: called from several threads at once. The HA loop calls every method; the REST API's
 * {@code rest-writes} pool calls {@link #read}, {@link #writeConfig}, {@link #writeFailover} and
 * {@link #deleteFailover} (operator writes, which need no lease); {@code pgkeel ctl} uses its own instance, without a
 * lease. jetcd's clients are thread-safe; this class's own state is: {@code leaseId} and {@code leaseRequestedTtl}
 * are guarded by {@code this}, {@code reportedGarbage} is a concurrent set, the member in use is an atomic index
 * moved by compare-and-set, the watch is a {@link WatchSlot} (which guards itself), the call timeout and
 * the watch callback are volatile. The watch callback runs
 * on a jetcd thread and only calls the supplied Runnable.
 */
final class EtcdDcs implements Dcs {
    private static final Logger log = LoggerFactory.getLogger(EtcdDcs.class);

    private final EtcdSettings settings;
    /** One jetcd client per etcd member (see {@link #current}). */
    private final List<MemberClient> members;
    /**
     * The member requests go to: the first, until a request to it times out or finds it unavailable; then the
     * next. A hung member thus costs one call timeout, where gRPC's round robin over all members would keep
     * sending it a share of the requests until its keepalive gives up (10 s or more). Patroni's etcd clients also
     * stay on one member and move on when it fails.
     */
    private final AtomicInteger current = new AtomicInteger();
    /** The current member's KV client, whichever member that is when a request is made. */
    private final KV kv;
    /** What the watch wakes, kept to move the watch with the current member; null before {@link #watch}. */
    private volatile Runnable watchCallback;
    private final ByteSequence prefix;
    private final ByteSequence leaderKey;
    private final ByteSequence memberKey;
    private final ByteSequence initializeKey;
    private final ByteSequence configKey;
    private final ByteSequence statusKey;
    private final ByteSequence failoverKey;
    private final ByteSequence syncKey;
    private final ByteSequence failsafeKey;
    private final ByteSequence me;
    /** Garbage already reported, by key and revision, so a bad key is logged once, not every cycle. */
    private final Set<String> reportedGarbage = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService watchRestarter;
    private final EtcdErrors errors;

    private long leaseId;
    /** The TTL this agent asked for when its lease was granted (etcd may round it up). */
    private long leaseRequestedTtl;
    /** The current watch by generation; callbacks of earlier ones are ignored, their watchers closed. */
    private final WatchSlot watchSlot = new WatchSlot();
    /** Watch failures in a row, for the re-watch pause. */
    private final AtomicInteger watchFailures = new AtomicInteger();
    private volatile boolean closed;
    /**
     * The status key as last read, so that the leader's rewrite keeps the fields other Patroni versions put there
     * ({@code slots}); null when it was absent.
     */
    private volatile String lastStatus;
    /** Bound on each request; follows retry_timeout and ttl in the config key. */
    private volatile long callTimeoutMillis;

    EtcdDcs(EtcdSettings settings) {
        this.settings = settings;
        Duration timeout = settings.callTimeout();
        this.callTimeoutMillis = timeout.toMillis();
        List<MemberClient> clients = new ArrayList<>();
        for (String endpoint : settings.endpoints()) {
            clients.add(new MemberClient(endpoint, clientBuilder(settings, endpoint)
                    .connectTimeout(timeout)
                    // jetcd retries on its own (also to authenticate again); bound it so that a call never
                    // outlives our own timeout by much, and a dead member is left after a few quick tries
                    .retryMaxAttempts(2)
                    .retryMaxDuration(timeout)
                    .retryDelay(100)
                    .retryMaxDelay(500)
                    .retryChronoUnit(java.time.temporal.ChronoUnit.MILLIS)
                    .keepaliveTime(Duration.ofSeconds(5))
                    .keepaliveTimeout(Duration.ofSeconds(3))
                    // fail fast instead of waiting for a connection: a refused TLS handshake or a dead member is
                    // then reported as such (with its cause) rather than as a timeout
                    .waitForReady(false)
                    .build()));
        }
        this.members = List.copyOf(clients);
        this.kv = (KV) java.lang.reflect.Proxy.newProxyInstance(KV.class.getClassLoader(), new Class<?>[] {KV.class},
                (proxy, method, args) -> {
                    try {
                        return method.invoke(currentMember().client().getKVClient(), args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        this.prefix = bytes(settings.prefix());
        this.leaderKey = bytes(settings.prefix() + "leader");
        this.memberKey = bytes(settings.prefix() + "members/" + settings.memberName());
        this.initializeKey = bytes(settings.prefix() + "initialize");
        this.configKey = bytes(settings.prefix() + "config");
        this.statusKey = bytes(settings.prefix() + "status");
        this.failoverKey = bytes(settings.prefix() + "failover");
        this.syncKey = bytes(settings.prefix() + "sync");
        this.failsafeKey = bytes(settings.prefix() + "failsafe");
        this.me = bytes(settings.memberName());
        this.errors = new EtcdErrors(settings);
        this.watchRestarter = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "dcs-watch-restart");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * jetcd's builder for one member, with TLS when they are https (trusting etcd3.cacert, presenting
     * etcd3.cert) and etcd's user when a user and a password are set. jetcd authenticates on the first call and
     * again when etcd answers that the token is invalid or the auth store has moved on.
     *
     * @throws IllegalArgumentException naming the setting and the file when the TLS material cannot be used
     */
    private static ClientBuilder clientBuilder(EtcdSettings settings, String endpoint) {
        ClientBuilder b = Client.builder().endpoints(endpoint);
        if (settings.tls()) {
            try {
                b.sslContext(ssl -> EtcdTls.configure(ssl, settings.security()));
            } catch (javax.net.ssl.SSLException e) {
                throw new IllegalArgumentException("etcd3: the TLS settings cannot be used: " + e.getMessage(), e);
            }
        }
        EtcdSettings.Security security = settings.security();
        if (security.authenticates()) {
            b.user(bytes(security.username().orElseThrow())).password(bytes(security.password().orElseThrow()));
        }
        return b;
    }

    @Override
    public ClusterView read() {
        GetResponse response = await(kv.get(prefix, GetOption.builder().isPrefix(true).build()),
                "read " + settings.prefix());
        String base = settings.prefix();
        Optional<String> initialize = Optional.empty();
        Optional<DynamicConfig> config = Optional.empty();
        Optional<LeaderKey> leader = Optional.empty();
        Optional<Long> optime = Optional.empty();
        Optional<Long> legacyOptime = Optional.empty();
        String statusText = null;
        java.util.Set<String> retained = java.util.Set.of();
        Optional<FailoverKey> failover = Optional.empty();
        Optional<SyncKey> sync = Optional.empty();
        Optional<java.util.Map<String, String>> failsafe = Optional.empty();
        List<List<Object>> history = List.of();
        List<Member> members = new ArrayList<>();
        for (KeyValue kvp : response.getKvs()) {
            String key = kvp.getKey().toString(StandardCharsets.UTF_8);
            String value = kvp.getValue().toString(StandardCharsets.UTF_8);
            String name = key.substring(base.length());
            long rev = kvp.getModRevision();
            switch (name) {
                case "initialize" -> initialize = Optional.of(value.trim());
                case "leader" -> {
                    ValueCodec.Decoded<String> d = ValueCodec.leader(value);
                    if (check(key, rev, d)) {
                        leader = Optional.of(new LeaderKey(d.value(), kvp.getLease(), kvp.getCreateRevision(), rev));
                    }
                }
                case "config" -> {
                    List<String> problems = new ArrayList<>();
                    ValueCodec.Decoded<DynamicConfig> d = ValueCodec.config(value, rev, problems);
                    if (check(key, rev, d)) {
                        config = Optional.of(d.value());
                        if (!problems.isEmpty() && reportedGarbage.add(key + "@" + rev + "#fields")) {
                            log.warn("{} (revision {}): {}", key, rev, String.join("; ", problems));
                        }
                    }
                }
                case "history" -> {
                    ValueCodec.Decoded<List<List<Object>>> d = ValueCodec.history(value);
                    if (check(key, rev, d)) {
                        history = d.value();
                    }
                }
                case "status" -> {
                    ValueCodec.Decoded<ValueCodec.Status> d = ValueCodec.status(value);
                    if (check(key, rev, d)) {
                        optime = Optional.of(d.value().optime());
                        retained = d.value().retainSlots();
                        statusText = value;
                    }
                }
                case "optime/leader" -> {
                    // Patroni before 2.1 keeps the leader's position here (Patroni reads it when status is absent)
                    ValueCodec.Decoded<ValueCodec.Status> d = ValueCodec.status(value);
                    if (check(key, rev, d)) {
                        legacyOptime = Optional.of(d.value().optime());
                    }
                }
                case "failover" -> {
                    ValueCodec.Decoded<FailoverKey> d = ValueCodec.failover(value, rev);
                    if (d.isOk()) {
                        failover = Optional.of(d.value());
                    } else if (!"empty".equals(d.problem())) {
                        check(key, rev, d);
                    }
                }
                case "sync" -> {
                    ValueCodec.Decoded<SyncKey> d = ValueCodec.sync(value, rev);
                    if (d.isOk()) {
                        sync = Optional.of(d.value());
                    } else {
                        if (!"empty".equals(d.problem()) && reportedGarbage.add(key + "@" + rev)) {
                            log.warn("{} (revision {}): {}; it names no synchronous standby until the leader rewrites"
                                    + " it", key, rev, d.problem());
                        }
                        // unlike Patroni (garbage or {} = no key = any member may be promoted), such a key names
                        // nobody: no standby is promoted on it, and the leader rewrites it on its revision
                        // (docs/decisions.md)
                        sync = Optional.of(new SyncKey("", List.of(), 0, rev));
                    }
                }
                case "failsafe" -> {
                    ValueCodec.Decoded<java.util.Map<String, String>> d = ValueCodec.failsafe(value);
                    if (d.isOk()) {
                        failsafe = Optional.of(d.value());
                    } else if (!"empty".equals(d.problem())) {
                        check(key, rev, d);
                    }
                }
                default -> {
                    if (name.startsWith("members/") && name.length() > "members/".length()) {
                        ValueCodec.Decoded<Member> d = ValueCodec.member(name.substring("members/".length()), value,
                                rev);
                        if (check(key, rev, d)) {
                            members.add(d.value());
                        }
                    }
                }
            }
        }
        lastStatus = statusText;
        return new ClusterView(initialize, config, leader, members, optime.isPresent() ? optime : legacyOptime,
                failover, history, response.getHeader().getRevision(), retained, sync, failsafe);
    }

    private boolean check(String key, long revision, ValueCodec.Decoded<?> decoded) {
        if (decoded.isOk()) {
            return true;
        }
        if (reportedGarbage.add(key + "@" + revision)) {
            log.warn("ignoring {} (revision {}): {}; treating the key as absent", key, revision, decoded.problem());
        }
        return false;
    }

    /**
     * Refreshes the lease once (jetcd's keepAliveOnce: one request, one answer; no background keep-alive that
     * would hide a stuck agent). A lease etcd no longer knows is replaced by a new grant.
     */
    @Override
    public synchronized LeaseRenewal keepAlive(long ttlSeconds) {
        long sentAt = settings.clock().nanoTime();
        if (leaseId != 0 && ttlSeconds != leaseRequestedTtl) {
            return moveToNewLease(ttlSeconds);
        }
        if (leaseId != 0) {
            try {
                // a renewal that times out is cancelled in await, but jetcd 0.8's keepAliveOnce returns
                // future.whenComplete(end the stream): cancelling that derived future ends neither the inner one nor
                // the stream, which stays open on the member just moved away from until it answers or gRPC's
                // keepalive (5 s + 3 s, set in the constructor) drops the connection: at most one stream per
                // timed-out renewal, for seconds; not fixable from outside jetcd
                LeaseKeepAliveResponse r = awaitLease(
                        currentMember().client().getLeaseClient().keepAliveOnce(leaseId), "renew lease");
                if (r.getTTL() > 0) {
                    return new LeaseRenewal(leaseId, sentAt, r.getTTL(), false);
                }
                log.warn("lease {} has expired in etcd; granting a new one", Long.toHexString(leaseId));
            } catch (DcsException e) {
                if (!isLeaseNotFound(e)) {
                    throw e;
                }
                log.warn("lease {} is not known to etcd any more; granting a new one", Long.toHexString(leaseId));
            }
            leaseId = 0;
            sentAt = settings.clock().nanoTime();
        }
        long id = awaitLease(currentMember().client().getLeaseClient().grant(ttlSeconds), "grant lease").getID();
        leaseId = id;
        leaseRequestedTtl = ttlSeconds;
        return new LeaseRenewal(id, sentAt, ttlSeconds, true);
    }

    /**
     * The ttl in the config key changed: an etcd lease keeps the TTL it was granted with, so grant a new one and, in
     * one transaction, move the leader key onto it if it is mine. Until that transaction succeeds the key stays on
     * the old lease, whose deadline the caller still holds: a failure here is an ordinary failed renewal. The member
     * key follows when it is next published; the old lease then expires with nothing on it.
     */
    private LeaseRenewal moveToNewLease(long ttlSeconds) {
        long sentAt = settings.clock().nanoTime();
        long id = awaitLease(currentMember().client().getLeaseClient().grant(ttlSeconds), "grant lease").getID();
        try {
            await(kv.txn()
                    .If(new Cmp(leaderKey, Cmp.Op.EQUAL, CmpTarget.value(me)))
                    .Then(Op.put(leaderKey, me, PutOption.builder().withLeaseId(id).build()))
                    .commit(), "move leader key onto the new lease");
        } catch (DcsException e) {
            currentMember().client().getLeaseClient().revoke(id);
            throw e;
        }
        log.info("ttl is now {} s: moved to lease {} (was {})", ttlSeconds, Long.toHexString(id),
                Long.toHexString(leaseId));
        leaseId = id;
        leaseRequestedTtl = ttlSeconds;
        return new LeaseRenewal(id, sentAt, ttlSeconds, true);
    }

    private static boolean isLeaseNotFound(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof EtcdException ee && ee.getErrorCode() == ErrorCode.NOT_FOUND) {
                return true;
            }
            if (t.getMessage() != null && t.getMessage().contains("requested lease not found")) {
                return true;
            }
        }
        return false;
    }

    private synchronized long lease() {
        if (leaseId == 0) {
            throw new DcsException("no lease yet");
        }
        return leaseId;
    }

    @Override
    public boolean tryAcquireLeader() {
        PutOption onLease = PutOption.builder().withLeaseId(lease()).build();
        TxnResponse r = await(kv.txn()
                .If(new Cmp(leaderKey, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
                .Then(Op.put(leaderKey, me, onLease))
                .commit(), "acquire leader key");
        return r.isSucceeded();
    }

    @Override
    public boolean reattachLeader() {
        PutOption onLease = PutOption.builder().withLeaseId(lease()).build();
        TxnResponse r = await(kv.txn()
                .If(new Cmp(leaderKey, Cmp.Op.EQUAL, CmpTarget.value(me)))
                .Then(Op.put(leaderKey, me, onLease))
                .commit(), "move leader key onto my lease");
        return r.isSucceeded();
    }

    @Override
    public boolean releaseLeader() {
        TxnResponse r = await(kv.txn()
                .If(new Cmp(leaderKey, Cmp.Op.EQUAL, CmpTarget.value(me)))
                .Then(Op.delete(leaderKey, DeleteOption.DEFAULT))
                .commit(), "release leader key");
        return r.isSucceeded();
    }

    @Override
    public void publishMember(Member m) {
        PutOption onLease = PutOption.builder().withLeaseId(lease()).build();
        await(kv.put(memberKey, bytes(ValueCodec.encodeMember(m, settings.agentVersion())), onLease), "publish member");
    }

    @Override
    public boolean tryInitialize(String systemIdentifier) {
        TxnResponse r = await(kv.txn()
                .If(new Cmp(initializeKey, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
                .Then(Op.put(initializeKey, bytes(systemIdentifier), PutOption.DEFAULT))
                .commit(), "race for initialize key");
        return r.isSucceeded();
    }

    @Override
    public void setInitialize(String systemIdentifier) {
        await(kv.put(initializeKey, bytes(systemIdentifier)), "write initialize key");
    }

    @Override
    public void cancelInitialize() {
        await(kv.delete(initializeKey), "delete initialize key");
    }

    @Override
    public boolean initializeConfig(Map<String, Object> dynamicConfig) {
        TxnResponse r = await(kv.txn()
                .If(new Cmp(configKey, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
                .Then(Op.put(configKey, bytes(ValueCodec.json(dynamicConfig)), PutOption.DEFAULT))
                .commit(), "write config key");
        return r.isSucceeded();
    }

    @Override
    public boolean writeConfig(Map<String, Object> dynamicConfig, long expectedModRevision) {
        ByteSequence value = bytes(ValueCodec.json(dynamicConfig));
        if (expectedModRevision < 0) {
            await(kv.put(configKey, value), "write config key");
            return true;
        }
        TxnResponse r = await(kv.txn().If(revisionIs(configKey, expectedModRevision))
                .Then(Op.put(configKey, value, PutOption.DEFAULT)).commit(), "write config key");
        return r.isSucceeded();
    }

    @Override
    public boolean writeFailover(String leader, String member, String scheduledAt, long expectedModRevision) {
        ByteSequence value = bytes(ValueCodec.encodeFailover(leader, member, scheduledAt));
        if (expectedModRevision < 0) {
            await(kv.put(failoverKey, value), "write failover key");
            return true;
        }
        TxnResponse r = await(kv.txn().If(revisionIs(failoverKey, expectedModRevision))
                .Then(Op.put(failoverKey, value, PutOption.DEFAULT)).commit(), "write failover key");
        return r.isSucceeded();
    }

    @Override
    public boolean deleteFailover(long expectedModRevision) {
        if (expectedModRevision < 0) {
            return await(kv.delete(failoverKey), "delete failover key").getDeleted() > 0;
        }
        TxnResponse r = await(kv.txn().If(revisionIs(failoverKey, expectedModRevision))
                .Then(Op.delete(failoverKey, DeleteOption.DEFAULT)).commit(), "delete failover key");
        return r.isSucceeded();
    }

    @Override
    public boolean writeSync(String leader, java.util.Collection<String> voters, int quorum, long expectedModRevision) {
        ByteSequence value = bytes(ValueCodec.encodeSync(leader, voters, quorum));
        TxnResponse r = await(kv.txn().If(revisionIs(syncKey, expectedModRevision))
                .Then(Op.put(syncKey, value, PutOption.DEFAULT)).commit(), "write sync key");
        return r.isSucceeded();
    }

    @Override
    public boolean deleteSync(long expectedModRevision) {
        TxnResponse r = await(kv.txn().If(revisionIs(syncKey, expectedModRevision))
                .Then(Op.delete(syncKey, DeleteOption.DEFAULT)).commit(), "delete sync key");
        return r.isSucceeded();
    }

    @Override
    public void writeFailsafe(java.util.Map<String, String> topology) {
        await(kv.put(failsafeKey, bytes(ValueCodec.encodeFailsafe(topology))), "write failsafe key");
    }

    @Override
    public void deleteFailsafe() {
        await(kv.delete(failsafeKey), "delete failsafe key");
    }

    /** Revision 0 means "the key must not exist". */
    private static Cmp revisionIs(ByteSequence key, long modRevision) {
        return modRevision == 0 ? new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(0))
                : new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(modRevision));
    }

    @Override
    public void callTimeout(Duration timeout) {
        callTimeoutMillis = Math.max(1, timeout.toMillis());
    }

    @Override
    public void removeCluster() {
        await(kv.delete(prefix, DeleteOption.builder().isPrefix(true).build()), "remove cluster keys");
    }

    @Override
    public void writeHistory(List<List<Object>> history) {
        await(kv.put(bytes(settings.prefix() + "history"), bytes(ValueCodec.json(history))), "write history key");
    }

    @Override
    public void writeStatus(long optime, java.util.Set<String> retainSlots) {
        await(kv.put(statusKey, bytes(ValueCodec.encodeStatus(lastStatus, optime, retainSlots))), "write status key");
    }

    @Override
    public void watch(Runnable onChange) {
        watchCallback = onChange;
        startWatch(onChange, watchSlot.next());
    }

    /**
     * Starts watch number {@code generation}. Only the current generation's callbacks count: jetcd may report an
     * error more than once for one watcher, and go on calling a watcher it has resumed on its own, so without the
     * generation check every error would start another watch and their errors multiply (thousands of wake-ups a
     * second and a heap filled within a minute of an etcd quorum loss: JetcdRecoveryIT).
     */
    private void startWatch(Runnable onChange, long generation) {
        if (closed) {
            return;
        }
        WatchOption option = WatchOption.builder().isPrefix(true).withRequireLeader(true).build();
        watchSlot.start(generation, () -> currentMember().client().getWatchClient().watch(prefix, option,
                Watch.listener(
                    response -> {
                        if (!watchSlot.isCurrent(generation)) {
                            return;
                        }
                        watchFailures.set(0);
                        if (response.getEvents().stream().anyMatch(e -> wakesTheLoop(e.getKeyValue()))) {
                            onChange.run();
                        }
                    },
                    error -> {
                        // a broken watch must not leave replicas deaf to a vanished leader: wake the loop once,
                        // re-watch
                        if (restartWatchLater(onChange, generation)) {
                            log.debug("watch on {} failed: {}; re-watching", settings.prefix(), error.toString());
                            onChange.run();
                        }
                    },
                    () -> restartWatchLater(onChange, generation))));
    }

    /**
     * Only the keys that change what a node must do wake the loops: member keys are rewritten as members change,
     * and waking on those would make every loop spin on every other loop's heartbeat. A member key that is new
     * (version 1) does wake them: the leader creates the newcomer's replication slot at once.
     */
    private boolean wakesTheLoop(KeyValue kv) {
        String name = kv.getKey().toString(StandardCharsets.UTF_8).substring(settings.prefix().length());
        return WAKING_KEYS.contains(name) || name.startsWith("members/") && kv.getVersion() == 1;
    }

    private static final Set<String> WAKING_KEYS = Set.of("leader", "config", "failover", "initialize");

    /**
     * Replaces watch {@code generation} by a new one after a pause that doubles with each failure in a row (0.5 s up
     * to 8 s: an etcd without quorum fails every watch at once). False when that generation was replaced already.
     */
    private boolean restartWatchLater(Runnable onChange, long generation) {
        if (closed || !watchSlot.replace(generation)) {
            return false;
        }
        int failures = Math.min(watchFailures.incrementAndGet(), 5);
        watchRestarter.schedule(() -> startWatch(onChange, generation + 1), 250L << failures, TimeUnit.MILLISECONDS);
        return true;
    }

    @Override
    public void close() {
        closed = true;
        watchRestarter.shutdownNow();
        watchSlot.close();
        long id;
        synchronized (this) {
            id = leaseId;
            leaseId = 0;
        }
        if (id != 0) {
            try {
                awaitLease(currentMember().client().getLeaseClient().revoke(id), "revoke lease");
            } catch (DcsException e) {
                log.warn("could not revoke lease {} on close: {}; keys expire with it", Long.toHexString(id),
                        e.getMessage());
            }
        }
        members.forEach(m -> m.client().close());
    }

    private record MemberClient(String endpoint, Client client) {}

    private MemberClient currentMember() {
        return members.get(current.get());
    }

    /**
     * Sends the next requests to the next member when member {@code failed} is still the current one (another
     * thread may have moved on already), and moves the watch there too.
     */
    private void moveOn(int failed, String why) {
        if (members.size() < 2) {
            return;
        }
        int next = (failed + 1) % members.size();
        if (current.compareAndSet(failed, next)) {
            log.info("etcd member {} failed ({}): going on with {}", members.get(failed).endpoint(), why,
                    members.get(next).endpoint());
            Runnable onChange = watchCallback;
            if (onChange != null) {
                restartWatchLater(onChange, watchSlot.current());
            }
        }
    }

    /**
     * Waits for {@code future} within the call timeout. A failure is a {@link DcsException} whose message names the
     * operation, the cause (the setting to check) and the endpoints; the first of a streak is also logged.
     */
    private <T> T await(CompletableFuture<T> future, String what) {
        return await(future, what, true);
    }

    /**
     * {@link #await} for a lease request: its answer does not end a streak of failures, since etcd grants and
     * renews leases to any authenticated user, also one that may not touch the cluster's keys.
     */
    private <T> T awaitLease(CompletableFuture<T> future, String what) {
        return await(future, what, false);
    }

    private <T> T await(CompletableFuture<T> future, String what, boolean answerEndsStreak) {
        int used = current.get();
        try {
            T answer = future.get(callTimeoutMillis, TimeUnit.MILLISECONDS);
            if (answerEndsStreak) {
                errors.answered().ifPresent(log::info);
            }
            return answer;
        } catch (TimeoutException e) {
            future.cancel(true);
            errors.failed(e).ifPresent(log::error);
            moveOn(used, "it did not answer within " + callTimeoutMillis + " ms");
            throw new DcsException(what + ": etcd did not answer within " + callTimeoutMillis + " ms (etcd at "
                    + errors.endpoints() + ")", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            errors.failed(cause).ifPresent(log::error);
            if (EtcdErrors.isMemberDown(cause)) {
                moveOn(used, "it is unavailable");
            }
            if (EtcdErrors.isAnswer(cause)) {
                throw new DcsException(what + ": " + cause.getMessage(), cause);
            }
            throw new DcsException(what + ": " + EtcdErrors.cause(cause, settings) + " (etcd at "
                    + errors.endpoints() + ")", cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            future.cancel(true);
            throw new DcsException(what + ": interrupted", e);
        }
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }
}

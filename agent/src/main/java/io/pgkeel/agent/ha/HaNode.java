package io.pgkeel.agent.ha;

import io.pgkeel.common.Clock;
import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.DcsView;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.dcs.Dcs;
import io.pgkeel.common.dcs.DcsException;
import io.pgkeel.common.dcs.LeaseRenewal;
import io.pgkeel.common.pg.LocalPostgres;
import io.pgkeel.common.pg.PgStatus;
import io.pgkeel.common.pg.PostgresException;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One agent's HA cycle: observe (lease refresh, DCS read, PostgreSQL probe, peers when racing), decide
 * ({@link HaPolicy}, pure), act, publish. The same code runs in the daemon ({@link HaLoop}) and in simulated
 * clusters on fakes.
 *
 * <p>Thread confinement: {@link #runCycle()} and {@link #shutdown} are called from one thread only (the loop);
 * {@link #checkFence} may be called from any thread.
 */
public final class HaNode implements OperatorChannel {
    private static final Logger log = LoggerFactory.getLogger(HaNode.class);

    private NodeIdentity identity;
    /** A SIGHUP reload waiting for the loop thread: the new identity and what else to apply there. */
    private final java.util.concurrent.atomic.AtomicReference<Reload> pendingReload =
            new java.util.concurrent.atomic.AtomicReference<>();

    private record Reload(NodeIdentity identity, Runnable applyOnLoop) {}

    /** What became of an operator's request: done, or refused with the reason. */
    public record RequestOutcome(boolean done, String message) {}

    private record PendingRequest(OperatorRequest request, java.util.concurrent.CompletableFuture<RequestOutcome> outcome) {}

    /** Why this leader last cleared a failover key instead of acting on it, and when (monotonic). */
    public record FailoverRefusal(long atNanos, String reason) {}

    private final java.util.concurrent.atomic.AtomicReference<FailoverRefusal> lastFailoverRefusal =
            new java.util.concurrent.atomic.AtomicReference<>();

    /** For the REST API: a switchover request it wrote was refused by this node, and why. */
    @Override
    public Optional<FailoverRefusal> lastFailoverRefusal() {
        return Optional.ofNullable(lastFailoverRefusal.get());
    }

    private final java.util.concurrent.atomic.AtomicReference<PendingRequest> pendingRequest =
            new java.util.concurrent.atomic.AtomicReference<>();
    /** How long a switching-over leader waits for a candidate to receive its shutdown checkpoint. */
    static final long HANDOVER_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(5);
    private final Dcs dcs;
    private final LocalPostgres pg;
    private final PeerClient peerClient;
    private final Clock clock;
    private final Consumer<NodeSnapshot> publisher;
    private final LeaseFence fence;
    private final HaListener listener;
    private long cycleStart;

    private LeaseStatus lease = LeaseStatus.none();
    private DynamicConfig dynamic;
    private ClusterView lastView;
    private long dcsLastSeenEpochSeconds;
    private long lastOptimeWritten = -1;
    private Set<String> lastRetainWritten = Set.of();
    private Action lastAction;
    /** See {@link Observation#notStreamingSinceNanos()}; the followed leader it was measured for. */
    private long notStreamingSince = -1;
    private String notStreamingFrom;
    private boolean acquiredThisCycle;
    private String lastError;
    private volatile Callbacks callbacks = Callbacks.NONE;
    /** For callbacks: the role PostgreSQL last ran in, whether it ran at the end of the last cycle, a restart. */
    private String lastRunningRole;
    private boolean runningLastCycle;
    private boolean restartCallbackPending;
    private int failedReplicaStarts;
    /** Slot name of each member seen in etcd since this agent started -> when last seen (ha-loop thread only). */
    private final java.util.Map<String, Long> memberSlotsSeen = new java.util.HashMap<>();
    /** The config revision whose logical permanent slots were last warned about (ha-loop thread only). */
    private long logicalSlotsWarnedAt = -1;
    private boolean replicaStarting;
    private Member lastPublished;
    private long lastPublishedLease;

    public HaNode(NodeIdentity identity, Dcs dcs, LocalPostgres pg, PeerClient peerClient, Clock clock,
                  Consumer<NodeSnapshot> publisher) {
        this(identity, dcs, pg, peerClient, clock, publisher, HaListener.NONE);
    }

    public HaNode(NodeIdentity identity, Dcs dcs, LocalPostgres pg, PeerClient peerClient, Clock clock,
                  Consumer<NodeSnapshot> publisher, HaListener listener) {
        this.listener = listener;
        this.identity = identity;
        this.dcs = dcs;
        this.pg = pg;
        this.peerClient = peerClient;
        this.clock = clock;
        this.publisher = publisher;
        this.dynamic = identity.bootstrapDynamic();
        this.fence = new LeaseFence(this::fenceStop);
    }

    /** Runs one cycle; returns how long to wait before the next one (the loop may be woken earlier). */
    /**
     * Asks the loop to take a re-read configuration at the start of its next cycle (thread-safe; the loop thread
     * owns all HA state, so the change is applied there, between two cycles).
     */
    public void requestReload(NodeIdentity newIdentity, Runnable applyOnLoop) {
        pendingReload.set(new Reload(newIdentity, applyOnLoop));
    }

    /**
     * Hands an operator's request to the next cycle (thread-safe). Completes when that cycle has carried it out or
     * refused it; a request that arrives while another is pending is refused at once.
     */
    @Override
    public java.util.concurrent.CompletableFuture<RequestOutcome> submit(OperatorRequest request) {
        PendingRequest p = new PendingRequest(request, new java.util.concurrent.CompletableFuture<>());
        if (!pendingRequest.compareAndSet(null, p)) {
            p.outcome().complete(new RequestOutcome(false, "another request is already in progress"));
        }
        return p.outcome();
    }

    /** A restart planned for a wall-clock time (Patroni keeps it in the agent's memory too). */
    record ScheduledRestart(java.time.Instant at, String role) {}

    private final java.util.concurrent.atomic.AtomicReference<ScheduledRestart> scheduledRestart =
            new java.util.concurrent.atomic.AtomicReference<>();

    @Override
    public boolean scheduleRestart(java.time.Instant at, String role) {
        return scheduledRestart.compareAndSet(null, new ScheduledRestart(at, role));
    }

    @Override
    public boolean cancelScheduledRestart() {
        return scheduledRestart.getAndSet(null) != null;
    }

    /** The planned restart, if any (for /patroni). */
    public Optional<java.time.Instant> scheduledRestartAt() {
        return Optional.ofNullable(scheduledRestart.get()).map(ScheduledRestart::at);
    }

    /** A planned restart whose time has come becomes an ordinary request, with nobody waiting for its answer. */
    private void promoteDueRestart() {
        ScheduledRestart due = scheduledRestart.get();
        if (due != null && !clock.now().isBefore(due.at()) && pendingRequest.get() == null
                && scheduledRestart.compareAndSet(due, null)) {
            log.info("the restart scheduled for {} is due", due.at());
            submit(new OperatorRequest.Restart(due.role()));
        }
    }

    /** Patroni's postgresql.callbacks; set before the loop starts. */
    public void setCallbacks(Callbacks callbacks) {
        this.callbacks = callbacks;
    }

    public long runCycle() {
        cycleStart = clock.nanoTime();
        promoteDueRestart();
        Reload reload = pendingReload.getAndSet(null);
        if (reload != null) {
            identity = reload.identity();
            try {
                reload.applyOnLoop().run();
                if (lastRunningRole != null) {
                    callbacks.fire("on_reload", lastRunningRole);
                }
            } catch (RuntimeException e) {
                log.error("applying the reloaded configuration failed: {}", e.getMessage());
            }
        }
        PendingRequest request = pendingRequest.get();
        Observation o = observe(request == null ? Optional.empty() : Optional.of(request.request()));
        Action action = HaPolicy.decide(o);
        log.info("{} {}: {}", roleTag(o.pg()), action.getClass().getSimpleName(), action.reason());
        lastAction = action;
        acquiredThisCycle = false;
        if (request != null && action instanceof Action.Reinitialize) {
            // a clone can take hours: answer once it is under way, as Patroni does ("reinitialize started")
            pendingRequest.set(null);
            request.outcome().complete(new RequestOutcome(true, "reinitialize started"));
            request = null;
        }
        boolean failed = false;
        try {
            act(action, o);
        } catch (DcsException | PostgresException e) {
            failed = true;
            lastError = action.getClass().getSimpleName() + " failed: " + e.getMessage();
            log.error("{} failed: {}", action.getClass().getSimpleName(), e.getMessage());
        } catch (RuntimeException e) {
            failed = true;
            lastError = action.getClass().getSimpleName() + " failed: " + e;
            log.error("unexpected error while acting on {}, please report it as a BUG", action, e);
        }
        if (request != null) {
            pendingRequest.set(null);
            boolean served = action instanceof Action.Restart || action instanceof Action.Reinitialize;
            request.outcome().complete(new RequestOutcome(served && !failed,
                    served ? (failed ? lastError : action.reason()) : action.reason()));
        }
        PgStatus after = changesPostgres(action) ? pg.probe() : o.pg();
        fireCallbacks(action, o.pg(), after);
        boolean holdsKey = acquiredThisCycle || o.dcs().isReachable()
                && o.dcs().cluster().leader().map(l -> l.name().equals(identity.name()) && l.leaseId() == lease.leaseId())
                        .orElse(false);
        updateFence(after);
        if (o.dcs().isReachable() && lease.isHeld()) {
            publishMember(after, o);
        }
        long now = clock.nanoTime();
        listener.cycle(action.getClass().getSimpleName(), now - cycleStart);
        publisher.accept(new NodeSnapshot(identity, after, lastView, o.dcs().isReachable(), holdsKey,
                action.getClass().getSimpleName(), action.reason(), now, dcsLastSeenEpochSeconds, dynamic.ttl(),
                dynamic.loopWait()));
        return nextWait(action, failed, now);
    }

    private Observation observe(Optional<OperatorRequest> request) {
        DcsView view = null;
        long now = clock.nanoTime();
        // The leader renews every cycle: its write window is measured from the last renewal. A replica's lease
        // only carries its member key, so it renews when a third of the ttl has passed, or before a race.
        boolean leaderLastCycle = lastView != null && lastView.isLeader(identity.name());
        long renewEvery = TimeUnit.SECONDS.toNanos(dynamic.ttl()) / 3;
        boolean renewFirst = leaderLastCycle || !lease.isHeld()
                || now - (lease.validUntilNanos() - TimeUnit.SECONDS.toNanos(dynamic.ttl())) >= renewEvery;
        boolean renewed = false;
        if (renewFirst) {
            view = renewLease();
            renewed = view == null;
        }
        if (view == null) {
            try {
                ClusterView c = dcs.read();
                view = DcsView.reachable(c);
                lastView = c;
                dcsLastSeenEpochSeconds = clock.now().getEpochSecond();
                c.config().ifPresent(cfg -> {
                    if (cfg.retryTimeout() != dynamic.retryTimeout() || cfg.ttl() != dynamic.ttl()) {
                        dcs.callTimeout(callTimeoutFor(cfg));
                    }
                    if (cfg.modRevision() != logicalSlotsWarnedAt) {
                        logicalSlotsWarnedAt = cfg.modRevision();
                        java.util.Set<String> logical = io.pgkeel.common.cluster.PermanentSlots.logical(cfg.raw());
                        if (!logical.isEmpty()) {
                            log.warn("config.permanent_slots: logical slots are not supported yet; not keeping {}",
                                    new java.util.TreeSet<>(logical));
                        }
                    }
                    dynamic = cfg;
                });
            } catch (DcsException e) {
                view = DcsView.unreachable(e.getMessage());
            }
        }
        if (!renewed && view.isReachable() && (view.cluster().isUnlocked() || view.cluster().isLeader(identity.name()))) {
            // about to race for (or act on) the leader key: do it on a freshly renewed lease
            DcsView failed = renewLease();
            if (failed != null) {
                view = failed;
            }
        } else if (!renewed) {
            lease = new LeaseStatus(lease.leaseId(), lease.validUntilNanos(), false);
        }
        PgStatus status = pg.probe();
        NodeSettings self = settings();
        List<PeerStatus> peers = List.of();
        boolean namedCandidate = view.isReachable() && view.cluster().failover()
                .map(f -> identity.name().equals(f.member())).orElse(false);
        if (view.isReachable() && view.cluster().isUnlocked() && status.isRunningReplica() && !self.nofailover()
                && !namedCandidate) {
            // (the candidate a failover key names races without asking anyone: every millisecond is write downtime)
            peers = fetchPeers(view.cluster(), false);
        } else if (view.isReachable() && view.cluster().failover().isPresent()
                && Switchovers.isDue(view.cluster().failover().get(), clock.now(), dynamic.loopWait())
                && view.cluster().isLeader(identity.name()) && status.isRunning() && !status.inRecovery()) {
            // a switchover to check: how far the candidates have received, asked live
            peers = fetchPeers(view.cluster(), true);
        }
        now = clock.nanoTime();
        if (status.isRunningReplica() && status.following() != null && !"streaming".equals(status.replicationState())) {
            if (notStreamingSince < 0 || !status.following().equals(notStreamingFrom)) {
                notStreamingSince = now;
                notStreamingFrom = status.following();
            }
        } else {
            notStreamingSince = -1;
            notStreamingFrom = null;
        }
        trackReplicaStarts(status);
        if (view.isReachable()) {
            for (Member m : view.cluster().members()) {
                if (!m.name().equals(identity.name())) {
                    memberSlotsSeen.put(Member.slotName(m.name()), now);
                }
            }
            // departed members' slots a leader keeps, which this agent may never have seen as members: they get a
            // whole member_slots_ttl from now (later than their real departure: never dropped early)
            for (String slot : view.cluster().retainedSlots()) {
                memberSlotsSeen.putIfAbsent(slot, now);
            }
        }
        return new Observation(view, status, lease, peers, self, now, notStreamingSince, clock.now(), request,
                failedReplicaStarts, memberSlotsSeen);
    }

    /**
     * A standby start that ends in STOPPED without ever running counts as a failure; running resets the count.
     * (PostgreSQL exits at once when its WAL is past the point where the leader's timeline forked off.)
     */
    private void trackReplicaStarts(PgStatus status) {
        boolean startedAsReplica = lastAction instanceof Action.StartPostgres sp && !sp.asPrimary()
                || lastAction instanceof Action.Restart r && !r.asPrimary();
        if (status.runState() == io.pgkeel.common.pg.PgRunState.RUNNING) {
            failedReplicaStarts = 0;
            replicaStarting = false;
        } else if (status.runState() == io.pgkeel.common.pg.PgRunState.STARTING) {
            replicaStarting = replicaStarting || startedAsReplica;
        } else if (startedAsReplica || replicaStarting) {
            failedReplicaStarts++;
            replicaStarting = false;
        }
    }

    private List<PeerStatus> fetchPeers(ClusterView c, boolean liveWal) {
        List<Member> others = c.members().stream().filter(m -> !m.name().equals(identity.name())).toList();
        if (others.isEmpty()) {
            return List.of();
        }
        List<PeerStatus> fetched = peerClient.fetch(others);
        if (!liveWal) {
            return fetched;
        }
        List<PeerStatus> out = new java.util.ArrayList<>();
        for (PeerStatus p : fetched) {
            Optional<Member> m = c.member(p.name());
            java.util.OptionalLong live = p.reachable() && p.inRecovery() && m.isPresent() && m.get().connUrl() != null
                    ? pg.receivedLsnOf(m.get()) : java.util.OptionalLong.empty();
            out.add(live.isPresent() ? p.withWalPosition(live.getAsLong()) : p);
        }
        return out;
    }

    /** One lease refresh; null on success, else the DCS observation to use for this cycle. */
    private DcsView renewLease() {
        try {
            LeaseRenewal r = dcs.keepAlive(dynamic.ttl());
            lease = new LeaseStatus(r.leaseId(), r.sentAtNanos() + TimeUnit.SECONDS.toNanos(r.ttlSeconds()), true);
            listener.leaseRenewed(clock.nanoTime() - r.sentAtNanos());
            return null;
        } catch (DcsException e) {
            lease = new LeaseStatus(lease.leaseId(), lease.validUntilNanos(), false);
            return DcsView.unreachable(e.getMessage());
        }
    }

    /** Every etcd request is bounded: a quarter of the ttl, at least 1 s, at most retry_timeout. */
    public static java.time.Duration callTimeoutFor(DynamicConfig c) {
        return java.time.Duration.ofMillis(Math.max(1000, Math.min(c.retryTimeout() * 1000L, c.ttl() * 250L)));
    }

    private NodeSettings settings() {
        boolean rewind = identity.localUsePgRewind().orElse(dynamic.usePgRewind());
        return new NodeSettings(identity.name(), identity.tags(), dynamic, rewind,
                NodeSettings.fenceMarginFor(dynamic.ttl()));
    }

    private void act(Action action, Observation o) {
        if (action instanceof Action.Wait) {
            return;
        }
        if (action instanceof Action.LeadAsPrimary a) {
            leadAsPrimary(a, o);
        } else if (action instanceof Action.DropReplicaSlots a) {
            Set<String> dropped = pg.dropUnusedSlots(a.slots());
            if (dropped.size() != a.slots().size()) {
                log.debug("kept replication slot(s) {}: something streams from them", a.slots().stream()
                        .filter(x -> !dropped.contains(x)).sorted().toList());
            }
        } else if (action instanceof Action.AcquireLeader a) {
            if (!dcs.tryAcquireLeader()) {
                log.info("lost the race for the leader key");
                return;
            }
            acquiredThisCycle = true;
            // a failover key has done its job once someone holds the key (Patroni cleans it the same way)
            o.dcs().cluster().failover().ifPresent(f -> clearFailoverQuietly(f.modRevision()));
            if (a.promote()) {
                pg.promote();
                listener.promoted(clock.nanoTime() - cycleStart);
                log.info("promoted self to leader by acquiring session lock");
                createSlotsQuietly(a.slotsAfterPromote());
            } else {
                log.info("acquired session lock as a leader");
            }
        } else if (action instanceof Action.Promote a) {
            pg.promote();
            listener.promoted(clock.nanoTime() - cycleStart);
            createSlotsQuietly(a.slotsAfterPromote());
        } else if (action instanceof Action.Demote a) {
            pg.stop(LocalPostgres.StopMode.IMMEDIATE);
            fence.disarm();
            if (a.releaseKey()) {
                dcs.releaseLeader();
            }
        } else if (action instanceof Action.Follow a) {
            pg.follow(member(o, a.leader()));
        } else if (action instanceof Action.StartPostgres a) {
            pg.start(a.asPrimary(), a.follow() == null ? null : member(o, a.follow()));
        } else if (action instanceof Action.ReattachLeader) {
            if (!dcs.reattachLeader()) {
                log.info("the leader key no longer names me");
            }
        } else if (action instanceof Action.Rewind a) {
            Member source = member(o, a.leader());
            pg.stop(LocalPostgres.StopMode.FAST);
            switch (pg.rewind(source)) {
                case DONE -> pg.start(false, source);
                case SOURCE_NOT_READY -> {
                    // nothing changed; the next cycle tries again
                }
                case FAILED -> {
                    log.warn("pg_rewind from {} failed; removing the data directory to clone it anew", a.leader());
                    pg.removeDataDirectory();
                }
            }
        } else if (action instanceof Action.CloneFromLeader a) {
            Member source = member(o, a.leader());
            pg.removeDataDirectory();
            publishCloning();
            pg.cloneFrom(source);
            pg.start(false, source);
        } else if (action instanceof Action.Bootstrap) {
            bootstrap();
        } else if (action instanceof Action.Switchover a) {
            switchover(a, o);
        } else if (action instanceof Action.ClearFailoverKey a) {
            lastFailoverRefusal.set(new FailoverRefusal(clock.nanoTime(), a.reason()));
            dcs.deleteFailover(a.failoverRevision());
        } else if (action instanceof Action.ReleaseLeader) {
            dcs.releaseLeader();
        } else if (action instanceof Action.Restart a) {
            pg.stop(LocalPostgres.StopMode.FAST);
            pg.start(a.asPrimary(), a.follow() == null ? null : o.dcs().cluster().member(a.follow()).orElse(null));
        } else if (action instanceof Action.Reinitialize a) {
            Member source = member(o, a.leader());
            pg.stop(LocalPostgres.StopMode.IMMEDIATE);
            pg.removeDataDirectory();
            publishCloning();
            pg.cloneFrom(source);
            pg.start(false, source);
        } else {
            throw new AssertionError("unhandled action " + action);
        }
    }

    /**
     * Planned switchover (see {@link Action.Switchover}). Writes stop at the fast shutdown; the key is released
     * only once a candidate has every byte up to the shutdown checkpoint, so the candidate's promotion loses nothing.
     */
    private void switchover(Action.Switchover a, Observation o) {
        long stopStart = clock.nanoTime();
        pg.stop(LocalPostgres.StopMode.FAST);
        fence.disarm();
        long checkpoint = pg.shutdownCheckpointLsn();
        if (checkpoint < 0) {
            log.warn("switchover: postgres did not report a clean shutdown checkpoint; keeping the leader key");
            clearFailoverQuietly(a.failoverRevision());
            return;
        }
        Member handedTo = null;
        long deadline = clock.nanoTime() + HANDOVER_TIMEOUT_NANOS;
        while (handedTo == null) {
            for (String name : a.candidates()) {
                Optional<Member> m = o.dcs().cluster().member(name);
                if (m.isPresent() && pg.receivedLsnOf(m.get()).orElse(-1) >= checkpoint) {
                    handedTo = m.get();
                    break;
                }
            }
            if (handedTo == null) {
                if (clock.nanoTime() - deadline >= 0) {
                    break;
                }
                clock.sleepNanos(TimeUnit.MILLISECONDS.toNanos(20));
            }
        }
        if (handedTo == null) {
            log.warn("switchover abandoned: no candidate of {} received the shutdown checkpoint {} within {} ms;"
                    + " keeping the leader key, postgres restarts as primary", a.candidates(),
                    io.pgkeel.common.Lsn.format(checkpoint), TimeUnit.NANOSECONDS.toMillis(HANDOVER_TIMEOUT_NANOS));
            clearFailoverQuietly(a.failoverRevision());
            return;
        }
        dcs.writeStatus(checkpoint, lastRetainWritten);
        lastOptimeWritten = checkpoint;
        if (!dcs.releaseLeader()) {
            log.warn("switchover: the leader key no longer named me when releasing it");
        }
        log.info("switchover: '{}' has received the shutdown checkpoint {}; released the leader key {} ms after"
                + " stopping writes", handedTo.name(), io.pgkeel.common.Lsn.format(checkpoint),
                TimeUnit.NANOSECONDS.toMillis(clock.nanoTime() - stopStart));
        pg.startAfterHandover(handedTo);
    }

    /**
     * Patroni's callback points: on_stop when pgkeel stopped a running PostgreSQL, on_restart after a requested
     * restart, on_role_change when it runs again in another role, on_start when it runs again in the same one.
     */
    private void fireCallbacks(Action action, PgStatus before, PgStatus after) {
        boolean stoppedByUs = action instanceof Action.Demote || action instanceof Action.Switchover
                || action instanceof Action.Rewind || action instanceof Action.Reinitialize;
        if (stoppedByUs && before.isRunning() && lastRunningRole != null) {
            callbacks.fire("on_stop", lastRunningRole);
        }
        if (action instanceof Action.Restart) {
            restartCallbackPending = true;
        }
        if (after.isRunning()) {
            String role = after.inRecovery() ? "replica" : "primary";
            if (restartCallbackPending) {
                callbacks.fire("on_restart", role);
                restartCallbackPending = false;
            } else if (lastRunningRole != null && !role.equals(lastRunningRole)) {
                callbacks.fire("on_role_change", role);
            } else if (!runningLastCycle) {
                callbacks.fire("on_start", role);
            }
            lastRunningRole = role;
        }
        runningLastCycle = after.isRunning();
    }

    private void clearFailoverQuietly(long revision) {
        try {
            dcs.deleteFailover(revision);
        } catch (DcsException e) {
            log.warn("could not clear the failover key: {}", e.getMessage());
        }
    }

    private void bootstrap() {
        if (!dcs.tryInitialize("")) {
            log.info("another member won the race to bootstrap the cluster");
            return;
        }
        String sysid;
        try {
            sysid = pg.bootstrap();
        } catch (RuntimeException e) {
            log.error("bootstrap failed; giving the initialize key back so another member can try");
            try {
                pg.stop(LocalPostgres.StopMode.IMMEDIATE);
                pg.removeDataDirectory();
            } finally {
                dcs.cancelInitialize();
            }
            throw e;
        }
        if (!dcs.tryAcquireLeader()) {
            throw new PostgresException("bootstrapped, but the leader key was taken by someone else");
        }
        acquiredThisCycle = true;
        dcs.setInitialize(sysid);
        dcs.initializeConfig(identity.bootstrapDcs());
        log.info("bootstrapped a new cluster with system identifier {}", sysid);
    }

    /** Right after promotion the replicas reconnect at once: have their slots ready (retried by LeadAsPrimary). */
    private void createSlotsQuietly(java.util.Set<String> slots) {
        if (slots.isEmpty()) {
            return;
        }
        try {
            pg.createSlots(slots);
        } catch (PostgresException e) {
            log.warn("could not create replication slots after promotion: {}", e.getMessage());
        }
    }

    /**
     * Patroni's history key from the timeline history file. Entries already in the key keep their timestamp and
     * leader; the newest switch is stamped now, with me as the new leader.
     */
    private void writeHistory(Observation o) {
        List<LocalPostgres.TimelineSwitch> switches = pg.timelineHistory(o.pg().timeline());
        java.util.Map<Long, List<Object>> known = new java.util.HashMap<>();
        for (List<Object> e : o.dcs().cluster().history()) {
            if (!e.isEmpty() && e.get(0) instanceof Number n) {
                known.put(n.longValue(), e);
            }
        }
        List<List<Object>> history = new java.util.ArrayList<>();
        for (int i = 0; i < switches.size(); i++) {
            LocalPostgres.TimelineSwitch s = switches.get(i);
            List<Object> previous = known.get((long) s.parentTimeline());
            if (previous != null && previous.size() >= 5) {
                history.add(previous);
            } else if (i == switches.size() - 1) {
                history.add(List.of(s.parentTimeline(), s.switchLsn(), s.reason(),
                        clock.now().atOffset(java.time.ZoneOffset.UTC).toString(), identity.name()));
            } else {
                history.add(List.of(s.parentTimeline(), s.switchLsn(), s.reason()));
            }
        }
        dcs.writeHistory(history);
    }

    private void leadAsPrimary(Action.LeadAsPrimary a, Observation o) {
        if (a.systemIdentifierToWrite() != null) {
            dcs.setInitialize(a.systemIdentifierToWrite());
        }
        if (a.writeConfig()) {
            dcs.initializeConfig(identity.bootstrapDcs());
        }
        if (!a.slotsToCreate().isEmpty()) {
            pg.createSlots(a.slotsToCreate());
        }
        if (!a.slotsToDrop().isEmpty()) {
            Set<String> dropped = pg.dropUnusedSlots(a.slotsToDrop());
            if (!dropped.isEmpty()) {
                log.info("dropped replication slot(s) {}: their members have been gone from the cluster for over"
                        + " member_slots_ttl ({} s)", new java.util.TreeSet<>(dropped), dynamic.memberSlotsTtl());
            }
            memberSlotsSeen.keySet().removeAll(dropped);
        }
        // forget members long gone whose slot is not here (never made, or dropped by hand): the map stays small
        long ttlNanos = dynamic.memberSlotsTtl() * 1_000_000_000L;
        memberSlotsSeen.entrySet().removeIf(e -> o.nowNanos() - e.getValue() >= ttlNanos
                && !o.pg().slots().contains(e.getKey()));
        if (a.writeHistory()) {
            writeHistory(o);
        }
        if (a.optime() != lastOptimeWritten || !a.slotsToRetain().equals(lastRetainWritten)) {
            dcs.writeStatus(a.optime(), a.slotsToRetain());
            lastOptimeWritten = a.optime();
            lastRetainWritten = a.slotsToRetain();
        }
    }

    private static Member member(Observation o, String name) {
        Optional<Member> m = o.dcs().cluster().member(name);
        return m.orElseThrow(() -> new PostgresException("member '" + name + "' has no member key"));
    }

    /**
     * Puts the member key when its content changed, when the lease is new, or when the key is missing from the
     * view; otherwise the lease keeps it alive (Patroni skips the write the same way).
     */
    private void publishMember(PgStatus s, Observation o) {
        Member me = new Member(identity.name(), identity.connUrl(), identity.apiUrl(), s.runState().patroniName(),
                NodeSnapshot.roleOf(s), s.timeline(), s.walPosition(), s.replicationState(), identity.tags(), 0,
                dynamic.pause(), s.pendingRestart());
        boolean missing = o.dcs().cluster().member(identity.name()).isEmpty();
        if (me.equals(lastPublished) && lease.leaseId() == lastPublishedLease && !missing) {
            return;
        }
        put(me);
    }

    /**
     * A clone keeps the loop busy for minutes or hours, and the member key would go on saying "running" meanwhile:
     * say "creating replica" (Patroni's word) before it starts.
     */
    private void publishCloning() {
        if (lease.isHeld()) {
            put(new Member(identity.name(), identity.connUrl(), identity.apiUrl(), "creating replica", "uninitialized",
                    0, 0, null, identity.tags(), 0, dynamic.pause(), false));
        }
    }

    private void put(Member me) {
        try {
            dcs.publishMember(me);
            lastPublished = me;
            lastPublishedLease = lease.leaseId();
        } catch (DcsException e) {
            lastPublished = null;
            log.warn("could not publish my member key: {}", e.getMessage());
        }
    }

    /**
     * A primary is always fenced at its last confirmed lease deadline (no lease yet means the deadline has
     * already passed); anything else is not taking writes and needs no fence.
     */
    private void updateFence(PgStatus s) {
        boolean primaryish = s.runState() != io.pgkeel.common.pg.PgRunState.STOPPED && !s.inRecovery();
        // pause mode: like Patroni (whose watchdog is off in pause), nothing stops postgres, the lease fence neither
        if (primaryish && !dynamic.pause()) {
            fence.arm(lease.validUntilNanos() - NodeSettings.fenceMarginFor(dynamic.ttl()));
        } else {
            fence.disarm();
        }
    }

    /** Called often from a timer thread (or a simulation): enforces the lease deadline on a primary. */
    public boolean checkFence() {
        return fence.check(clock.nanoTime());
    }

    public java.util.OptionalLong fenceDeadline() {
        return fence.deadline();
    }

    /** Lets the fence thread sleep until the deadline and be woken when it moves. */
    public void onFenceChange(Runnable listener) {
        fence.onChange(listener);
    }

    private void fenceStop() {
        log.warn("demoting self because the leader lease could not be renewed before its deadline: stopping postgres now");
        try {
            pg.stop(LocalPostgres.StopMode.IMMEDIATE);
            callbacks.fire("on_stop", "primary");
        } catch (RuntimeException e) {
            log.error("could not stop postgres at the lease deadline: {}", e.getMessage());
        }
    }

    private long nextWait(Action action, boolean failed, long now) {
        long loopWait = TimeUnit.SECONDS.toNanos(dynamic.loopWait());
        if (!failed && (action instanceof Action.Demote || action instanceof Action.Rewind
                || action instanceof Action.Bootstrap || action instanceof Action.CloneFromLeader
                || action instanceof Action.AcquireLeader || action instanceof Action.Promote
                || action instanceof Action.ReattachLeader || action instanceof Action.Switchover
                || action instanceof Action.ClearFailoverKey || action instanceof Action.ReleaseLeader
                || action instanceof Action.Restart || action instanceof Action.Reinitialize)) {
            return TimeUnit.MILLISECONDS.toNanos(100);
        }
        java.util.OptionalLong d = fence.deadline();
        if (d.isPresent()) {
            // wake before the fence would fire, so a healthy loop renews in time
            long untilFence = d.getAsLong() - now - TimeUnit.MILLISECONDS.toNanos(500);
            return Math.max(0, Math.min(loopWait, untilFence));
        }
        return loopWait;
    }

    private static boolean changesPostgres(Action a) {
        return !(a instanceof Action.Wait) && !(a instanceof Action.LeadAsPrimary) && !(a instanceof Action.ReattachLeader)
                && !(a instanceof Action.ClearFailoverKey) && !(a instanceof Action.ReleaseLeader)
                && !(a instanceof Action.DropReplicaSlots);
    }

    private String roleTag(PgStatus s) {
        return "[" + identity.name() + " " + NodeSnapshot.roleOf(s) + "]";
    }

    /**
     * Clean stop (SIGTERM): a primary stops PostgreSQL with a checkpoint, then releases the leader key so the
     * replicas race at once; every node then revokes its lease (its member key vanishes).
     */
    public void shutdown() {
        PgStatus s = pg.probe();
        if (dynamic.pause()) {
            // Patroni: stopping the agent in pause mode leaves postgres running
            log.info("pause mode: leaving postgres running");
            fence.disarm();
            dcs.close();
            return;
        }
        boolean wasPrimary = s.runState() != io.pgkeel.common.pg.PgRunState.STOPPED && !s.inRecovery();
        fence.disarm();
        try {
            pg.stop(LocalPostgres.StopMode.FAST);
        } catch (RuntimeException e) {
            log.error("could not stop postgres cleanly: {}; stopping it immediately", e.getMessage());
            pg.stop(LocalPostgres.StopMode.IMMEDIATE);
        }
        if (s.isRunning()) {
            callbacks.fire("on_stop", s.inRecovery() ? "replica" : "primary");
        }
        if (wasPrimary) {
            try {
                if (dcs.releaseLeader()) {
                    log.info("released the leader key after a clean stop");
                }
            } catch (DcsException e) {
                log.warn("could not release the leader key: {}; it expires with my lease", e.getMessage());
            }
        }
        dcs.close();
    }

    public Action lastAction() {
        return lastAction;
    }

    public NodeIdentity identity() {
        return identity;
    }
}

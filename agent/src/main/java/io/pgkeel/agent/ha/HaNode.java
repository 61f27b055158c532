package io.pgkeel.agent.ha;

import io.pgkeel.common.Clock;
import io.pgkeel.common.dcs.Dcs;
import io.pgkeel.common.dcs.DcsException;
import io.pgkeel.common.peer.PeerClient;
import io.pgkeel.common.pg.LocalPostgres;
import io.pgkeel.common.pg.PgRunState;
import io.pgkeel.common.pg.PgStatus;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One agent's HA cycle, in five steps: observe ({@link Observer}), decide ({@link HaPolicy}, pure), act
 * ({@link Actor}), remember ({@link NodeMemory}, pure), publish ({@link Publisher}). The same code runs in the daemon
 * ({@link HaLoop}) and in simulated clusters on fakes.
 *
 * <p>Thread confinement: {@link #runCycle()} and {@link #shutdown} are called from one thread only (the loop), which
 * owns the memory; {@link #checkFence} may be called from any thread, the {@link #inbox()} from any thread.
 */
public final class HaNode {
    private static final Logger log = LoggerFactory.getLogger(HaNode.class);

    private final Dcs dcs;
    private final LocalPostgres pg;
    private final Clock clock;
    private final HaListener listener;
    private final LeaseFence fence;
    private final OperatorInbox inbox = new OperatorInbox();
    private final FailsafePromise failsafe;
    private final Observer observer;
    private final Actor actor;
    private final Publisher publisher;
    private volatile Callbacks callbacks = Callbacks.NONE;
    /** Replaced by a reload, between two cycles. */
    private NodeIdentity identity;
    private NodeMemory memory;
    /**
     * The decision, {@link HaPolicy#decide}: replaced only by tests that show the simulation's checker catches a
     * deliberately broken policy.
     */
    private Function<Observation, Action> policy = HaPolicy::decide;
    /** The fence is armed at a failsafe round's deadline, later than the lease's (for the fence thread's log line). */
    private volatile boolean fencedOnFailsafe;
    private final PausedLeaderRecord pausedLeader;

    public HaNode(NodeIdentity identity, Dcs dcs, LocalPostgres pg, PeerClient peerClient, Clock clock,
                  Consumer<NodeSnapshot> snapshots) {
        this(identity, dcs, pg, peerClient, clock, snapshots, HaListener.NONE);
    }

    public HaNode(NodeIdentity identity, Dcs dcs, LocalPostgres pg, PeerClient peerClient, Clock clock,
                  Consumer<NodeSnapshot> snapshots, HaListener listener) {
        this(identity, dcs, pg, peerClient, clock, snapshots, listener, AgentFile.NONE);
    }

    /**
     * @param promiseDisk where this node's failsafe promises are kept across agent restarts (the daemon's:
     *                    {@link AgentFile#besideDataDirectory})
     */
    public HaNode(NodeIdentity identity, Dcs dcs, LocalPostgres pg, PeerClient peerClient, Clock clock,
                  Consumer<NodeSnapshot> snapshots, HaListener listener, AgentFile promiseDisk) {
        this(identity, dcs, pg, peerClient, clock, snapshots, listener, promiseDisk, AgentFile.NONE);
    }

    /**
     * @param pausedLeaderDisk where the leader of a paused cluster is kept across agent restarts (the daemon's:
     *                         {@code <data_dir>.paused-leader.json}; {@link PausedPolicy#beforeRacingAfterPause})
     */
    public HaNode(NodeIdentity identity, Dcs dcs, LocalPostgres pg, PeerClient peerClient, Clock clock,
                  Consumer<NodeSnapshot> snapshots, HaListener listener, AgentFile promiseDisk,
                  AgentFile pausedLeaderDisk) {
        this.identity = identity;
        this.dcs = dcs;
        this.pg = pg;
        this.clock = clock;
        this.listener = listener;
        this.pausedLeader = new PausedLeaderRecord(pausedLeaderDisk);
        this.memory = NodeMemory.initial(identity.bootstrapDynamic(), pausedLeader.readBack());
        this.failsafe = new FailsafePromise(clock, promiseDisk);
        this.fence = new LeaseFence(this::fenceStop);
        MemberKey memberKey = new MemberKey(dcs);
        this.observer = new Observer(dcs, pg, peerClient, clock, listener, failsafe);
        this.actor = new Actor(dcs, pg, memberKey, fence, inbox, clock, listener, peerClient);
        this.publisher = new Publisher(memberKey, fence, snapshots, inbox::scheduledRestart, failsafe);
    }

    /** For tests only: decide with {@code policy} instead of {@link HaPolicy#decide} (set before the first cycle). */
    void decideWith(Function<Observation, Action> policy) {
        this.policy = policy;
    }

    /** Patroni's postgresql.callbacks; set before the loop starts. */
    public void setCallbacks(Callbacks callbacks) {
        this.callbacks = callbacks;
    }

    /** Where operators' requests, planned restarts and reloads come in (thread-safe). */
    public OperatorInbox inbox() {
        return inbox;
    }

    /**
     * The promises this node gives to a primary running in failsafe mode ({@code POST /failsafe}; thread-safe): the
     * REST handler gives them, the loop claims before it takes the key, promotes or bootstraps.
     */
    public FailsafePromise failsafe() {
        return failsafe;
    }

    /** Runs one cycle; returns how long to wait before the next one (the loop may be woken earlier). */
    public long runCycle() {
        long start = clock.nanoTime();
        inbox.takeReload().ifPresent(this::applyReload);
        Optional<OperatorRequest> request = inbox.next(clock.now());

        Observation o = observer.observe(memory, identity, request);
        Action action = policy.apply(o);
        log.info("[{} {}] {}: {}", identity.name(), NodeSnapshot.roleOf(o.pg()), action.getClass().getSimpleName(),
                action.reason());
        inbox.decided(action);
        boolean claims = claimsPrimary(action);
        Outcome outcome = carryOut(action, o, start);
        inbox.carriedOut(action, outcome);
        PgStatus after = action.traits().reprobe() ? observer.probe() : o.pg();
        checkRoleChange(o.pg(), action, outcome, after);
        NodeMemory.Remembered remembered = o.memory().acted(action, outcome, o, after, clock.nanoTime());
        memory = remembered.memory();
        pausedLeader.keep(memory.pausedLeader());
        remembered.callbacks().forEach(c -> callbacks.fire(c.action(), c.role()));
        boolean holdsKey = outcome.acquiredLeader() || !(outcome.ok() && action.releasesLeaderKey())
                && o.dcs().isReachable() && o.dcs().cluster().leader()
                .map(l -> l.name().equals(identity.name()) && l.leaseId() == memory.lease().leaseId()).orElse(false);
        if (!claims && !holdsKey && (after.runState() == PgRunState.STOPPED || after.inRecovery())) {
            // a replica again without the key (or never anything else): it may give failsafe promises
            failsafe.release();
        }
        long now = clock.nanoTime();
        fencedOnFailsafe = Publisher.deadline(memory) != memory.lease().validUntilNanos();
        publisher.publish(identity, memory, o, action, after, holdsKey, now,
                action instanceof Action.FailsafeRound && outcome.failsafeConfirmedSentAt() != null);
        listener.cycle(action.getClass().getSimpleName(), now - start);
        return nextWait(action, outcome, now);
    }

    /**
     * Carries out {@code action}; one that makes this node a primary only after {@link FailsafePromise#claim}: a
     * promise given after the observation (the REST thread answers any time) still wins.
     */
    Outcome carryOut(Action action, Observation o, long cycleStartNanos) {
        return claimsPrimary(action) && !failsafe.claim() ? promised(action)
                : actor.act(action, o, identity, cycleStartNanos);
    }

    /**
     * The actions that make this node a primary, or keep the key for one: each needs {@link FailsafePromise#claim}
     * first, so that no promise given to a primary in failsafe mode is broken, and none is given from then on.
     */
    static boolean claimsPrimary(Action a) {
        return a instanceof Action.AcquireLeader || a instanceof Action.Promote || a instanceof Action.Bootstrap
                || a instanceof Action.StartPostgres s && s.asPrimary() || a instanceof Action.Restart r && r.asPrimary();
    }

    /** The outcome of an action not carried out because a failsafe promise runs. */
    private Outcome promised(Action action) {
        String why = failsafe.active().map(p -> "a failsafe promise to primary '" + p.name() + "' runs for "
                + Math.max(0, p.untilNanos() - clock.nanoTime()) / 1_000_000_000L + " more s")
                .orElse("a failsafe promise ran when it was to be carried out");
        String name = action.getClass().getSimpleName();
        log.warn("not carrying out {}: {}", name, why);
        return Outcome.failed("not carrying out " + name + ": " + why);
    }

    private void applyReload(OperatorInbox.Reload reload) {
        identity = reload.identity();
        try {
            reload.applyOnLoop().run();
            if (memory.run().lastRole() != null) {
                callbacks.fire("on_reload", memory.run().lastRole());
            }
        } catch (RuntimeException e) {
            log.error("applying the reloaded configuration failed: {}", e.getMessage());
        }
    }

    /** Logs a role change with its row of {@link Role#TRANSITIONS}, or warns when the table does not list it. */
    private void checkRoleChange(PgStatus before, Action action, Outcome outcome, PgStatus after) {
        Role from = Role.of(before);
        Role to = Role.of(after);
        if (from == to) {
            return;
        }
        String name = action.getClass().getSimpleName();
        if (!outcome.ok()) {
            // a failed action's partial change is no row of the table; its error is logged already
            log.info("role {} -> {} after the failed {}", from, to, name);
            return;
        }
        Optional<Role.Transition> row = Role.find(from, action, to);
        listener.roleChanged(from, to, name, row.isEmpty());
        if (row.isPresent()) {
            log.info("role {} -> {}: {}", from, to, row.get().comment());
        } else {
            log.warn("role {} -> {} after {}, a change the transition table does not list; please report it",
                    from, to, name);
        }
    }

    /** The action's pace; after a failure, loop_wait. Never past the fence deadline, so a healthy loop renews. */
    private long nextWait(Action action, Outcome outcome, long now) {
        Action.Pace pace = outcome.ok() ? action.traits().pace() : Action.Pace.STEADY;
        if (pace != Action.Pace.STEADY) {
            return TimeUnit.MILLISECONDS.toNanos(pace.millis);
        }
        long loopWait = TimeUnit.SECONDS.toNanos(memory.dynamic().loopWait());
        OptionalLong d = fence.deadline();
        if (d.isPresent()) {
            // wake before the fence would fire, so a healthy loop renews in time
            long untilFence = d.getAsLong() - now - TimeUnit.MILLISECONDS.toNanos(500);
            return Math.max(0, Math.min(loopWait, untilFence));
        }
        return loopWait;
    }

    /** Called often from a timer thread (or a simulation): enforces the lease deadline on a primary. */
    public boolean checkFence() {
        return fence.check(clock.nanoTime());
    }

    public OptionalLong fenceDeadline() {
        return fence.deadline();
    }

    /** Lets the fence thread sleep until the deadline and be woken when it moves. */
    public void onFenceChange(Runnable listener) {
        fence.onChange(listener);
    }

    private void fenceStop() {
        log.warn(fencedOnFailsafe ? "demoting self because DCS is not accessible and not every member in the failsafe"
                + " key confirmed this primary before its deadline: stopping postgres now"
                : "demoting self because the leader lease could not be renewed before its deadline: stopping postgres now");
        try {
            pg.stop(LocalPostgres.StopMode.IMMEDIATE);
            callbacks.fire("on_stop", "primary");
        } catch (RuntimeException e) {
            log.error("could not stop postgres at the lease deadline: {}", e.getMessage());
        }
    }

    /**
     * Clean stop (SIGTERM): a primary stops PostgreSQL with a checkpoint, then releases the leader key so the
     * replicas race at once; every node then revokes its lease (its member key vanishes).
     */
    public void shutdown() {
        PgStatus s = pg.probe();
        if (memory.dynamic().pause()) {
            // Patroni: stopping the agent in pause mode leaves postgres running
            log.info("pause mode: leaving postgres running");
            fence.disarm();
            dcs.close();
            return;
        }
        boolean wasPrimary = s.runState() != PgRunState.STOPPED && !s.inRecovery();
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

    /** The last cycle's decision, or null before the first. */
    public Action lastAction() {
        return memory.lastAction();
    }

    public NodeIdentity identity() {
        return identity;
    }
}

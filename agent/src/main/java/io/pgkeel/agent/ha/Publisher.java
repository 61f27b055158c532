package io.pgkeel.agent.ha;

import io.pgkeel.common.pg.PgRunState;
import io.pgkeel.common.pg.PgStatus;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The cycle's last step: arm the lease fence for a primary (at its last confirmed lease deadline), put the member key
 * when it changed, and hand the REST API a fresh {@link NodeSnapshot}. Loop thread only.
 */
final class Publisher {
    private final MemberKey memberKey;
    private final LeaseFence fence;
    private final Consumer<NodeSnapshot> snapshots;
    /** The operator's planned restart, shown in the snapshot (any thread may plan or cancel one). */
    private final Supplier<Optional<ScheduledRestart>> scheduledRestart;
    private final FailsafePromise promise;

    Publisher(MemberKey memberKey, LeaseFence fence, Consumer<NodeSnapshot> snapshots,
              Supplier<Optional<ScheduledRestart>> scheduledRestart, FailsafePromise promise) {
        this.memberKey = memberKey;
        this.fence = fence;
        this.snapshots = snapshots;
        this.scheduledRestart = scheduledRestart;
        this.promise = promise;
    }

    /**
     * @param pg         PostgreSQL as it is after acting
     * @param holdsKey   this node holds the leader key on its current lease
     * @param nowNanos   the end of the cycle
     * @param failsafeConfirmed this cycle's failsafe round was accepted by every member
     */
    void publish(NodeIdentity identity, NodeMemory m, Observation o, Action action, PgStatus pg, boolean holdsKey,
                 long nowNanos, boolean failsafeConfirmed) {
        updateFence(pg, m);
        ScheduledRestart scheduled = scheduledRestart.get().orElse(null);
        if (o.dcs().isReachable() && m.lease().isHeld()) {
            memberKey.publish(identity, pg, m, o.dcs().cluster(), scheduled);
        }
        snapshots.accept(new NodeSnapshot(identity, pg, m.lastView(), o.dcs().isReachable(), holdsKey,
                action.getClass().getSimpleName(), action.reason(), nowNanos, m.dcsLastSeenEpochSeconds(),
                m.dynamic().ttl(), m.dynamic().loopWait(), scheduled, failsafeState(m, o, pg, failsafeConfirmed),
                m.dynamic().pause()));
    }

    /** failsafe_mode as this node runs it, for GET /failsafe, /patroni and the metrics. */
    private NodeSnapshot.FailsafeState failsafeState(NodeMemory m, Observation o, PgStatus pg, boolean confirmed) {
        boolean primaryish = pg.runState() != PgRunState.STOPPED && !pg.inRecovery();
        boolean active = primaryish ? confirmed && !o.dcs().isReachable() : promise.active().isPresent();
        return new NodeSnapshot.FailsafeState(m.dynamic().failsafeMode(),
                m.lastView() == null ? java.util.Map.of() : m.lastView().failsafe().orElse(java.util.Map.of()), active);
    }

    /**
     * A primary is always fenced at its last confirmed deadline, minus the margin: the lease's, or the last failsafe
     * round every member accepted, whichever is later ({@link #deadline}; no lease yet means the deadline has already
     * passed); anything else is not taking writes and needs no fence. In pause mode nothing stops postgres, the fence
     * neither (like Patroni, whose watchdog is off in pause).
     */
    private void updateFence(PgStatus pg, NodeMemory m) {
        boolean primaryish = pg.runState() != PgRunState.STOPPED && !pg.inRecovery();
        if (primaryish && !m.dynamic().pause()) {
            fence.arm(deadline(m) - NodeSettings.fenceMarginFor(m.dynamic().ttl()));
        } else {
            fence.disarm();
        }
    }

    /**
     * Until when nobody else can become primary (monotonic): the lease's validity (etcd cannot have expired it, so
     * nobody can hold the key), or the failsafe deadline (every member promised not to race until later), whichever
     * is later. Nothing else moves the fence.
     */
    static long deadline(NodeMemory m) {
        long lease = m.lease().validUntilNanos();
        Long failsafe = m.failsafeUntilNanos();
        return failsafe != null && failsafe - lease > 0 ? failsafe : lease;
    }
}

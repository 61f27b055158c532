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

    Publisher(MemberKey memberKey, LeaseFence fence, Consumer<NodeSnapshot> snapshots,
              Supplier<Optional<ScheduledRestart>> scheduledRestart) {
        this.memberKey = memberKey;
        this.fence = fence;
        this.snapshots = snapshots;
        this.scheduledRestart = scheduledRestart;
    }

    /**
     * @param pg         PostgreSQL as it is after acting
     * @param holdsKey   this node holds the leader key on its current lease
     * @param nowNanos   the end of the cycle
     */
    void publish(NodeIdentity identity, NodeMemory m, Observation o, Action action, PgStatus pg, boolean holdsKey,
                 long nowNanos) {
        updateFence(pg, m);
        ScheduledRestart scheduled = scheduledRestart.get().orElse(null);
        if (o.dcs().isReachable() && m.lease().isHeld()) {
            memberKey.publish(identity, pg, m, o.dcs().cluster(), scheduled);
        }
        snapshots.accept(new NodeSnapshot(identity, pg, m.lastView(), o.dcs().isReachable(), holdsKey,
                action.getClass().getSimpleName(), action.reason(), nowNanos, m.dcsLastSeenEpochSeconds(),
                m.dynamic().ttl(), m.dynamic().loopWait(), scheduled));
    }

    /**
     * A primary is always fenced at its last confirmed lease deadline (no lease yet means the deadline has already
     * passed); anything else is not taking writes and needs no fence. In pause mode nothing stops postgres, the fence
     * neither (like Patroni, whose watchdog is off in pause).
     */
    private void updateFence(PgStatus pg, NodeMemory m) {
        boolean primaryish = pg.runState() != PgRunState.STOPPED && !pg.inRecovery();
        if (primaryish && !m.dynamic().pause()) {
            fence.arm(m.lease().validUntilNanos() - NodeSettings.fenceMarginFor(m.dynamic().ttl()));
        } else {
            fence.disarm();
        }
    }
}

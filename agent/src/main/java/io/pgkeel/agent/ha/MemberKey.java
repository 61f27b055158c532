package io.pgkeel.agent.ha;

import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.dcs.Dcs;
import io.pgkeel.common.dcs.DcsException;
import io.pgkeel.common.pg.PgRunState;
import io.pgkeel.common.pg.PgStatus;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes this node's {@code members/<name>} key. Like Patroni, it skips a put that would change nothing: it keeps
 * the value and lease of its own last successful put. That is a write cache, not HA state: no decision reads it,
 * and losing it costs one redundant put. Loop thread only.
 */
final class MemberKey {
    private static final Logger log = LoggerFactory.getLogger(MemberKey.class);

    private final Dcs dcs;
    private Member lastPut;
    private long lastPutLease;

    MemberKey(Dcs dcs) {
        this.dcs = dcs;
    }

    /**
     * Puts the key when its content changed, when the lease is new, or when the key is missing from {@code view};
     * otherwise the lease keeps it alive.
     */
    void publish(NodeIdentity identity, PgStatus s, NodeMemory m, ClusterView view, ScheduledRestart scheduled) {
        boolean standby = s.runState() == PgRunState.RUNNING && s.inRecovery();
        Member me = new Member(identity.name(), identity.connUrl(), identity.apiUrl(), s.runState().patroniName(),
                NodeSnapshot.roleOf(s), s.timeline(), s.walPosition(), s.replicationState(), identity.tags(), 0,
                m.dynamic().pause(), s.pendingRestart(), standby ? s.receiveLsn() : 0, standby ? s.replayLsn() : 0,
                new LinkedHashMap<String, Object>(s.detail().pendingRestartReason()), scheduled == null ? Map.of()
                        : scheduled.asPatroni(), m.pausedLeader() == null ? null : m.pausedLeader().name());
        if (me.equals(lastPut) && m.lease().leaseId() == lastPutLease && view.member(identity.name()).isPresent()) {
            return;
        }
        put(me, m.lease().leaseId());
    }

    /** Before a clone, which keeps the loop busy for minutes or hours: "creating replica", as Patroni says. */
    void cloning(NodeIdentity identity, NodeMemory m) {
        if (m.lease().isHeld()) {
            put(new Member(identity.name(), identity.connUrl(), identity.apiUrl(), "creating replica",
                    "uninitialized", 0, 0, null, identity.tags(), 0, m.dynamic().pause(), false), m.lease().leaseId());
        }
    }

    private void put(Member me, long leaseId) {
        try {
            dcs.publishMember(me);
            lastPut = me;
            lastPutLease = leaseId;
        } catch (DcsException e) {
            lastPut = null;
            log.warn("could not publish my member key: {}", e.getMessage());
        }
    }
}

package io.pgkeel.agent.ha;

import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.pg.PgRunState;
import io.pgkeel.common.pg.PgStatus;
import java.util.Optional;

/**
 * Grants or refuses an operator's request. A request is served only in a routine cycle (the base decision was to
 * wait or to lead as usual, {@link Action.Traits#routine}): safety actions and recovery always come first, and the
 * request is then answered with their reason. Pure.
 */
final class OperatorRequests {
    private OperatorRequests() {}

    static Action serve(OperatorRequest request, Action base, Observation o) {
        if (!base.traits().routine() || !o.dcs().isReachable()) {
            return base;
        }
        String me = o.self().name();
        PgStatus pg = o.pg();
        ClusterView c = o.dcs().cluster();
        boolean paused = o.self().dynamic().pause();
        if (request instanceof OperatorRequest.Restart r) {
            if (pg.runState() != PgRunState.RUNNING) {
                return new Action.Wait("not restarting: postgres is not running", RequestRefusal.NOT_CARRIED_OUT);
            }
            boolean primary = !pg.inRecovery();
            String role = primary ? "primary" : "replica";
            if (r.role() != null && !r.role().equals(role)) {
                return new Action.Wait("not restarting: this member is a " + role + ", not a " + r.role(),
                        RequestRefusal.CONDITIONS_NOT_SATISFIED);
            }
            if (primary && !c.isLeader(me) && !paused) {
                return new Action.Wait("not restarting: this primary does not hold the leader key",
                        RequestRefusal.CONDITIONS_NOT_SATISFIED);
            }
            return new Action.Restart(primary, primary ? null : pg.following(), "restarting postgres as requested");
        }
        if (request instanceof OperatorRequest.Reinitialize) {
            if (c.isLeader(me)) {
                return new Action.Wait("not reinitializing: I am the leader, can not reinitialize",
                        RequestRefusal.I_AM_THE_LEADER);
            }
            Optional<Member> leader = c.leaderMember();
            if (leader.isEmpty() || !leader.get().isRunning() || !HaPolicy.hasAddress(leader)) {
                return new Action.Wait("not reinitializing: cluster has no leader, can not reinitialize",
                        RequestRefusal.CLUSTER_HAS_NO_LEADER);
            }
            return new Action.Reinitialize(leader.get().name(),
                    "reinitializing this replica from leader '" + leader.get().name() + "' as requested");
        }
        throw new IllegalArgumentException("unknown request " + request);
    }
}

package io.pgkeel.agent.ha;

import io.pgkeel.common.cluster.DcsView;
import io.pgkeel.common.pg.PgStatus;
import java.util.List;

/**
 * Everything one cycle decides on, gathered before deciding. Failures are data ({@code DcsView.unreachable}).
 *
 * @param notStreamingSinceNanos when this standby, following its leader, was first seen not streaming; -1 when it
 *                               streams (or is no standby)
 * @param wallNow                wall-clock time, only to compare with a scheduled switchover's {@code scheduled_at}
 * @param request                what an operator asked this node to do (restart, reinitialize), if anything
 * @param failedReplicaStarts    how many times in a row postgres, started as a standby, stopped again before it
 *                               ever ran (for example: its WAL went further than the leader's timeline fork)
 * @param memberSlotsSeenNanos   for each slot name of a member this agent has seen in etcd since it started: when
 *                               it last saw that member (on the monotonic clock); lets the leader drop the slots of
 *                               members gone for longer than {@code member_slots_ttl}, and only those
 */
public record Observation(DcsView dcs, PgStatus pg, LeaseStatus lease, List<PeerStatus> peers, NodeSettings self,
                          long nowNanos, long notStreamingSinceNanos, java.time.Instant wallNow,
                          java.util.Optional<OperatorRequest> request, int failedReplicaStarts,
                          java.util.Map<String, Long> memberSlotsSeenNanos) {
    public Observation {
        peers = List.copyOf(peers);
        memberSlotsSeenNanos = java.util.Map.copyOf(memberSlotsSeenNanos);
    }
}

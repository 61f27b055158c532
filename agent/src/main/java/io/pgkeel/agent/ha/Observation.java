package io.pgkeel.agent.ha;

import io.pgkeel.common.cluster.DcsView;
import io.pgkeel.common.pg.PgStatus;
import java.util.List;

/** Everything one cycle decides on, gathered before deciding. Failures are data ({@code DcsView.unreachable}). */
public record Observation(DcsView dcs, PgStatus pg, LeaseStatus lease, List<PeerStatus> peers, NodeSettings self,
                          long nowNanos) {
    public Observation {
        peers = List.copyOf(peers);
    }
}

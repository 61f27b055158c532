package io.pgkeel.common.cluster;

import java.util.Objects;

/**
 * An observation of the DCS: either a whole {@link ClusterView} or the reason it could not be read. A failed
 * read is data, so a decision is never made on a half-read view.
 */
public final class DcsView {
    private final ClusterView cluster;
    private final String unreachableCause;

    private DcsView(ClusterView cluster, String unreachableCause) {
        this.cluster = cluster;
        this.unreachableCause = unreachableCause;
    }

    public static DcsView reachable(ClusterView cluster) {
        return new DcsView(Objects.requireNonNull(cluster), null);
    }

    public static DcsView unreachable(String cause) {
        return new DcsView(null, Objects.requireNonNull(cause));
    }

    public boolean isReachable() {
        return cluster != null;
    }

    /** The view; only call when {@link #isReachable()}. */
    public ClusterView cluster() {
        if (cluster == null) {
            throw new IllegalStateException("DCS is unreachable: " + unreachableCause);
        }
        return cluster;
    }

    public String unreachableCause() {
        return unreachableCause;
    }

    @Override
    public String toString() {
        return isReachable() ? "DcsView[" + cluster + "]" : "DcsView[unreachable: " + unreachableCause + "]";
    }
}

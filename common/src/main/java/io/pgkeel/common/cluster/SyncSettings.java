package io.pgkeel.common.cluster;

/**
 * The config key's synchronous replication settings (Patroni's names).
 *
 * @param mode                  {@code synchronous_mode}
 * @param strict                {@code synchronous_mode_strict}: with no synchronous standby, commits wait rather than
 *                              succeed on the primary alone
 * @param nodeCount             {@code synchronous_node_count} (default 1, at least 1): how many standbys a commit waits
 *                              for (on), or the N of {@code ANY N} (quorum)
 * @param maximumLagOnSyncnode  {@code maximum_lag_on_syncnode}, bytes: a standby further behind the most advanced one
 *                              is not picked as synchronous; 0 or less: no limit (Patroni's default -1)
 */
public record SyncSettings(SyncMode mode, boolean strict, int nodeCount, long maximumLagOnSyncnode) {
    public static final SyncSettings OFF = new SyncSettings(SyncMode.OFF, false, 1, -1);

    public SyncSettings {
        mode = mode == null ? SyncMode.OFF : mode;
        nodeCount = Math.max(1, nodeCount);
    }
}

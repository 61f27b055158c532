package io.pgkeel.agent.api;

import io.pgkeel.common.cluster.ClusterView;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.SyncKey;
import io.pgkeel.common.cluster.SyncMode;
import io.pgkeel.common.cluster.SyncSettings;

/**
 * What the {@code sync} key makes of a member, as the REST API ({@code /sync}, {@code /quorum}, {@code /patroni},
 * {@code /cluster}, metrics) and {@code pgkeel ctl list} show it. Patroni 4.1: with {@code synchronous_mode} on, a
 * member the sync key names is a synchronous standby; with {@code quorum}, a quorum standby (api.py
 * get_postgresql_status, utils.py cluster_as_json).
 *
 * <p>Unlike api.py (and like ha.py {@code is_sync_standby}), the key counts only while the member holding the leader
 * key wrote it: a key left by an earlier leader (or with no leader key at all) says whom that leader waited for, not
 * whom any primary waits for now, so it names nobody (docs/decisions.md).
 */
public enum SyncRole {
    /** Not named, or synchronous replication is off, or the key is stale. */
    NONE(null),
    /** Named in the sync key with {@code synchronous_mode: on}. */
    SYNC_STANDBY("sync_standby"),
    /** Named in the sync key with {@code synchronous_mode: quorum}. */
    QUORUM_STANDBY("quorum_standby");

    private final String patroniRole;

    SyncRole(String patroniRole) {
        this.patroniRole = patroniRole;
    }

    /** The role as cluster_as_json writes it ({@code sync_standby}, {@code quorum_standby}); null for NONE. */
    public String patroniRole() {
        return patroniRole;
    }

    /**
     * The role of {@code member} in {@code cluster} (null: no view, NONE). Whether the member is the leader or runs as
     * a replica is the caller's to check: a key naming the leader as a standby does not make it one.
     */
    public static SyncRole of(ClusterView cluster, String member) {
        if (cluster == null) {
            return NONE;
        }
        SyncMode mode = settings(cluster).mode();
        SyncKey key = cluster.sync().orElse(null);
        if (mode == SyncMode.OFF || key == null || !key.matches(member, false)) {
            return NONE;
        }
        boolean current = cluster.leader().map(l -> key.leaderIs(l.name())).orElse(false);
        if (!current) {
            return NONE;
        }
        return mode == SyncMode.QUORUM ? QUORUM_STANDBY : SYNC_STANDBY;
    }

    /** The config key's synchronous replication settings; off without a config key. */
    public static SyncSettings settings(ClusterView cluster) {
        return cluster.config().map(DynamicConfig::sync).orElse(SyncSettings.OFF);
    }
}

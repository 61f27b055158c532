package io.pgkeel.common.cluster;

import java.util.Map;

/**
 * The cluster-wide settings in the {@code config} key (Patroni's "dynamic configuration").
 * {@code memberSlotsTtl}: seconds a departed member's replication slot is kept on the primary (Patroni 4).
 * {@code permanentSlots}: the physical slots of {@code permanent_slots}, kept on whichever member is primary.
 * {@code primaryStartTimeout}: seconds a leader whose PostgreSQL does not run as primary keeps trying before it lets
 * a healthy replica take over (0: at once), Patroni's (patroni/ha.py; {@code master_start_timeout} before 2.1).
 * {@code removeDataDirectoryOnRewindFailure} / {@code removeDataDirectoryOnDivergedTimelines}: Patroni's
 * {@code postgresql.*} switches that allow removing a data directory that cannot follow the leader (off: keep it).
 * {@code sync}: synchronous replication ({@code synchronous_mode}, {@code synchronous_mode_strict},
 * {@code synchronous_node_count}, {@code maximum_lag_on_syncnode}).
 * {@code raw} keeps every key as read, so writing it back never drops what we do not model.
 */
public record DynamicConfig(
        int ttl,
        int loopWait,
        int retryTimeout,
        long maximumLagOnFailover,
        boolean usePgRewind,
        boolean useSlots,
        int memberSlotsTtl,
        java.util.Set<String> permanentSlots,
        boolean pause,
        int primaryStartTimeout,
        boolean removeDataDirectoryOnRewindFailure,
        boolean removeDataDirectoryOnDivergedTimelines,
        SyncSettings sync,
        Map<String, String> pgParameters,
        Map<String, Object> raw,
        long modRevision) {

    public static final int DEFAULT_TTL = 30;
    public static final int DEFAULT_LOOP_WAIT = 10;
    public static final int DEFAULT_RETRY_TIMEOUT = 10;
    public static final long DEFAULT_MAXIMUM_LAG_ON_FAILOVER = 1_048_576L;
    /** Patroni 4's default: a member's slot outlives its member key by 30 minutes (restarts, short outages). */
    public static final int DEFAULT_MEMBER_SLOTS_TTL = 1800;
    /** Patroni's default primary_start_timeout: 5 minutes of crash recovery before failing over. */
    public static final int DEFAULT_PRIMARY_START_TIMEOUT = 300;

    public DynamicConfig {
        pgParameters = pgParameters == null ? Map.of() : Map.copyOf(pgParameters);
        permanentSlots = permanentSlots == null ? java.util.Set.of() : java.util.Set.copyOf(permanentSlots);
        raw = raw == null ? Map.of() : raw;
        sync = sync == null ? SyncSettings.OFF : sync;
    }

    public static DynamicConfig defaults() {
        return new DynamicConfig(DEFAULT_TTL, DEFAULT_LOOP_WAIT, DEFAULT_RETRY_TIMEOUT, DEFAULT_MAXIMUM_LAG_ON_FAILOVER,
                false, true, DEFAULT_MEMBER_SLOTS_TTL, java.util.Set.of(), false, DEFAULT_PRIMARY_START_TIMEOUT, false, false,
                SyncSettings.OFF, Map.of(), Map.of(), 0);
    }

    /**
     * {@code postgresql.pg_hba} of the config key (Patroni's standard place for it, postgres0.yml): the lines, in
     * order; empty when absent or not a list (DynamicConfigParser names a bad value). A local
     * {@code postgresql.pg_hba} wins over it, as Patroni merges the local postgresql section over the dynamic one.
     */
    public java.util.List<String> pgHba() {
        return DynamicConfigParser.pgHba(raw, "config", new java.util.ArrayList<>());
    }

    /**
     * Patroni's {@code primary_stop_timeout} ({@code master_stop_timeout} before 2.1), seconds: with synchronous
     * replication on, a primary's fast stop that takes longer is cut short (patroni/postgresql/__init__.py kills the
     * postmaster); 0 or absent: no such bound. A value that is not seconds counts as 0 (DynamicConfigParser names it).
     */
    public int primaryStopTimeout() {
        String key = raw.containsKey("primary_stop_timeout") || !raw.containsKey("master_stop_timeout")
                ? "primary_stop_timeout" : "master_stop_timeout";
        return DynamicConfigParser.secondsValue(raw, key, 0, "config", new java.util.ArrayList<>());
    }

    /**
     * Patroni's {@code failsafe_mode} (3.0+, patroni/ha.py {@code is_failsafe_mode}): when the DCS is not accessible,
     * a primary every member of the {@code failsafe} key confirms keeps running. Patroni's {@code parse_bool}
     * spellings; absent or a value that is not one of them counts as off (DynamicConfigParser names it): without
     * failsafe a primary stops at its lease deadline, the behaviour pgkeel always had.
     */
    public boolean failsafeMode() {
        return DynamicConfigParser.failsafeMode(raw, "config", new java.util.ArrayList<>());
    }

    public DynamicConfig withRevision(long revision) {
        return new DynamicConfig(ttl, loopWait, retryTimeout, maximumLagOnFailover, usePgRewind, useSlots,
                memberSlotsTtl, permanentSlots, pause, primaryStartTimeout,
                removeDataDirectoryOnRewindFailure, removeDataDirectoryOnDivergedTimelines, sync, pgParameters, raw, revision);
    }
}

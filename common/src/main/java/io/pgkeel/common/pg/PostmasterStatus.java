package io.pgkeel.common.pg;

/**
 * The postmaster as it describes itself, without SQL: whether one runs in the data directory, the status word
 * PostgreSQL 10+ keeps on line 8 of {@code postmaster.pid} ({@code PM_STATUS_*} in PostgreSQL's pidfile.h; pg_ctl
 * waits on the same word), and whether {@code standby.signal} keeps it in recovery. Cheap enough to read several
 * times a second.
 */
public enum PostmasterStatus {
    /** No postmaster: none started, stopped, or killed (a postmaster.pid whose PID is dead counts as none). */
    ABSENT,
    /**
     * {@code starting}, or {@code standby} (up with hot_standby off): alive, not accepting connections (startup,
     * crash recovery, a standby not consistent yet).
     */
    STARTING,
    /** {@code stopping}: a shutdown is under way; new connections are refused. */
    STOPPING,
    /** {@code ready} with standby.signal: accepting read-only connections in recovery (hot standby). */
    STANDBY,
    /** {@code ready} without standby.signal: accepting connections, out of recovery. */
    READY
}

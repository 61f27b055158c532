package io.pgkeel.common.pg;

/**
 * The postmaster as it describes itself, without SQL: whether one runs in the data directory, and the status word
 * PostgreSQL 10+ keeps on line 8 of {@code postmaster.pid} ({@code PM_STATUS_*} in PostgreSQL's pidfile.h; pg_ctl
 * waits on the same word). Cheap enough to read several times a second.
 */
public enum PostmasterStatus {
    /** No postmaster: none started, stopped, or killed (a postmaster.pid whose PID is dead counts as none). */
    ABSENT,
    /** {@code starting}: alive, not accepting connections yet (startup, crash recovery, a standby not consistent). */
    STARTING,
    /** {@code stopping}: a shutdown is under way; new connections are refused. */
    STOPPING,
    /** {@code standby}: accepting read-only connections in recovery (hot standby). */
    STANDBY,
    /** {@code ready}: accepting connections, out of recovery. */
    READY
}

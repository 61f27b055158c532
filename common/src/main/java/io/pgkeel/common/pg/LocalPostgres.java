package io.pgkeel.common.pg;

import io.pgkeel.common.cluster.Member;
import java.util.Set;

/**
 * The PostgreSQL instance on this node. Every method is synchronous and bounded by a timeout; failures are a
 * {@link PostgresException}. Implementations: the real one (pg_ctl, initdb, pg_basebackup, pg_rewind, JDBC) and
 * {@code FakePostgres} for simulations.
 */
public interface LocalPostgres {

    /** Data directory, process and, when running, SQL state. Never throws: what it cannot learn is reported as such. */
    PgStatus probe();

    /** initdb, write configuration, start as primary, create the replication (and rewind) roles. Returns the sysid. */
    String bootstrap();

    /** Fills the empty data directory with pg_basebackup from {@code source}. */
    void cloneFrom(Member source);

    /** Writes the configuration for the role and starts the postmaster; does not wait for it to accept connections. */
    void start(boolean asPrimary, Member follow);

    /** Stops the postmaster and waits for it to be gone. */
    void stop(StopMode mode);

    /** Promotes the running standby and waits for it to leave recovery. */
    void promote();

    /** Points the running standby at {@code leader} (null: nobody) and reloads. */
    void follow(Member leader);

    /**
     * Makes this former primary able to follow {@code source}: crash recovery if it did not shut down cleanly,
     * then pg_rewind. Returns false when pg_rewind failed (the data directory must then be cloned anew).
     */
    boolean rewind(Member source);

    /** Deletes the data directory's contents (before a fresh clone). */
    void removeDataDirectory();

    /** Creates missing physical replication slots on this primary. */
    void createSlots(Set<String> slots);

    /** How to stop. */
    enum StopMode {
        /** Checkpoint, then stop: a clean shutdown (switchover, agent shutdown). */
        FAST,
        /** SIGQUIT: stop taking writes now, no checkpoint (lost lease, demotion). */
        IMMEDIATE
    }
}

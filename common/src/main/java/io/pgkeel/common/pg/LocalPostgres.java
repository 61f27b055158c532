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

    /**
     * What the postmaster says of itself right now ({@code postmaster.pid} and whether its PID lives): no SQL, no
     * tool, a few microseconds. Any thread; never throws. Only the health answers between cycles read it; the HA
     * decision reads {@link #probe()}.
     */
    PostmasterStatus postmaster();

    /** initdb, write configuration, start as primary, create the replication (and rewind) roles. Returns the sysid. */
    String bootstrap();

    /** Fills the empty data directory with pg_basebackup from {@code source}. */
    void cloneFrom(Member source);

    /** Writes the configuration for the role and starts the postmaster; does not wait for it to accept connections. */
    void start(boolean asPrimary, Member follow);

    /** Stops the postmaster and waits for it to be gone. */
    void stop(StopMode mode);

    /**
     * Promotes the running standby, waits for it to leave recovery, then checkpoints at once so that its
     * pg_control names the new timeline (pg_rewind on the old primary depends on it).
     */
    void promote();

    /** Points the running standby at {@code leader} (null: nobody) and reloads. */
    void follow(Member leader);

    /**
     * Rewrites the running instance's configuration with {@code parameters} as the config key's
     * {@code postgresql.parameters} (its role and upstream unchanged) and reloads it. Parameters that need a restart
     * then show as {@link PgStatus#pendingRestart()}.
     */
    void applyParameters(java.util.Map<String, String> parameters);

    /**
     * Writes {@code synchronous_standby_names} into the configuration and reloads a running instance, then waits
     * (bounded) until a new session sees the value. Kept across later rewrites, restarts and agent restarts (read back
     * from the data directory's configuration), so a primary never starts waiting for fewer standbys than the
     * {@code sync} key promises. Null: no longer managed; the configured {@code postgresql.parameters} value (or none)
     * applies again.
     */
    void setSynchronousStandbyNames(String value);

    /**
     * Makes this former primary able to follow {@code source}: crash recovery if it did not shut down cleanly,
     * then pg_rewind. pg_rewind trusts the source's pg_control, which names the new timeline only once the
     * checkpoint after its promotion is done: until then the answer is {@link RewindOutcome#SOURCE_NOT_READY}.
     */
    RewindOutcome rewind(Member source);

    /**
     * Starts as a standby of {@code source} right after {@link #rewind} from it came back {@link RewindOutcome#DONE}:
     * this node's WAL is consistent with the source's, so it is not taken for a former primary that may have diverged.
     */
    void startAfterRewind(Member source);

    /** What {@link #rewind} achieved. */
    enum RewindOutcome {
        /** pg_rewind succeeded (or found nothing to rewind): the node can start as a standby of the source. */
        DONE,
        /** The source's checkpoint does not show its current timeline yet: nothing was changed; try again. */
        SOURCE_NOT_READY,
        /**
         * The crashed postmaster's old backends still hold the target's shared memory (or its lock file), so its
         * crash recovery could not run yet: nothing was changed; try again.
         */
        TARGET_BUSY,
        /** pg_rewind failed: the data directory must be cloned anew. */
        FAILED
    }

    /**
     * The switches that led to {@code timeline}, oldest first, from its history file
     * ({@code pg_wal/<timeline>.history}): each {@code [parent timeline, switch LSN, reason]}. Empty for timeline 1.
     */
    java.util.List<TimelineSwitch> timelineHistory(int timeline);

    /** One line of a timeline history file. */
    record TimelineSwitch(int parentTimeline, long switchLsn, String reason) {}

    /**
     * How far {@code peer}'s PostgreSQL has received (flushed) WAL, asked live over SQL, or empty when it cannot be
     * asked right now. A snapshot from the peer's agent could be a whole loop_wait old; a switchover cannot wait.
     */
    java.util.OptionalLong receivedLsnOf(Member peer);

    /**
     * How far {@code peer}'s standby has received (flushed) or replayed WAL, asked live over SQL, when that WAL is on
     * {@code timeline}, this node's (LSN, bytes); empty when it cannot be asked, is no standby, has none, or is on
     * another timeline (LSNs of two timelines cannot be compared: the peer may hold WAL this node never had below
     * its own position). A synchronous replication quorum counts only such answers.
     */
    java.util.OptionalLong receivedLsnOnTimeline(Member peer, int timeline);

    /**
     * Starts this cleanly stopped former primary as a standby of {@code newLeader}, which has received everything up
     * to this node's shutdown checkpoint: this node's WAL is a prefix of the new leader's, so no pg_rewind is needed.
     */
    void startAfterHandover(Member newLeader);

    /** Deletes the data directory's contents (before a fresh clone). */
    void removeDataDirectory();

    /** Creates missing physical replication slots on this primary. */
    void createSlots(Set<String> slots);

    /** Drops those of these physical slots that exist and nobody streams from; returns the ones dropped. */
    Set<String> dropUnusedSlots(Set<String> slots);

    /** How to stop. */
    enum StopMode {
        /** Checkpoint, then stop: a clean shutdown (switchover, agent shutdown). */
        FAST,
        /** SIGQUIT: stop taking writes now, no checkpoint (lost lease, demotion). */
        IMMEDIATE
    }
}

package io.pgkeel.agent.ha;

/**
 * What one HA cycle does. Each action carries a stable one-sentence reason, logged once per cycle; runbooks and
 * tests match on these sentences, so change them only on purpose.
 */
public sealed interface Action permits Action.Bootstrap, Action.CloneFromLeader, Action.StartPostgres,
        Action.AcquireLeader, Action.ReattachLeader, Action.LeadAsPrimary, Action.Promote, Action.Demote,
        Action.Follow, Action.Rewind, Action.Switchover, Action.ClearFailoverKey, Action.ReleaseLeader,
        Action.Restart, Action.Reinitialize, Action.DropReplicaSlots, Action.Wait {

    String reason();

    /** Race for the {@code initialize} key; the winner runs initdb, starts as primary and takes the leader key. */
    record Bootstrap(String reason) implements Action {}

    /** pg_basebackup from the leader, then start as its replica. */
    record CloneFromLeader(String leader, String reason) implements Action {}

    /**
     * Start the local postmaster.
     *
     * @param follow the leader whose WAL to stream, or null (a primary, or a replica with no leader to follow yet)
     */
    record StartPostgres(boolean asPrimary, String follow, String reason) implements Action {}

    /**
     * CAS-create the leader key on my lease; when won and {@code promote}, promote the local standby at once and
     * create {@code slotsAfterPromote} for the replicas. Never promotes without the key.
     */
    record AcquireLeader(boolean promote, java.util.Set<String> slotsAfterPromote, String reason) implements Action {
        public AcquireLeader {
            slotsAfterPromote = java.util.Set.copyOf(slotsAfterPromote);
        }
    }

    /** The leader key still names me but rides on an older lease of mine: move it onto my current lease. */
    record ReattachLeader(String reason) implements Action {}

    /**
     * I hold the key and run as primary: publish my WAL position in {@code status}, create the replication slots
     * the other members need, drop (if unused) those of members gone for longer than {@code member_slots_ttl} and
     * publish the members' slots it keeps, departed members' included ({@code slotsToRetain}, in {@code status}),
     * write the {@code initialize}/{@code config} keys if they are missing, and bring {@code history} up to my
     * timeline when it is behind.
     */
    record LeadAsPrimary(long optime, java.util.Set<String> slotsToCreate, java.util.Set<String> slotsToDrop,
                         java.util.Set<String> slotsToRetain, String systemIdentifierToWrite, boolean writeConfig,
                         boolean writeHistory, String reason) implements Action {
        public LeadAsPrimary {
            slotsToCreate = java.util.Set.copyOf(slotsToCreate);
            slotsToDrop = java.util.Set.copyOf(slotsToDrop);
            slotsToRetain = java.util.Set.copyOf(slotsToRetain);
        }
    }

    /** I hold the key but PostgreSQL is a standby: promote it, then create the replicas' slots. */
    record Promote(java.util.Set<String> slotsAfterPromote, String reason) implements Action {
        public Promote {
            slotsAfterPromote = java.util.Set.copyOf(slotsAfterPromote);
        }
    }

    /**
     * Stop taking writes now: {@code pg_ctl stop -m immediate}. The next cycles restart PostgreSQL as a replica
     * (through pg_rewind when it diverged).
     *
     * @param releaseKey delete the leader key (if it still names me) once stopped
     */
    record Demote(boolean releaseKey, String reason) implements Action {}

    /** Point primary_conninfo at {@code leader} (or at nobody when null) and reload. */
    record Follow(String leader, String reason) implements Action {}

    /** This former primary may have diverged from {@code leader}: pg_rewind (or re-clone), then start as replica. */
    record Rewind(String leader, String reason) implements Action {}

    /**
     * Planned switchover, run by the leader: stop PostgreSQL with a shutdown checkpoint, wait (briefly) until one of
     * {@code candidates} has received WAL up to that checkpoint, then write it as the leader's last position, release
     * the leader key and restart as that candidate's standby. If no candidate catches up in time, the leader keeps
     * the key, clears the failover key, and the next cycle restarts it as primary: no acknowledged write is lost.
     *
     * @param candidates healthy members, best first; the named candidate alone when the request named one
     * @param failoverRevision the failover key's mod revision, to clear it if the switchover is abandoned
     */
    record Switchover(java.util.List<String> candidates, long failoverRevision, String reason) implements Action {
        public Switchover {
            candidates = java.util.List.copyOf(candidates);
        }
    }

    /** Delete the {@code failover} key (CAS on its revision): the request cannot or need not be carried out. */
    record ClearFailoverKey(long failoverRevision, String reason) implements Action {}

    /** Delete the leader key without touching PostgreSQL (pause mode: the key holder no longer runs as primary). */
    record ReleaseLeader(String reason) implements Action {}

    /** An operator asked for a restart: stop with a checkpoint, start again in the same role. */
    record Restart(boolean asPrimary, String follow, String reason) implements Action {}

    /** An operator asked to rebuild this replica: stop, wipe the data directory, clone from {@code leader}. */
    record Reinitialize(String leader, String reason) implements Action {}

    /**
     * I am a running replica that still has slots of this cluster's (kept from when it was primary, or permanent
     * ones): drop those nobody streams from. On a standby they would hold back its WAL for ever.
     */
    record DropReplicaSlots(java.util.Set<String> slots, String reason) implements Action {
        public DropReplicaSlots {
            slots = java.util.Set.copyOf(slots);
        }
    }

    /** Nothing to change this cycle. */
    record Wait(String reason) implements Action {}
}

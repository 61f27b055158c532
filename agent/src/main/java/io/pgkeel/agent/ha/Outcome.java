package io.pgkeel.agent.ha;

import java.util.Set;

/**
 * What carrying out one action achieved, as far as the loop and the next cycles need to know.
 *
 * @param error          why it failed (it may have done part of its work), or null when it did all of it
 * @param acquiredLeader this cycle took the leader key (a won race, a bootstrap)
 * @param droppedSlots   the replication slots it dropped
 * @param rewindFailed   pg_rewind ran and failed: the data directory cannot follow the leader as it is. The action
 *                       itself did what it says (stop, try pg_rewind): it is not an error, and its pace applies
 * @param failsafeConfirmedSentAt a failsafe round every member accepted: the monotonic time just before its first
 *                       request was sent (each member's promise runs from a later instant); null otherwise
 */
public record Outcome(String error, boolean acquiredLeader, Set<String> droppedSlots, boolean rewindFailed,
                      Long failsafeConfirmedSentAt) {
    public static final Outcome DONE = new Outcome(null, false, Set.of(), false);

    public Outcome {
        droppedSlots = Set.copyOf(droppedSlots);
    }

    public Outcome(String error, boolean acquiredLeader, Set<String> droppedSlots, boolean rewindFailed) {
        this(error, acquiredLeader, droppedSlots, rewindFailed, null);
    }

    /** Every member the failsafe round asked accepted; the round was sent at {@code sentAtNanos}. */
    static Outcome failsafeConfirmed(long sentAtNanos) {
        return new Outcome(null, false, Set.of(), false, sentAtNanos);
    }

    public static Outcome failed(String error) {
        return new Outcome(error, false, Set.of(), false);
    }

    static Outcome acquired() {
        return new Outcome(null, true, Set.of(), false);
    }

    static Outcome dropped(Set<String> slots) {
        return new Outcome(null, false, slots, false);
    }

    static Outcome failedRewind() {
        return new Outcome(null, false, Set.of(), true);
    }

    public boolean ok() {
        return error == null;
    }
}

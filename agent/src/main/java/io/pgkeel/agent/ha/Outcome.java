package io.pgkeel.agent.ha;

import java.util.Set;

/**
 * What carrying out one action achieved, as far as the loop and the next cycles need to know.
 *
 * @param error          why it failed (it may have done part of its work), or null when it did all of it
 * @param acquiredLeader this cycle took the leader key (a won race, a bootstrap)
 * @param droppedSlots   the replication slots it dropped
 * @param rewindFailed   pg_rewind ran and failed: the data directory cannot follow the leader as it is
 * @param bootstrapFailed initdb (or starting the new cluster) failed after this node won the initialize key
 */
public record Outcome(String error, boolean acquiredLeader, Set<String> droppedSlots, boolean rewindFailed,
                      boolean bootstrapFailed) {
    public static final Outcome DONE = new Outcome(null, false, Set.of(), false, false);

    public Outcome {
        droppedSlots = Set.copyOf(droppedSlots);
    }

    public static Outcome failed(String error) {
        return new Outcome(error, false, Set.of(), false, false);
    }

    static Outcome acquired() {
        return new Outcome(null, true, Set.of(), false, false);
    }

    static Outcome dropped(Set<String> slots) {
        return new Outcome(null, false, slots, false, false);
    }

    static Outcome failedRewind() {
        return new Outcome(null, false, Set.of(), true, false);
    }

    static Outcome failedBootstrap(String error) {
        return new Outcome(error, false, Set.of(), false, true);
    }

    public boolean ok() {
        return error == null;
    }
}

package io.pgkeel.agent.ha;

/**
 * What the HA loop reports as it goes, for metrics. Implementations must be fast, must not block and must not
 * throw (they run on the loop thread).
 */
public interface HaListener {
    /** One cycle ended with {@code action}; {@code nanos} is the whole cycle (observe, decide, act). */
    default void cycle(String action, long nanos) {}

    /** A lease refresh succeeded after {@code nanos}. */
    default void leaseRenewed(long nanos) {}

    /** This node promoted; {@code nanos} from the start of the cycle that decided it to the end of pg_ctl promote. */
    default void promoted(long nanos) {}

    /**
     * PostgreSQL's role changed while the loop carried out {@code action}, which did not fail; {@code unexpected}
     * when {@link Role#TRANSITIONS} does not list the change.
     */
    default void roleChanged(Role from, Role to, String action, boolean unexpected) {}

    HaListener NONE = new HaListener() {};
}

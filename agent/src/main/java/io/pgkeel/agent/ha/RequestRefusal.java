package io.pgkeel.agent.ha;

/**
 * Why the HA loop did not carry out an operator's restart or reinitialize. The REST API answers each with the text
 * Patroni's ha.py gives for it ({@code Ha.restart}, {@code Ha.reinitialize}); the loop's own sentence, which says
 * more, goes to the log.
 */
public enum RequestRefusal {
    /** Restart: the member is not in the role asked for, or is a primary without the leader key. */
    CONDITIONS_NOT_SATISFIED,
    /** Another request is being served (Patroni: another async action is scheduled). */
    ALREADY_IN_PROGRESS,
    /** Reinitialize on the member that holds the leader key. */
    I_AM_THE_LEADER,
    /** Reinitialize with no running leader to clone from. */
    CLUSTER_HAS_NO_LEADER,
    /**
     * Not served: the cycle had something more urgent to do (safety, recovery, no DCS), PostgreSQL was not running
     * for a restart, or the action was tried and failed.
     */
    NOT_CARRIED_OUT
}

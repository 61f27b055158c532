package io.pgkeel.agent.ha;

/**
 * Something an operator asked this node to do through the REST API. The loop thread owns PostgreSQL, so a request
 * is handed to the next cycle, where {@link HaPolicy#decide} grants it (or says why not) like any other decision.
 */
public sealed interface OperatorRequest {

    /**
     * Restart PostgreSQL in its current role.
     *
     * @param role only if this node has this role ("primary" or "replica"); null for any
     */
    record Restart(String role) implements OperatorRequest {}

    /** Wipe this replica's data directory and clone it anew from the leader. */
    record Reinitialize() implements OperatorRequest {}
}

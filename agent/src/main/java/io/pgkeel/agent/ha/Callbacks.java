package io.pgkeel.agent.ha;

/**
 * Patroni's {@code postgresql.callbacks}: {@code on_start}, {@code on_stop}, {@code on_restart}, {@code on_reload},
 * {@code on_role_change}, each called as {@code script action role scope}. Implementations must return at once: the
 * HA loop never waits for a script.
 */
public interface Callbacks {
    Callbacks NONE = (action, role) -> { };

    /** @param role "primary", "replica" or "demoted" */
    void fire(String action, String role);
}

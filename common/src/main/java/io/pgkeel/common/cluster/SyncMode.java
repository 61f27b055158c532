package io.pgkeel.common.cluster;

import java.util.Locale;

/**
 * Patroni's {@code synchronous_mode}: off, on ({@code FIRST n (...)}: only a member the {@code sync} key names may be
 * promoted), or quorum ({@code ANY n (...)}: a candidate must see enough of the {@code sync} key's voters). Patroni 4.1
 * (patroni/global_config.py) takes any of its boolean spellings for on and off, and the string {@code quorum}.
 */
public enum SyncMode {
    OFF, ON, QUORUM;

    /**
     * The mode a {@code synchronous_mode} value asks for, as Patroni 4.1 reads it (global_config.py
     * {@code is_quorum_commit_mode}/{@code check_mode}, validator.py {@code validate_synchronous_mode}):
     * {@code quorum} in any case, or one of {@code parse_bool}'s on/true/yes/1 and off/false/no/0 (a whole number 1
     * or 0 too); absent (null) is off. Null for anything else (the caller names it as a problem).
     */
    public static SyncMode parse(Object value) {
        if (value == null) {
            return OFF;
        }
        if (value instanceof String s && s.toLowerCase(Locale.ROOT).equals("quorum")) {
            return QUORUM;
        }
        Boolean on = DynamicConfigParser.patroniBool(value);
        return on == null ? null : on ? ON : OFF;
    }

    /** Synchronous replication of either kind is asked for. */
    public boolean isOn() {
        return this != OFF;
    }
}

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
     * The mode a {@code synchronous_mode} value asks for; null for a value that is none of Patroni's spellings (the
     * caller names it as a problem).
     */
    public static SyncMode parse(Object value) {
        if (value == null) {
            return OFF;
        }
        if (value instanceof Boolean b) {
            return b ? ON : OFF;
        }
        if (value instanceof Number n && (n.doubleValue() == 0 || n.doubleValue() == 1)) {
            return n.doubleValue() == 1 ? ON : OFF;
        }
        if (value instanceof String s) {
            return switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "quorum" -> QUORUM;
                case "on", "true", "yes", "1", "y", "t" -> ON;
                case "off", "false", "no", "0", "n", "f", "" -> OFF;
                default -> null;
            };
        }
        return null;
    }

    /** Synchronous replication of either kind is asked for. */
    public boolean isOn() {
        return this != OFF;
    }
}

package io.pgkeel.common.cluster;

import java.util.Locale;
import java.util.Map;

/** Patroni's member tags: {@code nofailover}, {@code failover_priority}, {@code noloadbalance}, custom keys. */
public final class Tags {
    private Tags() {}

    /**
     * Never race for the leader key. A {@code nofailover} tag that is present decides on its own (Patroni 3.2.2+,
     * patroni/tags.py: "value of bool tag takes precedence over priority tag"); without it, a
     * {@code failover_priority} of 0 or less means never.
     */
    public static boolean nofailover(Map<String, Object> tags) {
        Object tag = tags.get("nofailover");
        if (tag != null) {
            return truthy(tag);
        }
        Integer priority = priority(tags.get("failover_priority"));
        return priority != null && priority <= 0;
    }

    /**
     * The rank among members equally far ahead: 0 when {@code nofailover} is true, else {@code failover_priority},
     * else 1 (also for a value that is not a whole number), as Patroni's.
     */
    public static int failoverPriority(Map<String, Object> tags) {
        if (truthy(tags.get("nofailover"))) {
            return 0;
        }
        Integer priority = priority(tags.get("failover_priority"));
        return priority == null ? 1 : priority;
    }

    /**
     * Patroni's start-up warning for tags that say two things (patroni/config.py): nofailover true with a positive
     * priority, or false with a priority of 0 or less. Empty when they agree; nofailover wins either way.
     */
    public static java.util.Optional<String> conflict(Map<String, Object> tags) {
        if (!tags.containsKey("nofailover")) {
            return java.util.Optional.empty();
        }
        Integer priority = priority(tags.get("failover_priority"));
        boolean nofailover = truthy(tags.get("nofailover"));
        if (priority == null || nofailover == priority <= 0) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of("tags: conflicting configuration between nofailover: " + nofailover
                + " and failover_priority: " + priority + "; nofailover: " + nofailover + " wins");
    }

    private static Integer priority(Object v) {
        if (v instanceof Number n) {
            return n.intValue();
        }
        if (v instanceof String s) {
            try {
                return Integer.parseInt(s.trim());
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }

    public static boolean truthy(Object v) {
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof String s) {
            String t = s.trim().toLowerCase(Locale.ROOT);
            return t.equals("true") || t.equals("on") || t.equals("yes") || t.equals("1");
        }
        return v instanceof Number n && n.intValue() != 0;
    }
}

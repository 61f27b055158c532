package io.pgkeel.common.cluster;

import java.util.Locale;
import java.util.Map;

/** Patroni's member tags: {@code nofailover}, {@code failover_priority}, {@code noloadbalance}, custom keys. */
public final class Tags {
    private Tags() {}

    /** {@code nofailover: true}, or {@code failover_priority <= 0}: never race for the leader key. */
    public static boolean nofailover(Map<String, Object> tags) {
        return truthy(tags.get("nofailover")) || (tags.containsKey("failover_priority") && failoverPriority(tags) <= 0);
    }

    /** Defaults to 1, as Patroni's. A value that is not a number counts as the default. */
    public static int failoverPriority(Map<String, Object> tags) {
        Object v = tags.get("failover_priority");
        if (v instanceof Number n) {
            return n.intValue();
        }
        if (v instanceof String s) {
            try {
                return Integer.parseInt(s.trim());
            } catch (NumberFormatException e) {
                return 1;
            }
        }
        return 1;
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

package io.pgkeel.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A YAML node with the path that reached it ({@code postgresql.authentication.superuser.password}) and where
 * it came from ({@code patroni.yml line 12}, or an environment variable), so every error can name both.
 */
sealed interface ConfigNode permits ConfigNode.MapNode, ConfigNode.ListNode, ConfigNode.ScalarNode {
    String path();

    String origin();

    /** A plain Java value: Map, List, String, Long, Double, Boolean or null. */
    Object toPlain();

    record MapNode(String path, String origin, Map<String, ConfigNode> entries) implements ConfigNode {
        @Override
        public Object toPlain() {
            Map<String, Object> out = new LinkedHashMap<>();
            entries.forEach((k, v) -> out.put(k, v.toPlain()));
            return out;
        }
    }

    record ListNode(String path, String origin, List<ConfigNode> items) implements ConfigNode {
        @Override
        public Object toPlain() {
            return items.stream().map(ConfigNode::toPlain).toList();
        }
    }

    /** @param value the text as written; {@code plain} says it was unquoted (so {@code true}/{@code 5} are typed) */
    record ScalarNode(String path, String origin, String value, boolean plain) implements ConfigNode {
        @Override
        public Object toPlain() {
            if (!plain) {
                return value;
            }
            if (value == null || value.equals("~") || value.equals("null") || value.isEmpty()) {
                return null;
            }
            switch (value) {
                case "true", "True", "TRUE", "on", "On", "ON", "yes", "Yes", "YES":
                    return Boolean.TRUE;
                case "false", "False", "FALSE", "off", "Off", "OFF", "no", "No", "NO":
                    return Boolean.FALSE;
                default:
                    break;
            }
            try {
                return Long.parseLong(value);
            } catch (NumberFormatException e) {
                // not an integer
            }
            try {
                if (value.matches("[-+]?[0-9]*\\.[0-9]+([eE][-+]?[0-9]+)?")) {
                    return Double.parseDouble(value);
                }
            } catch (NumberFormatException e) {
                // not a float
            }
            return value;
        }
    }
}

package io.pgkeel.dcs;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.DynamicConfigParser;
import io.pgkeel.common.cluster.FailoverKey;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.cluster.SyncKey;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Patroni's value formats for each key. Decoding never throws: a value that is not what Patroni would write
 * comes back as a {@link Decoded#garbage} with a sentence saying what is wrong.
 */
final class ValueCodec {
    static final ObjectMapper JSON = new ObjectMapper();

    private ValueCodec() {}

    /** Either a value or why the text is not one. */
    record Decoded<T>(T value, String problem) {
        static <T> Decoded<T> ok(T value) {
            return new Decoded<>(value, null);
        }

        static <T> Decoded<T> garbage(String problem) {
            return new Decoded<>(null, problem);
        }

        boolean isOk() {
            return problem == null;
        }
    }

    static Decoded<Member> member(String name, String text, long modRevision) {
        JsonNode node = object(text);
        if (node == null) {
            return Decoded.garbage("not a JSON object");
        }
        Map<String, Object> tags = new LinkedHashMap<>();
        JsonNode t = node.get("tags");
        if (t != null && t.isObject()) {
            t.fields().forEachRemaining(e -> tags.put(e.getKey(), plain(e.getValue())));
        }
        tags.values().removeIf(java.util.Objects::isNull);
        return Decoded.ok(new Member(name, text(node, "conn_url"), text(node, "api_url"), text(node, "state"),
                text(node, "role"), (int) number(node, "timeline"), number(node, "xlog_location"),
                text(node, "replication_state"), tags, modRevision, node.path("pause").asBoolean(false),
                node.path("pending_restart").asBoolean(false), number(node, "receive_lsn"), number(node, "replay_lsn"),
                objectField(node, "pending_restart_reason"), objectField(node, "scheduled_restart"),
                Optional.ofNullable(text(node, "paused_leader")).filter(n -> !n.isEmpty()).orElse(null)));
    }

    static String encodeMember(Member m, String version) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("conn_url", m.connUrl());
        out.put("api_url", m.apiUrl());
        out.put("state", m.state());
        out.put("role", m.role());
        out.put("version", version);
        if (m.xlogLocation() > 0) {
            out.put("xlog_location", m.xlogLocation());
        }
        if (m.timeline() > 0) {
            out.put("timeline", m.timeline());
        }
        if (m.replicationState() != null) {
            out.put("replication_state", m.replicationState());
        }
        if (m.pause()) {
            out.put("pause", true);
        }
        if (m.pendingRestart()) {
            out.put("pending_restart", true);
        }
        if (!m.pendingRestartReason().isEmpty()) {
            out.put("pending_restart_reason", m.pendingRestartReason());
        }
        if (m.replayLsn() > 0) {
            out.put("replay_lsn", m.replayLsn());
        }
        if (m.receiveLsn() > 0) {
            out.put("receive_lsn", m.receiveLsn());
        }
        if (!m.scheduledRestart().isEmpty()) {
            out.put("scheduled_restart", m.scheduledRestart());
        }
        if (!m.tags().isEmpty()) {
            out.put("tags", m.tags());
        }
        if (m.pausedLeader() != null) {
            out.put("paused_leader", m.pausedLeader()); // pgkeel's: Patroni ignores it
        }
        return json(out);
    }

    static Decoded<String> leader(String text) {
        String name = text.trim();
        if (name.isEmpty() || name.contains("\n") || name.contains("/")) {
            return Decoded.garbage("not a member name");
        }
        return Decoded.ok(name);
    }

    static Decoded<DynamicConfig> config(String text, long modRevision, List<String> problems) {
        JsonNode node = object(text);
        if (node == null) {
            return Decoded.garbage("not a JSON object");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> raw = (Map<String, Object>) plain(node);
        return Decoded.ok(DynamicConfigParser.parse(raw, "config", problems).withRevision(modRevision));
    }

    /** The status key: the leader's WAL position, and the members' slots it keeps (departed members' included). */
    record Status(long optime, java.util.Set<String> retainSlots) {}

    /**
     * {@code {"optime": 67395656, "slots": {...}, "retain_slots": ["node4"]}} (Patroni 2.1+; {@code slots} since 3.0,
     * {@code retain_slots} since 4.0), or a bare integer as Patroni before 2.1 wrote under optime/leader. The optime
     * may be a digit string: Patroni reads {@code int(optime)}. A {@code retain_slots} that is not a list of names is
     * ignored (the optime still counts).
     */
    static Decoded<Status> status(String text) {
        String t = text.trim();
        if (t.matches("\\d+")) {
            return Decoded.ok(new Status(Long.parseLong(t), java.util.Set.of()));
        }
        JsonNode node = object(t);
        JsonNode optime = node == null ? null : node.get("optime");
        boolean digits = optime != null && optime.isTextual() && optime.asText().trim().matches("\\d{1,18}");
        if (optime == null || !(optime.isIntegralNumber() && optime.canConvertToLong() || digits)) {
            return Decoded.garbage("expected {\"optime\": <integer LSN>}");
        }
        java.util.Set<String> retain = new java.util.TreeSet<>();
        JsonNode slots = node.path("retain_slots");
        if (slots.isArray()) {
            slots.forEach(s -> {
                if (s.isTextual()) {
                    retain.add(s.asText());
                }
            });
        }
        return Decoded.ok(new Status(digits ? Long.parseLong(optime.asText().trim()) : optime.asLong(), retain));
    }

    /** Patroni 3.0's form when no slot is retained; {@code retain_slots} (sorted) otherwise, as Patroni 4 adds. */
    static String encodeStatus(long optime, java.util.Set<String> retainSlots) {
        return encodeStatus(null, optime, retainSlots);
    }

    /**
     * The status key as the leader rewrites it over {@code previous} (the value it read, any Patroni version's, or
     * null): {@code optime} and {@code retain_slots} are pgkeel's and are replaced (the latter left out when
     * empty); every other field ({@code slots}, the permanent slots' positions pgkeel does not track, and any a later
     * version adds) stays as it was, in its place (Patroni writes optime first). A previous value that is not a JSON object is not kept.
     */
    static String encodeStatus(String previous, long optime, java.util.Set<String> retainSlots) {
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("optime", optime);
        JsonNode before = previous == null ? null : object(previous);
        if (before != null) {
            before.properties().forEach(f -> status.putIfAbsent(f.getKey(), plain(f.getValue())));
        }
        if (retainSlots.isEmpty()) {
            status.remove("retain_slots");
        } else {
            status.put("retain_slots", new java.util.TreeSet<>(retainSlots));
        }
        return json(status);
    }

    /** {@code {"leader": ..., "member": ..., "scheduled_at": ...}}, or Patroni's legacy {@code leader:member}. */
    static Decoded<FailoverKey> failover(String text, long modRevision) {
        String t = text.trim();
        if (t.isEmpty() || t.equals("{}")) {
            return Decoded.garbage("empty");
        }
        JsonNode node = object(t);
        if (node == null) {
            int colon = t.indexOf(':');
            if (colon >= 0 && !t.startsWith("{")) {
                String leader = t.substring(0, colon).trim();
                String member = t.substring(colon + 1).trim();
                return Decoded.ok(new FailoverKey(leader.isEmpty() ? null : leader, member.isEmpty() ? null : member,
                        null, modRevision));
            }
            return Decoded.garbage("not a JSON object");
        }
        return Decoded.ok(new FailoverKey(text(node, "leader"), text(node, "member"), text(node, "scheduled_at"),
                modRevision));
    }

    /**
     * The {@code sync} key, as Patroni's {@code SyncState.from_node}: a JSON object with a {@code leader}; no leader
     * (or {@code {}}) is an empty key ("empty", not garbage); {@code quorum} counts only beside a leader.
     */
    static Decoded<SyncKey> sync(String text, long modRevision) {
        Decoded<JsonNode> read = nonEmptyObject(text);
        if (!read.isOk()) {
            return Decoded.garbage(read.problem());
        }
        JsonNode node = read.value();
        JsonNode leaderNode = node.get("leader");
        if (leaderNode == null || leaderNode.isNull() || leaderNode.isTextual() && leaderNode.asText().isEmpty()) {
            return Decoded.garbage("empty");
        }
        if (!leaderNode.isTextual()) {
            return Decoded.garbage("leader is not a member name");
        }
        String leader = leaderNode.asText();
        JsonNode standby = node.get("sync_standby");
        String names = standby == null || standby.isNull() ? null : standby.isTextual() ? standby.asText() : null;
        if (standby != null && !standby.isNull() && names == null) {
            return Decoded.garbage("sync_standby is not a string of comma separated names");
        }
        JsonNode q = node.get("quorum");
        int quorum = 0;
        if (q != null && !q.isNull()) {
            if (q.isIntegralNumber() && q.canConvertToInt() && q.asInt() >= 0) {
                quorum = q.asInt();
            } else if (q.isTextual() && q.asText().trim().matches("\\d{1,9}")) {
                quorum = Integer.parseInt(q.asText().trim());
            } else {
                return Decoded.garbage("quorum is not a whole number");
            }
        }
        return Decoded.ok(new SyncKey(leader,
                SyncKey.splitNames(names), quorum, modRevision));
    }

    /**
     * Patroni 4.1's sync value ({@code write_sync_state}): {@code {"leader":..,"quorum":..,"sync_standby":"a,b"}},
     * names sorted, {@code sync_standby} null when there are none; byte for byte Python's
     * {@code json.dumps(..., separators=(',', ':'))}, which escapes every character outside printable ASCII.
     */
    static String encodeSync(String leader, java.util.Collection<String> voters, int quorum) {
        return "{\"leader\":" + pythonJsonString(leader) + ",\"quorum\":" + quorum + ",\"sync_standby\":"
                + (voters.isEmpty() ? "null" : pythonJsonString(String.join(",", new java.util.TreeSet<>(voters))))
                + "}";
    }

    /**
     * The {@code failsafe} key (Patroni 3.0+): a JSON object of member name -> api_url. {@code {}} or blank is
     * "empty"; anything else that is not an object of strings is garbage (Patroni then runs without failsafe).
     */
    static Decoded<Map<String, String>> failsafe(String text) {
        Decoded<JsonNode> read = nonEmptyObject(text);
        if (!read.isOk()) {
            return Decoded.garbage(read.problem());
        }
        JsonNode node = read.value();
        Map<String, String> out = new java.util.TreeMap<>();
        for (var it = node.fields(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getValue().isTextual() || e.getKey().isEmpty()) {
                return Decoded.garbage("the api_url of member '" + e.getKey() + "' is not a string");
            }
            out.put(e.getKey(), e.getValue().asText());
        }
        return out.isEmpty() ? Decoded.garbage("empty") : Decoded.ok(out);
    }

    /** A key's JSON object; blank or {@code {}} is "empty", anything but an object "not a JSON object". */
    private static Decoded<JsonNode> nonEmptyObject(String text) {
        String t = text.trim();
        if (t.isEmpty() || t.equals("{}")) {
            return Decoded.garbage("empty");
        }
        JsonNode node = object(t);
        return node == null ? Decoded.garbage("not a JSON object") : Decoded.ok(node);
    }

    /**
     * Patroni's failsafe value ({@code write_failsafe}): {@code {"a":"http://a:8008/patroni",...}}, names sorted
     * (Patroni writes its members' order; any order reads the same), byte for byte Python's compact JSON.
     */
    static String encodeFailsafe(Map<String, String> topology) {
        StringBuilder sb = new StringBuilder("{");
        new java.util.TreeMap<>(topology).forEach((name, url) -> {
            if (sb.length() > 1) {
                sb.append(',');
            }
            sb.append(pythonJsonString(name)).append(':').append(pythonJsonString(url));
        });
        return sb.append('}').toString();
    }

    /** A JSON string as Python's json module writes it (ensure_ascii): lower-case hex escapes outside space..~. */
    private static String pythonJsonString(String value) {
        StringBuilder sb = new StringBuilder("\"");
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            switch (ch) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (ch >= ' ' && ch <= '~') {
                        sb.append(ch);
                    } else {
                        sb.append(String.format("\\u%04x", (int) ch));
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    /** Patroni's failover value: only the fields that are set. */
    static String encodeFailover(String leader, String member, String scheduledAt) {
        Map<String, Object> v = new java.util.LinkedHashMap<>();
        if (leader != null && !leader.isEmpty()) {
            v.put("leader", leader);
        }
        if (member != null && !member.isEmpty()) {
            v.put("member", member);
        }
        if (scheduledAt != null && !scheduledAt.isEmpty()) {
            v.put("scheduled_at", scheduledAt);
        }
        return json(v);
    }

    /** {@code [[1, 25165984, "no recovery target specified", "2026-...", "node2"], ...]}: entries that are lists. */
    @SuppressWarnings("unchecked")
    static Decoded<List<List<Object>>> history(String text) {
        try {
            JsonNode node = JSON.readTree(text);
            if (node == null || !node.isArray()) {
                return Decoded.garbage("expected a JSON list of [timeline, lsn, reason, timestamp, leader]");
            }
            List<List<Object>> out = new ArrayList<>();
            for (JsonNode entry : node) {
                if (!entry.isArray()) {
                    return Decoded.garbage("every history entry must be a list");
                }
                out.add((List<Object>) plain(entry));
            }
            return Decoded.ok(out);
        } catch (JsonProcessingException e) {
            return Decoded.garbage("not JSON");
        }
    }

    static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot encode " + value, e);
        }
    }

    private static JsonNode object(String text) {
        try {
            JsonNode node = JSON.readTree(text);
            return node != null && node.isObject() ? node : null;
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v.isValueNode() ? v.asText() : v.toString();
    }

    /** A JSON object field as plain maps and lists; empty when absent or not an object (a hand edit). */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> objectField(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v != null && v.isObject() ? (Map<String, Object>) plain(v) : Map.of();
    }

    private static long number(JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null) {
            return 0;
        }
        if (v.canConvertToLong()) {
            return v.asLong();
        }
        if (v.isTextual()) {
            try {
                return Long.parseLong(v.asText().trim());
            } catch (NumberFormatException e) {
                return 0;
            }
        }
        return 0;
    }

    static Object plain(JsonNode v) {
        if (v == null || v.isNull()) {
            return null;
        }
        if (v.isObject()) {
            Map<String, Object> m = new LinkedHashMap<>();
            v.fields().forEachRemaining(e -> m.put(e.getKey(), plain(e.getValue())));
            return m;
        }
        if (v.isArray()) {
            List<Object> l = new ArrayList<>();
            v.forEach(i -> l.add(plain(i)));
            return l;
        }
        if (v.isBoolean()) {
            return v.asBoolean();
        }
        if (v.isBigInteger()) {
            return v.bigIntegerValue();
        }
        if (v.isIntegralNumber()) {
            return v.asLong();
        }
        if (v.isNumber()) {
            return v.asDouble();
        }
        return v.asText();
    }
}

package io.pgkeel.common.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The tags a node advertises, as Patroni's {@code Tags._filter_tags} (4.1); and nofailover/failover_priority and
 * nosync/sync_priority as Patroni 3.2.2+/4.1 reads them (patroni/tags.py): a boolean tag that is present decides on
 * its own (true: priority 0); the priority then only ranks; without the boolean tag, a priority of 0 or less means
 * never.
 */
class TagsTest {

    /**
     * One table for both pairs: Patroni's {@code _bool_tag}/{@code _priority_tag} read nofailover/failover_priority
     * and nosync/sync_priority alike.
     */
    static Stream<Arguments> booleanAndPriorityTags() {
        List<String> rows = List.of(
                "-,     -,   false, 1",
                "true,  -,   true,  0",
                "false, -,   false, 1",
                "false, 0,   false, 0",
                "false, -3,  false, -3",
                "true,  5,   true,  0",
                "-,     0,   true,  0",
                "-,     -1,  true,  -1",
                "-,     2,   false, 2",
                "-,     abc, false, 1",
                "false, 2,   false, 2");
        return Stream.of("nofailover/failover_priority", "nosync/sync_priority").flatMap(pair -> rows.stream()
                .map(r -> r.split(",\\s*"))
                .map(r -> Arguments.of(pair.split("/")[0], pair.split("/")[1], r[0].equals("-") ? null : r[0],
                        r[1].equals("-") ? null : r[1], Boolean.parseBoolean(r[2]), Integer.parseInt(r[3].trim()))));
    }

    @ParameterizedTest(name = "{0}={2}, {1}={3} -> {0} {4}, priority {5}")
    @MethodSource
    void booleanAndPriorityTags(String boolName, String priorityName, String bool, String priority,
                                boolean expectBool, int expectPriority) {
        Map<String, Object> tags = new HashMap<>();
        if (bool != null) {
            tags.put(boolName, Boolean.parseBoolean(bool));
        }
        if (priority != null) {
            tags.put(priorityName, priority.matches("-?\\d+") ? (Object) Integer.parseInt(priority) : priority);
        }
        boolean nofailover = boolName.equals("nofailover");
        assertThat(nofailover ? Tags.nofailover(tags) : Tags.nosync(tags)).isEqualTo(expectBool);
        assertThat(nofailover ? Tags.failoverPriority(tags) : Tags.syncPriority(tags)).isEqualTo(expectPriority);
        // Patroni warns at start when the two say different things (patroni/config.py, validate_tag)
        boolean conflicting = bool != null && priority != null && priority.matches("-?\\d+")
                && Boolean.parseBoolean(bool) == Integer.parseInt(priority) > 0;
        assertThat(Tags.conflicts(tags)).as("conflict warning").isEqualTo(conflicting
                ? List.of("tags: conflicting configuration between " + boolName + ": " + bool + " and " + priorityName
                        + ": " + priority + "; " + boolName + ": " + bool + " wins")
                : List.of());
    }

    @Test
    void bothPairsConflictingAreBothNamed() {
        assertThat(Tags.conflicts(Map.of("nofailover", true, "failover_priority", 1, "nosync", false,
                "sync_priority", 0))).containsExactly(
                "tags: conflicting configuration between nofailover: true and failover_priority: 1; nofailover: true"
                        + " wins",
                "tags: conflicting configuration between nosync: false and sync_priority: 0; nosync: false wins");
    }

    static Stream<Arguments> advertisedTags() {
        Map<String, Object> withNull = new HashMap<>();
        withNull.put("nostream", null);
        withNull.put("foo", "bar");
        return Stream.of(
                Arguments.of("every predefined boolean tag false is left out",
                        Map.of("nofailover", false, "noloadbalance", false, "clonefrom", false, "nosync", false,
                                "nostream", false),
                        Map.of()),
                Arguments.of("true ones stay",
                        Map.of("nofailover", true, "noloadbalance", true, "clonefrom", true, "nosync", true,
                                "nostream", true),
                        Map.of("nofailover", true, "noloadbalance", true, "clonefrom", true, "nosync", true,
                                "nostream", true)),
                Arguments.of("falsy in Python's sense: 0, empty string, empty list, null",
                        Map.of("nofailover", 0, "noloadbalance", "", "clonefrom", List.of()), Map.of()),
                Arguments.of("a null is left out", withNull, Map.of("foo", "bar")),
                Arguments.of("a non-empty string is truthy in Python, even 'false'",
                        Map.of("noloadbalance", "false", "nosync", 1), Map.of("noloadbalance", "false", "nosync", 1)),
                Arguments.of("custom tags stay whatever their value",
                        Map.of("foo", false, "bar", 0, "baz", "", "replicatefrom", "n2"),
                        Map.of("foo", false, "bar", 0, "baz", "", "replicatefrom", "n2")),
                Arguments.of("nofailover false stays beside failover_priority, which it overrides",
                        Map.of("nofailover", false, "failover_priority", 0),
                        Map.of("nofailover", false, "failover_priority", 0)),
                Arguments.of("nosync false stays beside sync_priority",
                        Map.of("nosync", false, "sync_priority", 2, "clonefrom", false),
                        Map.of("nosync", false, "sync_priority", 2)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void advertisedTags(String form, Map<String, Object> configured, Map<String, Object> advertised) {
        assertThat(Tags.advertised(configured)).isEqualTo(advertised);
    }
}

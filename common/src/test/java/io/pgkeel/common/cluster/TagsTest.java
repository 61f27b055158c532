package io.pgkeel.common.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The tags a node advertises, as Patroni's {@code Tags._filter_tags} (4.1); and
 * nofailover and failover_priority as Patroni 3.2.2+ reads them (patroni/tags.py): a nofailover tag that is present
 * decides on its own; failover_priority then only ranks; without nofailover, a priority of 0 or less means never.
 */
class TagsTest {

    @ParameterizedTest(name = "nofailover={0}, failover_priority={1} -> nofailover {2}, priority {3}")
    @CsvSource(nullValues = "-", textBlock = """
            -,     -,   false, 1
            true,  -,   true,  0
            false, -,   false, 1
            false, 0,   false, 0
            false, -3,  false, -3
            true,  5,   true,  0
            -,     0,   true,  0
            -,     -1,  true,  -1
            -,     2,   false, 2
            -,     abc, false, 1
            false, 2,   false, 2
            """)
    void nofailoverWinsOverFailoverPriority(String nofailover, String priority, boolean expectNofailover,
                                            int expectPriority) {
        Map<String, Object> tags = new HashMap<>();
        if (nofailover != null) {
            tags.put("nofailover", Boolean.parseBoolean(nofailover));
        }
        if (priority != null) {
            tags.put("failover_priority", priority.matches("-?\\d+") ? (Object) Integer.parseInt(priority) : priority);
        }
        assertThat(Tags.nofailover(tags)).isEqualTo(expectNofailover);
        assertThat(Tags.failoverPriority(tags)).isEqualTo(expectPriority);
        // Patroni warns at start when the two say different things (patroni/config.py, validate_tag)
        boolean conflicting = nofailover != null && priority != null && priority.matches("-?\\d+")
                && Boolean.parseBoolean(nofailover) == Integer.parseInt(priority) > 0;
        assertThat(Tags.conflict(tags)).as("conflict warning").isEqualTo(conflicting
                ? java.util.Optional.of("tags: conflicting configuration between nofailover: " + nofailover
                        + " and failover_priority: " + priority + "; nofailover: " + nofailover + " wins")
                : java.util.Optional.empty());
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

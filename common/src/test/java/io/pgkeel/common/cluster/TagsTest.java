package io.pgkeel.common.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The tags a node advertises, as Patroni's {@code Tags._filter_tags} (4.1) / {@code _filter_tags} (3.0.2). */
class TagsTest {

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

package io.pgkeel.common.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
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
}

package io.pgkeel.agent.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** GET /patroni lists the tags Patroni would: those set to false are left out ({@code _filter_tags}). */
class StatusJsonTagsTest {

    @Test
    void falseTagsAreLeftOut() {
        Map<String, Object> body = StatusJson.of(Snapshots.replica(5000, 5000, Map.of("nofailover", false,
                "noloadbalance", false, "clonefrom", false, "nosync", false, "nostream", false, "rack", "r1")));
        assertThat(body).containsEntry("tags", Map.of("rack", "r1"));
    }

    @Test
    void noTagsLeftMeansNoTagsField() {
        Map<String, Object> body = StatusJson.of(Snapshots.replica(5000, 5000, Map.of("nofailover", false)));
        assertThat(body).doesNotContainKey("tags");
    }
}

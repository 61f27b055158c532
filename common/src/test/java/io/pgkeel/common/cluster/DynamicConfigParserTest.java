package io.pgkeel.common.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DynamicConfigParserTest {
    private static int memberSlotsTtl(Object value, List<String> problems) {
        return DynamicConfigParser.parse(Map.of("member_slots_ttl", value), "config", problems).memberSlotsTtl();
    }

    @Test
    void memberSlotsTtl_defaultsToPatroniFoursThirtyMinutes() {
        List<String> problems = new ArrayList<>();
        assertThat(DynamicConfigParser.parse(Map.of(), "config", problems).memberSlotsTtl()).isEqualTo(1800);
        assertThat(problems).isEmpty();
    }

    @Test
    void memberSlotsTtl_takesSecondsOrPatronisUnits() {
        List<String> problems = new ArrayList<>();
        assertThat(memberSlotsTtl(0, problems)).isZero();
        assertThat(memberSlotsTtl(600, problems)).isEqualTo(600);
        assertThat(memberSlotsTtl("90", problems)).isEqualTo(90);
        assertThat(memberSlotsTtl("90s", problems)).isEqualTo(90);
        assertThat(memberSlotsTtl("30min", problems)).isEqualTo(1800);
        assertThat(memberSlotsTtl(" 2h ", problems)).isEqualTo(7200);
        assertThat(memberSlotsTtl("1d", problems)).isEqualTo(86400);
        assertThat(problems).isEmpty();
    }

    @Test
    void memberSlotsTtl_badValuesAreNamedAndKeepTheDefault() {
        List<String> problems = new ArrayList<>();
        assertThat(memberSlotsTtl(-5, problems)).isEqualTo(1800);
        assertThat(memberSlotsTtl("soon", problems)).isEqualTo(1800);
        assertThat(memberSlotsTtl("10 weeks", problems)).isEqualTo(1800);
        assertThat(memberSlotsTtl(1.5, problems)).isEqualTo(1800);
        assertThat(problems).hasSize(4).allSatisfy(p -> assertThat(p)
                .startsWith("config.member_slots_ttl: expected seconds (a whole number, or with s, min, h or d), got '")
                .endsWith("'; using 1800"));
    }
}

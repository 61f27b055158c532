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
    void primaryStartTimeoutAndTheRewindSwitches_asPatroniNamesThem() {
        List<String> problems = new ArrayList<>();
        DynamicConfig none = DynamicConfigParser.parse(Map.of(), "config", problems);
        assertThat(none.primaryStartTimeout()).as("Patroni's default").isEqualTo(300);
        assertThat(none.removeDataDirectoryOnRewindFailure()).isFalse();
        assertThat(none.removeDataDirectoryOnDivergedTimelines()).isFalse();
        assertThat(DynamicConfigParser.parse(Map.of("primary_start_timeout", 0), "config", problems)
                .primaryStartTimeout()).isZero();
        assertThat(DynamicConfigParser.parse(Map.of("master_start_timeout", 60), "config", problems)
                .primaryStartTimeout()).as("the name before Patroni 2.1").isEqualTo(60);
        assertThat(DynamicConfigParser.parse(Map.of("master_start_timeout", 60, "primary_start_timeout", 30), "config",
                problems).primaryStartTimeout()).as("the new name wins").isEqualTo(30);
        DynamicConfig on = DynamicConfigParser.parse(Map.of("postgresql", Map.of(
                "remove_data_directory_on_rewind_failure", true, "remove_data_directory_on_diverged_timelines", "on")),
                "config", problems);
        assertThat(on.removeDataDirectoryOnRewindFailure()).isTrue();
        assertThat(on.removeDataDirectoryOnDivergedTimelines()).isTrue();
        assertThat(problems).isEmpty();
        DynamicConfigParser.parse(Map.of("primary_start_timeout", "later"), "config", problems);
        assertThat(problems).singleElement().asString().contains("config.primary_start_timeout");
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

    @Test
    void permanentSlots_physicalOnesAreKept_logicalOnesNamedForAWarning() {
        List<String> problems = new ArrayList<>();
        Map<String, Object> slots = new java.util.LinkedHashMap<>();
        slots.put("dr_standby", Map.of("type", "physical"));
        slots.put("barman", null);
        slots.put("debezium", Map.of("type", "logical", "database", "app", "plugin", "pgoutput"));
        Map<String, Object> raw = Map.of("permanent_slots", slots);
        assertThat(DynamicConfigParser.parse(raw, "config", problems).permanentSlots())
                .containsExactlyInAnyOrder("dr_standby", "barman");
        assertThat(PermanentSlots.logical(raw)).containsExactly("debezium");
        assertThat(problems).isEmpty();
        assertThat(DynamicConfigParser.parse(Map.of("slots", Map.of("old_name", Map.of("type", "physical"))), "config",
                problems).permanentSlots()).as("Patroni's older key").containsExactly("old_name");
        assertThat(problems).isEmpty();
    }

    @Test
    void permanentSlots_badEntriesAreNamedAndLeftOut() {
        List<String> problems = new ArrayList<>();
        Map<String, Object> slots = new java.util.LinkedHashMap<>();
        slots.put("Bad-Name", Map.of("type", "physical"));
        slots.put("odd_type", Map.of("type", "virtual"));
        slots.put("not_a_map", "physical");
        slots.put("fine", Map.of("type", "physical"));
        assertThat(DynamicConfigParser.parse(Map.of("permanent_slots", slots), "config", problems).permanentSlots())
                .containsExactly("fine");
        assertThat(problems).containsExactly(
                "config.permanent_slots.Bad-Name: a slot name is 1 to 63 characters of a-z, 0-9 and _",
                "config.permanent_slots.odd_type.type: expected physical or logical, got 'virtual'",
                "config.permanent_slots.not_a_map: expected {type: physical} or {type: logical, database: ..., plugin:"
                        + " ...}, got 'physical'");
        problems.clear();
        assertThat(DynamicConfigParser.parse(Map.of("permanent_slots", List.of("a")), "config", problems)
                .permanentSlots()).isEmpty();
        assertThat(problems).singleElement().asString().startsWith("config.permanent_slots: expected a map");
    }
}

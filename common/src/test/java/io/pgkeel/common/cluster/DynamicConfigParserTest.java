package io.pgkeel.common.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class DynamicConfigParserTest {
    /**
     * failsafe_mode typed into etcd's config key (etcdctl, patronictl edit-config on an older version): anything that
     * is not one of Patroni's parse_bool spellings is named once and counts as off, as parse_bool's None does in
     * Patroni's is_failsafe_mode; the agent goes on (the same value in the YAML's bootstrap.dcs is refused at start,
     * ConfigLoaderTest).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("failsafeModeNotABoolean")
    void failsafeModeInTheConfigKeyThatIsNotABooleanIsNamedAndCountsAsOff(Object value) {
        Map<String, Object> raw = new HashMap<>();
        raw.put("failsafe_mode", value);
        List<String> problems = new ArrayList<>();
        DynamicConfig parsed = DynamicConfigParser.parse(raw, "config", problems);
        assertThat(parsed.failsafeMode()).isFalse();
        assertThat(problems).singleElement().asString().startsWith("config.failsafe_mode: ")
                .contains("got '" + value + "'").endsWith("; using false");
    }

    static Stream<Arguments> failsafeModeNotABoolean() {
        return Stream.of(Arguments.of("maybe"), Arguments.of(2L), Arguments.of(1.0), Arguments.of(" true"),
                Arguments.of(List.of(true)), Arguments.of(Map.of("on", true)));
    }

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

    /**
     * Every spelling Patroni 4.1 takes for synchronous_mode (validator.py validate_synchronous_mode, global_config.py
     * check_mode: {@code str(value).lower()} is quorum, or one of parse_bool's on/true/yes/1 and off/false/no/0),
     * as YAML and JSON deliver them; absent or null is off.
     */
    static Stream<Arguments> synchronousModeSpellings() {
        return Stream.of(
                Arguments.of(null, SyncMode.OFF), Arguments.of(true, SyncMode.ON), Arguments.of(false, SyncMode.OFF),
                Arguments.of(1, SyncMode.ON), Arguments.of(0, SyncMode.OFF), Arguments.of(1L, SyncMode.ON),
                Arguments.of(0L, SyncMode.OFF),
                Arguments.of("on", SyncMode.ON), Arguments.of("ON", SyncMode.ON), Arguments.of("true", SyncMode.ON),
                Arguments.of("True", SyncMode.ON), Arguments.of("yes", SyncMode.ON), Arguments.of("YES", SyncMode.ON),
                Arguments.of("1", SyncMode.ON),
                Arguments.of("off", SyncMode.OFF), Arguments.of("Off", SyncMode.OFF),
                Arguments.of("false", SyncMode.OFF), Arguments.of("FALSE", SyncMode.OFF),
                Arguments.of("no", SyncMode.OFF), Arguments.of("0", SyncMode.OFF),
                Arguments.of("quorum", SyncMode.QUORUM), Arguments.of("Quorum", SyncMode.QUORUM),
                Arguments.of("QUORUM", SyncMode.QUORUM));
    }

    @ParameterizedTest(name = "synchronous_mode: {0} -> {1}")
    @MethodSource("synchronousModeSpellings")
    void synchronousMode_everyPatroniSpelling(Object value, SyncMode expected) {
        List<String> problems = new ArrayList<>();
        Map<String, Object> raw = new HashMap<>();
        raw.put("synchronous_mode", value);
        assertThat(DynamicConfigParser.parse(raw, "config", problems).sync().mode()).isEqualTo(expected);
        assertThat(problems).isEmpty();
    }

    /**
     * What Patroni's validator refuses is named with its key; the mode is then on, so that a typo never switches
     * synchronous replication off quietly (Patroni itself would run off on it).
     */
    static Stream<Arguments> synchronousModeBadValues() {
        return Stream.of(Arguments.of("y"), Arguments.of("t"), Arguments.of("n"), Arguments.of("f"),
                Arguments.of(""), Arguments.of(" on"), Arguments.of("quorum "), Arguments.of("enabled"),
                Arguments.of("any"), Arguments.of(2), Arguments.of(1.0), Arguments.of(0.0), Arguments.of(-1),
                Arguments.of(List.of("on")), Arguments.of(Map.of("on", true)));
    }

    @ParameterizedTest(name = "synchronous_mode: [{0}] is named")
    @MethodSource("synchronousModeBadValues")
    void synchronousMode_badValuesAreNamedAndCountAsOn(Object value) {
        List<String> problems = new ArrayList<>();
        assertThat(DynamicConfigParser.parse(Map.of("synchronous_mode", value), "config", problems).sync().mode())
                .isEqualTo(SyncMode.ON);
        assertThat(problems).containsExactly("config.synchronous_mode: expected on, off or quorum (or true/false,"
                + " yes/no, 1/0), got '" + value + "'; using on");
    }

    /** synchronous_mode_strict: parse_bool's spellings; anything else is named and counts as true (the safe side). */
    @ParameterizedTest(name = "synchronous_mode_strict: [{0}] -> {1}")
    @MethodSource
    void synchronousModeStrict(Object value, boolean expected, boolean named) {
        List<String> problems = new ArrayList<>();
        Map<String, Object> raw = new HashMap<>();
        raw.put("synchronous_mode_strict", value);
        assertThat(DynamicConfigParser.parse(raw, "config", problems).sync().strict()).isEqualTo(expected);
        assertThat(problems).isEqualTo(named ? List.of("config.synchronous_mode_strict: expected true or false"
                + " (or on/off, yes/no, 1/0), got '" + value + "'; using true") : List.of());
    }

    static Stream<Arguments> synchronousModeStrict() {
        return Stream.of(Arguments.of(null, false, false), Arguments.of(true, true, false),
                Arguments.of(false, false, false), Arguments.of("on", true, false), Arguments.of("TRUE", true, false),
                Arguments.of("yes", true, false), Arguments.of("1", true, false), Arguments.of(1, true, false),
                Arguments.of("off", false, false), Arguments.of("False", false, false), Arguments.of("no", false, false),
                Arguments.of("0", false, false), Arguments.of(0, false, false),
                Arguments.of("strict", true, true), Arguments.of("", true, true), Arguments.of(2, true, true),
                Arguments.of(1.0, true, true), Arguments.of("quorum", true, true));
    }

    /**
     * synchronous_node_count: a whole number of at least 1 (Patroni's validator: IntValidator(min=1)), default 1;
     * maximum_lag_on_syncnode: bytes, -1 (no limit) or more (IntValidator(min=-1)), default -1. Bad values are named
     * with the key and keep the default.
     */
    @ParameterizedTest(name = "{0}: [{1}] -> {2}")
    @MethodSource
    void nodeCountAndMaximumLagOnSyncnode(String key, Object value, long expected, String problem) {
        List<String> problems = new ArrayList<>();
        Map<String, Object> raw = new HashMap<>();
        raw.put(key, value);
        SyncSettings sync = DynamicConfigParser.parse(raw, "config", problems).sync();
        assertThat(key.equals("synchronous_node_count") ? sync.nodeCount() : sync.maximumLagOnSyncnode())
                .isEqualTo(expected);
        assertThat(problems).isEqualTo(problem == null ? List.of() : List.of("config." + key + ": " + problem));
    }

    static Stream<Arguments> nodeCountAndMaximumLagOnSyncnode() {
        String count = "synchronous_node_count";
        String lag = "maximum_lag_on_syncnode";
        return Stream.of(
                Arguments.of(count, null, 1L, null), Arguments.of(count, 1, 1L, null), Arguments.of(count, 3, 3L, null),
                Arguments.of(count, "2", 2L, null), Arguments.of(count, 2.0, 2L, null),
                Arguments.of(count, 0, 1L, "must be at least 1, got 0; using 1"),
                Arguments.of(count, -2, 1L, "must be at least 1, got -2; using 1"),
                Arguments.of(count, "two", 1L, "expected a whole number, got 'two'; using 1"),
                Arguments.of(count, 1.5, 1L, "expected a whole number, got '1.5'; using 1"),
                Arguments.of(count, 4_000_000_000L, 1L, "4000000000 is out of range; using 1"),
                Arguments.of(lag, null, -1L, null), Arguments.of(lag, -1, -1L, null), Arguments.of(lag, 0, 0L, null),
                Arguments.of(lag, 1048576, 1048576L, null), Arguments.of(lag, "33554432", 33554432L, null),
                Arguments.of(lag, 10_000_000_000L, 10_000_000_000L, null),
                Arguments.of(lag, -2, -1L, "must be -1 (no limit) or more bytes, got -2; using -1"),
                Arguments.of(lag, "16MB", -1L, "expected a whole number, got '16MB'; using -1"),
                Arguments.of(lag, true, -1L, "expected a whole number, got 'true'; using -1"));
    }

    @Test
    void syncSettings_defaultsAndAllFourTogether() {
        List<String> problems = new ArrayList<>();
        assertThat(DynamicConfigParser.parse(Map.of(), "config", problems).sync()).isEqualTo(SyncSettings.OFF);
        assertThat(DynamicConfigParser.parse(Map.of("synchronous_mode", "quorum", "synchronous_mode_strict", true,
                "synchronous_node_count", 2, "maximum_lag_on_syncnode", 1048576), "bootstrap.dcs", problems).sync())
                .isEqualTo(new SyncSettings(SyncMode.QUORUM, true, 2, 1048576));
        assertThat(problems).isEmpty();
        DynamicConfigParser.parse(Map.of("synchronous_mode", "sometimes"), "bootstrap.dcs", problems);
        assertThat(problems).singleElement().asString().startsWith("bootstrap.dcs.synchronous_mode: ");
    }

    static Stream<Arguments> primaryStopTimeoutRows() {
        return Stream.of(
                Arguments.of(Map.of(), 0, false),
                Arguments.of(Map.of("primary_stop_timeout", 30), 30, false),
                Arguments.of(Map.of("primary_stop_timeout", "2min"), 120, false),
                Arguments.of(Map.of("master_stop_timeout", 15), 15, false),
                Arguments.of(Map.of("primary_stop_timeout", 5, "master_stop_timeout", 15), 5, false),
                Arguments.of(Map.of("primary_stop_timeout", "soon"), 0, true),
                Arguments.of(Map.of("primary_stop_timeout", -3), 0, true));
    }

    /** Patroni's primary_stop_timeout (master_stop_timeout before 2.1): seconds, the newer name first. */
    @ParameterizedTest
    @MethodSource("primaryStopTimeoutRows")
    void primaryStopTimeout(Map<String, Object> raw, int seconds, boolean named) {
        List<String> problems = new ArrayList<>();
        DynamicConfig c = DynamicConfigParser.parse(raw, "config", problems);
        assertThat(c.primaryStopTimeout()).isEqualTo(seconds);
        assertThat(problems.stream().anyMatch(p -> p.contains("_stop_timeout"))).isEqualTo(named);
    }
}

package io.pgkeel.agent.ha;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.common.pg.LocalPostgres.TimelineSwitch;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The history key as the new leader rewrites it, over the entry shapes Patroni's versions wrote: 3 fields (before
 * 1.6), 4 fields (timestamp, before 2.0), 5 fields (with the new leader's name).
 */
class ClusterHistoryTest {
    private static final String R = "no recovery target specified";
    private static final ZonedDateTime NOW = Instant.parse("2026-11-29T10:15:30.123456789Z").atZone(ZoneId.of("+08:00"));
    private static final String STAMP = "2026-11-29T18:15:30.123456+08:00";
    private static final String OLD = "2020-12-10T18:37:06.718112+08:00";
    private static final List<TimelineSwitch> THREE = List.of(new TimelineSwitch(1, 100, R),
            new TimelineSwitch(2, 200, R), new TimelineSwitch(3, 300, R));

    static Stream<Arguments> rebuilds() {
        return Stream.of(
                Arguments.of("a 4-field entry of older Patroni keeps its timestamp when the next timeline is appended",
                        List.of(List.of(1L, 100L, R, OLD)), THREE.subList(0, 2),
                        List.of(List.of(1L, 100L, R, OLD), List.of(2L, 200L, R, STAMP, "me"))),
                Arguments.of("5-field entries stay as they are",
                        List.of(List.of(1L, 100L, R, OLD, "n1"), List.of(2L, 200L, R, OLD, "n2")), THREE,
                        List.of(List.of(1L, 100L, R, OLD, "n1"), List.of(2L, 200L, R, OLD, "n2"),
                                List.of(3L, 300L, R, STAMP, "me"))),
                Arguments.of("fields a later version adds are kept",
                        List.of(List.of(1L, 100L, R, OLD, "n1", "extra")), THREE.subList(0, 2),
                        List.of(List.of(1L, 100L, R, OLD, "n1", "extra"), List.of(2L, 200L, R, STAMP, "me"))),
                Arguments.of("3-field entries (Patroni before 1.6) stay 3 fields",
                        List.of(List.of(1L, 100L, R)), THREE.subList(0, 2),
                        List.of(List.of(1L, 100L, R), List.of(2L, 200L, R, STAMP, "me"))),
                Arguments.of("a mix of all shapes",
                        List.of(List.of(1L, 100L, R), List.of(2L, 200L, R, OLD)), THREE,
                        List.of(List.of(1L, 100L, R), List.of(2L, 200L, R, OLD), List.of(3L, 300L, R, STAMP, "me"))),
                Arguments.of("no key yet: older switches have no timestamp, the newest is stamped now",
                        List.of(), THREE,
                        List.of(List.of(1L, 100L, R), List.of(2L, 200L, R), List.of(3L, 300L, R, STAMP, "me"))),
                Arguments.of("an entry for another switch on that timeline (another LSN) is not this one's, as Patroni",
                        List.of(List.of(1L, 150L, R, OLD, "n1")), THREE.subList(0, 2),
                        List.of(List.of(1L, 100L, R), List.of(2L, 200L, R, STAMP, "me"))),
                Arguments.of("the newest switch already recorded keeps its timestamp and leader (a rewrite)",
                        List.of(List.of(1L, 100L, R, OLD, "n1")), THREE.subList(0, 1),
                        List.of(List.of(1L, 100L, R, OLD, "n1"))),
                Arguments.of("the newest switch recorded with a timestamp only gets the new leader's name",
                        List.of(List.of(1L, 100L, R, OLD)), THREE.subList(0, 1),
                        List.of(List.of(1L, 100L, R, OLD, "me"))),
                Arguments.of("timeline and LSN written as strings by a tool still match",
                        List.of(List.of("1", "100", R, OLD)), THREE.subList(0, 2),
                        List.of(List.of(1L, 100L, R, OLD), List.of(2L, 200L, R, STAMP, "me"))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource
    void rebuilds(String form, List<List<Object>> inKey, List<TimelineSwitch> switches, List<List<Object>> expected) {
        assertThat(ClusterHistory.update(switches, inKey, NOW, "me")).isEqualTo(expected);
    }

    static Stream<Arguments> timestamps() {
        return Stream.of(
                Arguments.of("2020-12-10T10:37:06.718112Z", "+08:00", "2020-12-10T18:37:06.718112+08:00"),
                Arguments.of("2020-12-10T10:37:06.718112999Z", "UTC", "2020-12-10T10:37:06.718112+00:00"),
                Arguments.of("2020-12-10T10:37:06.000001Z", "-05:30", "2020-12-10T05:07:06.000001-05:30"),
                // Python's isoformat() leaves the fraction out when it is zero
                Arguments.of("2020-12-10T10:37:06Z", "Z", "2020-12-10T10:37:06+00:00"),
                Arguments.of("2020-12-10T10:37:06.000000500Z", "Europe/Berlin", "2020-12-10T11:37:06+01:00"),
                Arguments.of("2020-07-10T10:37:06.5Z", "Europe/Berlin", "2020-07-10T12:37:06.500000+02:00"));
    }

    @ParameterizedTest(name = "{0} in {1}")
    @MethodSource
    void timestamps(String instant, String zone, String patroni) {
        assertThat(ClusterHistory.timestamp(Instant.parse(instant).atZone(ZoneId.of(zone)))).isEqualTo(patroni);
    }
}

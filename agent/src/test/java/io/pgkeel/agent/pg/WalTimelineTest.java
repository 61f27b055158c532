package io.pgkeel.agent.pg;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** A standby's timeline read from the segment file that holds its last WAL byte ({@link Probe#walTimeline}). */
class WalTimelineTest {
    private static final long MB16 = 16L * 1024 * 1024;

    static Stream<Arguments> rows() {
        List<String> switched = List.of("000000010000000000000004", "000000010000000000000005",
                "000000020000000000000005", "000000020000000000000006", "00000002.history", "archive_status");
        return Stream.of(
                Arguments.of("received past the switch: the new timeline's segment", switched, 0x6_00_0100L, MB16, 2),
                Arguments.of("the segment of the switch exists on both: the higher", switched, 0x5_00_0100L, MB16, 2),
                Arguments.of("only the old timeline has the segment", switched, 0x4_FF_0000L, MB16, 1),
                Arguments.of("an end exactly at a segment boundary is the segment before",
                        List.of("000000010000000000000004"), 0x5_00_0000L, MB16, 1),
                Arguments.of("a former primary's own WAL past a switch it never followed (history file only)",
                        List.of("000000010000000000000005", "00000002.history"), 0x5_80_0000L, MB16, 1),
                Arguments.of("no file for the segment", List.of("000000010000000000000003"), 0x5_00_0100L, MB16, 0),
                Arguments.of("no WAL", switched, 0L, MB16, 0),
                Arguments.of("high LSN, next log id", List.of("00000003000000010000000A"), 0x1_0A00_0001L, MB16, 3),
                Arguments.of("64 MB segments", List.of("000000070000000000000001"), 0x4_00_0001L, 64L << 20, 7),
                Arguments.of("a partial segment and garbage are ignored",
                        List.of("000000020000000000000005.partial", "zz0000020000000000000005"), 0x5_00_0100L, MB16, 0));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void theTimelineOfTheLastByte(String what, List<String> files, long end, long segment, int timeline) {
        assertThat(Probe.walTimeline(files, end, segment)).isEqualTo(timeline);
    }

    @Test
    void aSegmentSizeOfZeroSaysNothing() {
        assertThat(Probe.walTimeline(List.of("000000010000000000000001"), 0x1_00_0001L, 0)).isZero();
    }
}

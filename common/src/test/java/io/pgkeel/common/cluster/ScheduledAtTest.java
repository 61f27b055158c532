package io.pgkeel.common.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ScheduledAtTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "2026-11-28T10:00:00+00:00      | 2026-11-28T10:00:00Z",
            "2026-11-28T10:00:00Z           | 2026-11-28T10:00:00Z",
            "2026-11-28 12:00:00+02:00      | 2026-11-28T10:00:00Z",
            "' 2026-11-28T10:00:00.5-01:00 '| 2026-11-28T11:00:00.500Z"})
    void readsIsoTimesWithAnOffset(String text, String instant) {
        assertThat(ScheduledAt.parse(text).toInstant()).isEqualTo(Instant.parse(instant));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "2026-11-28T10:00:00  | true",
            "2026-11-28 10:00     | true",
            "tomorrow             | false",
            "2026-11-28           | false",
            "2026-13-28T10:00:00Z | false"})
    void refusesTimesWithoutAZoneAndAnythingElse(String text, boolean missingZone) {
        assertThatThrownBy(() -> ScheduledAt.parse(text)).isInstanceOfSatisfying(ScheduledAt.Invalid.class,
                e -> assertThat(e.missingZone()).isEqualTo(missingZone));
    }
}

package io.pgkeel.common.cluster;

import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;

/**
 * The one parser for a planned time: {@code scheduled_at} in the {@code failover} key and in POST /switchover,
 * {@code schedule} in POST /restart, and ctl's {@code --scheduled}. ISO 8601 with a zone offset, as Patroni writes
 * it ({@code datetime.isoformat()}): {@code 2026-11-28T10:00:00+00:00}, {@code ...Z}, or with a space instead of
 * the {@code T} (Patroni's parser, dateutil, takes both). A time without a zone is refused: whose local time would
 * it be?
 */
public final class ScheduledAt {
    private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss");
    private static final DateTimeFormatter MICROS = DateTimeFormatter.ofPattern(".SSSSSS");
    /** ±HH:MM, with :SS only when the offset has seconds, never "Z": Python's {@code utcoffset} form. */
    private static final DateTimeFormatter OFFSET = DateTimeFormatter.ofPattern("xxxxx");

    private ScheduledAt() {}

    /**
     * {@code t} as Python's {@code datetime.isoformat()} writes an aware datetime, the form Patroni shows planned
     * times and history timestamps in: {@code 2020-12-10T18:37:06.718112+08:00}; microseconds, left out when zero;
     * a numeric offset.
     */
    public static String isoformat(OffsetDateTime t) {
        OffsetDateTime micros = t.truncatedTo(ChronoUnit.MICROS);
        return SECONDS.format(micros) + (micros.getNano() == 0 ? "" : MICROS.format(micros)) + OFFSET.format(micros);
    }

    /** Why a text is not a planned time. */
    public static final class Invalid extends IllegalArgumentException {
        private final boolean missingZone;

        private Invalid(String message, boolean missingZone) {
            super(message);
            this.missingZone = missingZone;
        }

        /** The text is a date and time, but names no zone offset. */
        public boolean missingZone() {
            return missingZone;
        }
    }

    /**
     * The time {@code text} names, with the offset it was given in.
     *
     * @throws Invalid when it is not ISO 8601 with an offset ({@link Invalid#missingZone()} tells a local time apart)
     */
    public static OffsetDateTime parse(String text) {
        String t = text.trim().replace(' ', 'T');
        try {
            return OffsetDateTime.parse(t, DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        } catch (DateTimeParseException e) {
            try {
                LocalDateTime.parse(t, DateTimeFormatter.ISO_LOCAL_DATE_TIME);
            } catch (DateTimeParseException notLocalEither) {
                throw new Invalid("'" + text + "' is not an ISO 8601 time", false);
            }
            throw new Invalid("'" + text + "' names no time zone", true);
        }
    }
}

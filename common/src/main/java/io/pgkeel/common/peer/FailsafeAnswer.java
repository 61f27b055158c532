package io.pgkeel.common.peer;

import java.util.OptionalLong;

/**
 * A member's answer to a primary's {@code POST /failsafe} (Patroni 3.0+, patroni/api.py {@code do_POST_failsafe}).
 *
 * @param accepted only a 200 whose body is exactly {@code Accepted}: the member promised not to race for ttl
 * @param lsn      the member's WAL position (its {@code lsn} header), when it sent one
 * @param detail   what the member said, or why there is no answer, for the log
 */
public record FailsafeAnswer(boolean accepted, OptionalLong lsn, String detail) {
    public static FailsafeAnswer refused(String detail) {
        return new FailsafeAnswer(false, OptionalLong.empty(), detail);
    }

    public static FailsafeAnswer accepted(OptionalLong lsn) {
        return new FailsafeAnswer(true, lsn, "Accepted");
    }
}

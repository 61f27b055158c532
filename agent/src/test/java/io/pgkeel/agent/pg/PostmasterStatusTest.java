package io.pgkeel.agent.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.common.pg.PostmasterStatus;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The postmaster's own word in postmaster.pid (line 1 its PID, line 8 its status since PostgreSQL 10), read
 * without SQL: every form the file takes while PostgreSQL starts, runs, stops and after it was killed.
 */
class PostmasterStatusTest {
    private static final long ALIVE = 4242;

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "no postmaster.pid                        | <none>                                      | ABSENT",
        "empty file                               | <empty>                                     | ABSENT",
        "PID not a number                         | x;/data;1;5432;/tmp;*;0 1;ready             | ABSENT",
        "stale file: its PID is dead (kill -9)    | 999;/data;1;5432;/tmp;*;0 1;ready           | ABSENT",
        "status line not written yet              | 4242;/data;1;5432;/tmp                      | STARTING",
        "starting (startup, crash recovery)       | 4242;/data;1;5432;/tmp;*;0 1;starting       | STARTING",
        "standby accepting connections            | 4242;/data;1;5432;/tmp;*;0 1;standby        | STANDBY",
        "ready: out of recovery, accepting        | 4242;/data;1;5432;/tmp;*;0 1;ready          | READY",
        "ready padded as PostgreSQL writes it     | 4242;/data;1;5432;/tmp;*;0 1;'ready   '     | READY",
        "stopping                                 | 4242;/data;1;5432;/tmp;*;0 1;stopping       | STOPPING",
        "a status this version does not know      | 4242;/data;1;5432;/tmp;*;0 1;sleeping       | STARTING",
    })
    void statusFromThePidFile(String form, String file, PostmasterStatus expected) {
        List<String> lines = switch (file) {
            case "<none>" -> null;
            case "<empty>" -> List.of();
            default -> Arrays.asList(file.replace("'", "").split(";"));
        };
        assertThat(DataDirectory.statusOf(lines, pid -> pid == ALIVE)).as(form).isEqualTo(expected);
    }
}

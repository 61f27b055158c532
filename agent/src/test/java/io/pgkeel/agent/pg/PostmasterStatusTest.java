package io.pgkeel.agent.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.common.pg.PostmasterStatus;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The postmaster's own word in postmaster.pid (line 1 its PID, line 8 its status since PostgreSQL 10) and
 * standby.signal, read without SQL: every form they take while PostgreSQL starts, runs, stops and after a kill.
 */
class PostmasterStatusTest {
    private static final long ALIVE = 4242;

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "no postmaster.pid                        | <none>                                | false | ABSENT",
        "empty file                               | <empty>                               | false | ABSENT",
        "PID not a number                         | x;/data;1;5432;/tmp;*;0 1;ready       | false | ABSENT",
        "stale file: its PID is dead (kill -9)    | 999;/data;1;5432;/tmp;*;0 1;ready     | false | ABSENT",
        "stale file of a standby                  | 999;/data;1;5432;/tmp;*;0 1;ready     | true  | ABSENT",
        "status line not written yet              | 4242;/data;1;5432;/tmp                | false | STARTING",
        "starting (startup, crash recovery)       | 4242;/data;1;5432;/tmp;*;0 1;starting | false | STARTING",
        "standby starting                         | 4242;/data;1;5432;/tmp;*;0 1;starting | true  | STARTING",
        "up with hot_standby off: no connections  | 4242;/data;1;5432;/tmp;*;0 1;standby  | true  | STARTING",
        "hot standby accepting connections        | 4242;/data;1;5432;/tmp;*;0 1;ready    | true  | STANDBY",
        "ready: out of recovery, accepting        | 4242;/data;1;5432;/tmp;*;0 1;ready    | false | READY",
        "ready padded as PostgreSQL writes it     | 4242;/data;1;5432;/tmp;*;0 1;'ready   ' | false | READY",
        "stopping                                 | 4242;/data;1;5432;/tmp;*;0 1;stopping | false | STOPPING",
        "a standby stopping                       | 4242;/data;1;5432;/tmp;*;0 1;stopping | true  | STOPPING",
        "a status this version does not know      | 4242;/data;1;5432;/tmp;*;0 1;sleeping | false | STARTING",
    })
    void statusFromThePidFile(String form, String file, boolean standbySignal, PostmasterStatus expected) {
        List<String> lines = switch (file) {
            case "<none>" -> null;
            case "<empty>" -> List.of();
            default -> Arrays.asList(file.replace("'", "").split(";"));
        };
        assertThat(DataDirectory.statusOf(lines, pid -> pid == ALIVE, standbySignal)).as(form).isEqualTo(expected);
    }
}

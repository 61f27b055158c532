package io.pgkeel.agent.pg;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Why a postmaster exited without running, from the log lines its start wrote (the error of a failed start): every
 * form the log takes when a crashed primary's postmaster is started again too soon, and when it says nothing.
 */
class StartFailureTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "the old postmaster not reaped yet | 2026-11-30 11:24:32.960 UTC [27908] FATAL:  lock file \"postmaster.pid\""
                + " already exists;2026-11-30 11:24:32.960 UTC [27908] HINT:  Is another postmaster (PID 27782) running"
                + " in data directory \"/d\"?"
                + " | : FATAL: lock file \"postmaster.pid\" already exists HINT: Is another postmaster (PID 27782)"
                + " running in data directory \"/d\"?",
        "old backends hold the shared memory | 2026-11-30 11:24:33.1 UTC [9] LOG:  starting PostgreSQL 15;"
                + "2026-11-30 11:24:33.2 UTC [9] FATAL:  pre-existing shared memory block (key 5432001, ID 7) is still"
                + " in use;2026-11-30 11:24:33.2 UTC [9] HINT:  Terminate any old server processes associated with"
                + " data directory \"/d\".;2026-11-30 11:24:33.3 UTC [9] LOG:  database system is shut down"
                + " | : FATAL: pre-existing shared memory block (key 5432001, ID 7) is still in use HINT: Terminate"
                + " any old server processes associated with data directory \"/d\".",
        "the last FATAL counts, with its DETAIL | x [1] FATAL:  first;x [2] FATAL:  could not load"
                + " server certificate file;x [2] DETAIL:  No such file or directory"
                + " | : FATAL: could not load server certificate file DETAIL: No such file or directory",
        "a PANIC                             | x [3] PANIC:  could not locate a valid checkpoint record"
                + " | : PANIC: could not locate a valid checkpoint record",
        "no log_line_prefix                  | FATAL:  data directory \"/d\" has invalid permissions"
                + " | : FATAL: data directory \"/d\" has invalid permissions",
        "nothing fatal                       | x [1] LOG:  starting PostgreSQL 15 | ''",
        "nothing written                     | ''                                 | ''",
    })
    void aFailedStartSaysWhyInThePostmastersWords(String name, String log, String expected) {
        List<String> lines = log.isEmpty() ? List.of() : Arrays.asList(log.split(";"));

        assertThat(ProcessControl.whyNotStarted(lines)).isEqualTo(expected);
    }

    /** Single-user crash recovery before pg_rewind, refused while the old server's processes run: try again later. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "old backends hold the shared memory | FATAL:  pre-existing shared memory block (key 5432001, ID 7) is still in"
                + " use | true",
        "the old postmaster still runs        | FATAL:  lock file \"postmaster.pid\" already exists HINT:  Is another"
                + " postmaster (PID 27782) running in data directory \"/d\"? | true",
        "a single-user backend still runs     | FATAL:  lock file \"postmaster.pid\" already exists HINT:  Is another"
                + " postgres (PID 27790) running in data directory \"/d\"? | true",
        "a real failure                       | PANIC:  could not locate a valid checkpoint record | false",
        "nothing said                         | '' | false",
    })
    void crashRecoveryRefusedWhileTheOldServerRunsIsTriedAgain(String name, String output, boolean busy) {
        assertThat(ProcessControl.oldServerStillThere(output)).isEqualTo(busy);
    }
}

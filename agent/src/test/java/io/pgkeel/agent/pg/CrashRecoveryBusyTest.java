package io.pgkeel.agent.pg;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Single-user crash recovery before pg_rewind, refused while a killed postmaster's old processes still run: tried
 * again at the next cycle, not counted as a failed rewind (which asks for the member to be cloned anew).
 */
class CrashRecoveryBusyTest {
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

package io.pgkeel.agent.ha;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The paused leader kept across agent restarts ({@code <data_dir>.paused-leader.json}). */
class PausedLeaderRecordTest {
    @Test
    void aNameKeptIsReadBackByTheNextAgentAndNoneClearsIt(@TempDir Path dir) throws IOException {
        Path data = dir.resolve("16/main");
        Files.createDirectories(data);
        AgentFile disk = AgentFile.besideDataDirectory(data, AgentFile.PAUSED_LEADER);
        PausedLeaderRecord first = new PausedLeaderRecord(disk);
        assertThat(first.readBack()).isNull();
        NodeMemory.PausedLeader node1 = new NodeMemory.PausedLeader("node-1", "https://10.0.0.1:8008/patroni");
        first.keep(node1);
        assertThat(Files.readString(dir.resolve("16/main.paused-leader.json")))
                .isEqualTo("{\"paused_leader\":\"node-1\",\"api_url\":\"https://10.0.0.1:8008/patroni\"}");
        PausedLeaderRecord restarted = new PausedLeaderRecord(disk);
        assertThat(restarted.readBack()).isEqualTo(node1);
        restarted.keep(new NodeMemory.PausedLeader("node-1", null));
        assertThat(new PausedLeaderRecord(disk).readBack()).isEqualTo(new NodeMemory.PausedLeader("node-1", null));
        restarted.keep(null);
        assertThat(new PausedLeaderRecord(disk).readBack()).isNull();
    }

    @Test
    void aFailedWriteIsTriedAgainAtTheNextKeep() {
        FlakyDisk disk = new FlakyDisk();
        PausedLeaderRecord r = new PausedLeaderRecord(disk);
        disk.fails = true;
        NodeMemory.PausedLeader a = new NodeMemory.PausedLeader("a", null);
        r.keep(a);
        assertThat(disk.content).isNull();
        disk.fails = false;
        r.keep(a);
        assertThat(disk.content).isEqualTo("{\"paused_leader\":\"a\"}");
        disk.writes = 0;
        r.keep(a);
        assertThat(disk.writes).as("unchanged: not written again").isZero();
    }

    /**
     * Review15: clearing the record (the pause is over) on a disk that cannot be written (full, read-only) must be
     * logged like any failed write, not throw: keep(null)'s warning dereferences the null leader, and the
     * NullPointerException leaves HaNode.runCycle after acting and before callbacks, failsafe release and publish,
     * every cycle until the disk is writable again.
     */
    @Test
    void aFailedWriteOfNoneIsLoggedNotThrown() {
        FlakyDisk disk = new FlakyDisk();
        PausedLeaderRecord r = new PausedLeaderRecord(disk);
        r.keep(new NodeMemory.PausedLeader("a", null));
        disk.fails = true;
        org.assertj.core.api.Assertions.assertThatCode(() -> r.keep(null)).doesNotThrowAnyException();
        disk.fails = false;
        r.keep(null);
        assertThat(disk.content).as("tried again").isEqualTo("{}");
    }

    @ParameterizedTest(name = "[{0}]")
    @ValueSource(strings = {"", " ", "{}", "not json", "{\"paused_leader\": 7}", "{\"paused_leader\": \"\"}", "[]"})
    void contentWithoutANameIsNone(String content) {
        FlakyDisk disk = new FlakyDisk();
        disk.content = content;
        assertThat(new PausedLeaderRecord(disk).readBack()).isNull();
    }

    private static final class FlakyDisk implements AgentFile {
        String content;
        boolean fails;
        int writes;

        @Override
        public void write(String text) throws IOException {
            writes++;
            if (fails) {
                throw new IOException("No space left on device");
            }
            content = text;
        }

        @Override
        public Optional<String> read() {
            return Optional.ofNullable(content);
        }
    }
}

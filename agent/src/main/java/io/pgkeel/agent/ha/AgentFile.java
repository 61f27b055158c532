package io.pgkeel.agent.ha;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * One of the agent's small files that outlive it (a failsafe promise's end, the leader of a paused cluster): replaced
 * whole and durably, read back by the next agent on this machine.
 */
public interface AgentFile {
    /** {@link #besideDataDirectory}'s suffix for the end of a failsafe promise ({@link FailsafePromise}). */
    String FAILSAFE_PROMISE = ".failsafe.json";
    /** {@link #besideDataDirectory}'s suffix for the leader of a paused cluster ({@link PausedLeaderRecord}). */
    String PAUSED_LEADER = ".paused-leader.json";

    /** Nothing kept: a restarted agent forgets what it kept (tests of other things). */
    AgentFile NONE = new AgentFile() {
        @Override
        public void write(String content) {}

        @Override
        public Optional<String> read() {
            return Optional.empty();
        }

        @Override
        public String toString() {
            return "nowhere";
        }
    };

    /**
     * Replaces the content durably (on disk when this returns, or never there at all).
     *
     * @throws IOException when it cannot (the caller decides: a failsafe promise is then not given)
     */
    void write(String content) throws IOException;

    /** The content last written, empty when there is none. */
    Optional<String> read() throws IOException;

    /** Why nothing could be kept here (a sentence naming the place), or empty; may do file I/O. */
    default Optional<String> problem() {
        return Optional.empty();
    }

    /** {@code file}, written to a temporary file beside it, fsynced and renamed over it (then its directory fsynced). */
    static AgentFile file(Path file) {
        return new DurableFile(file, null);
    }

    /**
     * {@code <data_dir><suffix>}, beside the data directory, not in it (pg_basebackup would copy it to new replicas,
     * initdb and pg_basebackup want an empty directory, and a reinit removes the directory while what it keeps may
     * still matter); it survives agent restarts and machine crashes as the data does.
     */
    static AgentFile besideDataDirectory(Path dataDir, String suffix) {
        Path d = dataDir.toAbsolutePath().normalize();
        return new DurableFile(d.resolveSibling(d.getFileName() + suffix), d);
    }
}

package io.pgkeel.agent.ha;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * One of the agent's files ({@link AgentFile#file}, {@link AgentFile#besideDataDirectory}): written to
 * {@code <file>.tmp}, fsynced, renamed over {@code file} and the directory fsynced, so that after a crash the file
 * holds the old content or the new one, whole, and the new one once {@link #write} returned.
 */
final class DurableFile implements AgentFile {
    private final Path file;
    /** The data directory the file sits beside, or null (then {@link #problem} checks only the file's directory). */
    private final Path dataDir;

    DurableFile(Path file, Path dataDir) {
        this.file = file.toAbsolutePath();
        this.dataDir = dataDir;
    }

    /**
     * Why a promise could not be kept here, checked once at start (the REST API would answer POST /failsafe with 500
     * only when the primary needs it, during an etcd outage): the file's directory is missing or not writable by this
     * user, or it is on another filesystem than the data directory, whose life it may not share (the data directory
     * mounted as a volume and its parent a container's own disk: a restarted container forgets the promise).
     */
    @Override
    public Optional<String> problem() {
        Path parent = file.getParent();
        if (!Files.isDirectory(parent) || !Files.isWritable(parent)) {
            return Optional.of(parent + " is not a directory this user can write to: this member cannot record a"
                    + " failsafe promise in " + file + " and refuses POST /failsafe (500)");
        }
        if (dataDir != null && Files.isDirectory(dataDir)) {
            try {
                FileStore data = Files.getFileStore(dataDir);
                FileStore beside = Files.getFileStore(parent);
                if (!data.equals(beside)) {
                    return Optional.of(file + " is on another filesystem (" + beside.name() + ") than data_dir ("
                            + data.name() + "): a failsafe promise recorded there is lost if that filesystem is"
                            + " (a container's own disk, with the data directory a volume)");
                }
            } catch (IOException e) {
                return Optional.of("cannot tell the filesystems of " + parent + " and data_dir apart: "
                        + e.getMessage());
            }
        }
        return Optional.empty();
    }

    @Override
    public void write(String content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.createDirectories(file.getParent());
        // never through a link someone put at the temporary name (the directory may be writable by others)
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING, LinkOption.NOFOLLOW_LINKS)) {
            ByteBuffer bytes = ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8));
            while (bytes.hasRemaining()) {
                ch.write(bytes);
            }
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        // the rename is durable only once the directory entry is
        try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        }
    }

    @Override
    public Optional<String> read() throws IOException {
        try {
            return Optional.of(Files.readString(file, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    @Override
    public String toString() {
        return file.toString();
    }
}

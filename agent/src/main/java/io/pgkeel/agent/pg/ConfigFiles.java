package io.pgkeel.agent.pg;

import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.pg.PostgresException;
import io.pgkeel.config.PgkeelConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the files that configure the local PostgreSQL for a role: postgresql.conf, pg_hba.conf, standby.signal
 * (and no recovery.signal) in the data directory, and the pgpass file. The text comes from {@link ConfigText}; this
 * class decides its machine-dependent inputs and replaces each file atomically, so that a postmaster starting or
 * reloading meanwhile reads the old file or the new one. Loop thread only.
 */
final class ConfigFiles {
    // the lines keep the logger name operators know them by
    private static final Logger log = LoggerFactory.getLogger(PostgresController.class);
    private final DataDirectory dir;
    private final Supplier<PgkeelConfig> config;
    private final Supplier<DynamicConfig> dynamic;
    /** postgresql.parameters of the config key as last written to postgresql.conf; null before the first write. */
    private Map<String, String> writtenParameters;
    /** The notes on translated parameters last logged ("wal_keep_segments written as wal_keep_size ..."). */
    private List<String> loggedNotes = List.of();
    /** postgresql.pg_hba of the config key when the files were last written. */
    private List<String> writtenConfigKeyHba = List.of();
    /** The agent's own synchronous_standby_names (synchronous mode); null: not managed. */
    private String synchronousStandbyNames;

    /** The config key's settings in force now. */
    DynamicConfig dynamicConfig() {
        return dynamic.get();
    }

    /**
     * Reads back the synchronous_standby_names this member's agent last wrote as its own into the data directory's
     * postgresql.conf, if any: it stays managed (see {@link #manageSynchronousStandbyNames}).
     */
    ConfigFiles(DataDirectory dir, Supplier<PgkeelConfig> config, Supplier<DynamicConfig> dynamic) {
        this.dir = dir;
        this.config = config;
        this.dynamic = dynamic;
        this.synchronousStandbyNames = readBackSynchronousStandbyNames();
    }

    /**
     * What this member's agent wrote as its own synchronous_standby_names into postgresql.conf, so that a primary
     * restarted by a new agent process waits for no fewer standbys than before (the sync key may promise them);
     * null when the file holds none of this member's, or cannot be read (said in a warning).
     */
    private String readBackSynchronousStandbyNames() {
        Path conf = dir.resolve("postgresql.conf");
        if (!Files.exists(conf)) {
            return null;
        }
        try {
            String value = ConfigText.managedSynchronousStandbyNames(Files.readAllLines(conf), config.get().name());
            if (value != null) {
                log.info("synchronous_standby_names = '{}' stays managed, as written by the agent before", value);
            }
            return value;
        } catch (IOException e) {
            log.warn("cannot read back a managed synchronous_standby_names from {}: {}", conf, e.getMessage());
            return null;
        }
    }

    /** The agent's own synchronous_standby_names, written into every postgresql.conf; null: not managed. */
    String synchronousStandbyNames() {
        return synchronousStandbyNames;
    }

    /**
     * Makes {@code value} the synchronous_standby_names of every postgresql.conf written from now on, over any
     * configured one; null: not managed, the configured value (or none) is written again. It writes nothing itself.
     */
    void manageSynchronousStandbyNames(String value) {
        synchronousStandbyNames = value;
    }

    /** The data directory was removed or cloned anew: a value managed for the old one no longer applies. */
    void dataDirectoryReplaced() {
        synchronousStandbyNames = null;
    }

    /**
     * The config key's parameters postgresql.conf was last written with (and, for a running PostgreSQL, reloaded);
     * null when the files do not hold what is in force: not written since the agent started or re-read its
     * configuration, or the config key's pg_hba changed since (the next routine cycle then rewrites and reloads).
     */
    Map<String, String> writtenParameters() {
        return writtenConfigKeyHba.equals(dynamic.get().pgHba()) ? writtenParameters : null;
    }

    /** The files no longer match what is in force (a re-read configuration, a failed reload): write them anew. */
    void forgetWritten() {
        writtenParameters = null;
    }

    /**
     * Writes every file for the role: a primary, or a standby of {@code follow} (null: of nobody yet), with the
     * config key's parameters as they are now.
     *
     * @throws PostgresException when a file cannot be written
     */
    void write(boolean asPrimary, Member follow) {
        ConfigText.Standby standby = ConfigText.Standby.NONE;
        if (!asPrimary && follow != null) {
            PgkeelConfig cfg = config.get();
            ConnUrl upstream = ConnUrl.parse(follow.connUrl());
            standby = ConfigText.standby(new ConfigText.Upstream(upstream.host(), upstream.port(),
                    cfg.postgresql().replication(), cfg.postgresql().pgpass().toAbsolutePath(), cfg.name(),
                    dynamic.get().useSlots(), dir.majorVersion()));
        }
        write(asPrimary, standby, follow == null ? null : follow.name(), dynamic.get().pgParameters());
    }

    /**
     * Writes every file for the role PostgreSQL has now, keeping the upstream it follows, with the config key's
     * parameters postgresql.conf was last written with (the config key's as they are now when it was not written
     * since the agent started or re-read its configuration).
     *
     * @throws PostgresException when a file cannot be read or written
     */
    void rewriteForCurrentRole() {
        rewriteForCurrentRole(writtenParameters != null ? writtenParameters : dynamic.get().pgParameters());
    }

    /**
     * Writes every file for the role PostgreSQL has now (standby.signal), keeping the upstream it follows, with
     * {@code configKeyParameters} as the config key's parameters.
     *
     * @throws PostgresException when a file cannot be read or written
     */
    void rewriteForCurrentRole(Map<String, String> configKeyParameters) {
        boolean standby = dir.standbyConfigured();
        ConfigText.Standby upstream = standby ? dir.standbySettings() : ConfigText.Standby.NONE;
        write(!standby, upstream, dir.following(), configKeyParameters);
    }

    private void write(boolean asPrimary, ConfigText.Standby standby, String followName,
                       Map<String, String> configKeyParameters) {
        DynamicConfig dyn = dynamic.get();
        PgkeelConfig cfg = config.get();
        PgkeelConfig.Postgresql pgc = cfg.postgresql();
        String socketDirectory = defaultSocketDirectory();
        boolean rewind = pgc.usePgRewind().orElse(dyn.usePgRewind());
        ConfigText.Conf in = new ConfigText.Conf(asPrimary, standby, followName, configKeyParameters,
                pgc.parameters(), rewind, pgc.listenHosts(), pgc.port(), cfg.scope(), socketDirectory,
                dir.exists("postgresql.base.conf"), dir.majorVersion(), cfg.name(), synchronousStandbyNames);
        String conf;
        try {
            List<String> notes = ConfigText.configuredParameters(in).notes();
            if (!notes.equals(loggedNotes)) { // said once, not at every rewrite (a role change writes the files too)
                notes.forEach(n -> log.warn("postgresql.parameters: {}", n));
                loggedNotes = notes;
            }
            conf = ConfigText.postgresqlConf(in);
        } catch (IllegalArgumentException e) {
            throw new PostgresException("writing postgresql.conf: " + e.getMessage(), e);
        }
        // the local pg_hba wins over the config key's, as Patroni merges the local postgresql section over it
        List<String> configKeyHba = dyn.pgHba();
        Optional<String> hba = ConfigText.pgHba(pgc.pgHba().isEmpty() ? configKeyHba : pgc.pgHba());
        try {
            writeAtomically(dir.resolve("postgresql.conf"), conf);
            if (hba.isPresent()) {
                writeAtomically(dir.resolve("pg_hba.conf"), hba.get());
            }
            Path signal = dir.resolve("standby.signal");
            if (asPrimary) {
                Files.deleteIfExists(signal);
            } else if (!Files.exists(signal)) {
                Files.createFile(signal);
            }
            Files.deleteIfExists(dir.resolve("recovery.signal"));
        } catch (IOException e) {
            throw new PostgresException("writing configuration into " + dir.path() + ": " + e.getMessage(), e);
        }
        writePgpass();
        writtenParameters = configKeyParameters;
        writtenConfigKeyHba = configKeyHba;
    }

    /**
     * unix_socket_directories as postgresql.conf sets it: the local parameter, else the config key's, else
     * {@link #defaultSocketDirectory}.
     */
    String unixSocketDirectories() {
        String local = config.get().postgresql().parameters().get("unix_socket_directories");
        if (local != null) {
            return local;
        }
        String shared = dynamic.get().pgParameters().get("unix_socket_directories");
        return shared != null ? shared : defaultSocketDirectory();
    }

    /**
     * Debian's socket directory, where its psql and libpq look by default, when this user may create sockets there;
     * else the data directory's parent.
     */
    private String defaultSocketDirectory() {
        Path debian = Path.of("/var/run/postgresql");
        if (Files.isDirectory(debian) && Files.isWritable(debian)) {
            return debian.toString();
        }
        return dir.path().getParent().toString();
    }

    /**
     * Writes the pgpass file (mode 0600, as libpq requires) for the replication role and the superuser.
     *
     * @throws PostgresException when it cannot be written
     */
    void writePgpass() {
        PgkeelConfig.Postgresql pgc = config.get().postgresql();
        String text = ConfigText.pgpass(List.of(pgc.replication(), pgc.superuser()));
        try {
            Path file = pgc.pgpass().toAbsolutePath();
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmp, text);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new PostgresException("writing pgpass file " + pgc.pgpass() + ": " + e.getMessage(), e);
        }
    }

    private static void writeAtomically(Path file, String content) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".pgkeel-tmp");
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}

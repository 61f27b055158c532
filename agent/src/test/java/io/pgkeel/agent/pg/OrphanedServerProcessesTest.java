package io.pgkeel.agent.pg;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Finding the processes an earlier server left in a data directory, over a /proc built in a temporary directory. */
class OrphanedServerProcessesTest {
    @TempDir
    Path tmp;

    @Test
    void findsTheOrphanedPostgresProcessesWorkingInTheDataDirectoryAndNothingElse() throws IOException {
        Path data = Files.createDirectories(tmp.resolve("16/main"));
        Path other = Files.createDirectories(tmp.resolve("15/main"));
        Path proc = Files.createDirectories(tmp.resolve("proc"));
        process(proc, "4049", "/usr/lib/postgresql/16/bin/postgres", data, 1); // the stuck backend, handed to init
        process(proc, "4050", "/usr/lib/postgresql/16/bin/postgres (deleted)", data, 1); // binary upgraded since
        process(proc, "4051", "/usr/lib/postgresql/15/bin/postgres", other, 1); // another cluster's
        process(proc, "4052", "/usr/bin/bash", data, 1); // an operator's shell in the directory
        process(proc, "4053", "/usr/lib/postgresql/16/bin/pg_ctl", data, 1);
        Files.createDirectories(proc.resolve("4054")); // links unreadable: another user's, or exited
        process(proc, "self", "/usr/lib/postgresql/16/bin/postgres", data, 1);
        process(proc, Long.toString(ProcessHandle.current().pid()), "/usr/lib/postgresql/16/bin/postgres", data, 1);
        // a live postmaster whose postmaster.pid is missing or being rewritten, and its children: none is an orphan
        process(proc, "5000", "/usr/lib/postgresql/16/bin/postgres", data, 1);
        process(proc, "5001", "/usr/lib/postgresql/16/bin/postgres", data, 5000);
        process(proc, "5002", "/usr/lib/postgresql/16/bin/postgres", data, 5000);
        Files.writeString(proc.resolve("uptime"), "1 1");

        assertThat(OrphanedServerProcesses.find(proc, data)).containsExactlyInAnyOrder(4049L, 4050L);
        assertThat(OrphanedServerProcesses.find(proc, tmp.resolve("16/main/../main"))).as("the path as configured")
                .containsExactlyInAnyOrder(4049L, 4050L);
        assertThat(OrphanedServerProcesses.find(proc, tmp.resolve("gone"))).as("no data directory").isEmpty();
        assertThat(OrphanedServerProcesses.find(tmp.resolve("no-proc"), data)).as("no /proc").isEmpty();
    }

    @Test
    void theParentPidIsTheFourthFieldOfStatWhateverTheCommandName() {
        assertThat(OrphanedServerProcesses.parentOf("4049 (postgres) S 1 4015 4015 0 -1")).contains(1L);
        assertThat(OrphanedServerProcesses.parentOf("4049 (post gres) x) S 5000 4015 4015 0 -1")).contains(5000L);
        assertThat(OrphanedServerProcesses.parentOf("4049 (postgres")).isEmpty();
        assertThat(OrphanedServerProcesses.parentOf("")).isEmpty();
    }

    private static void process(Path proc, String pid, String exe, Path cwd, long parent) throws IOException {
        Path p = Files.createDirectories(proc.resolve(pid));
        Files.createSymbolicLink(p.resolve("exe"), Path.of(exe));
        Files.createSymbolicLink(p.resolve("cwd"), cwd.toRealPath());
        Files.writeString(p.resolve("stat"), pid + " (postgres) S " + parent + " 4015 4015 0 -1 4194560");
    }
}

package io.pgkeel.agent.pg;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** sslpassword never reaches pg_basebackup's or pg_rewind's command line, which any local user reads in ps. */
class ToolSecretsTest {

    @Test
    void sslpasswordMovesIntoAPrivateServiceFile() throws Exception {
        Map<String, String> conninfo = new LinkedHashMap<>(Map.of("host", "h", "sslkey", "/k.pem", "sslpassword",
                "s3cret"));
        Map<String, String> env = new HashMap<>();
        Path file = ProcessControl.secretsOffTheCommandLine(conninfo, env);
        try {
            assertThat(conninfo).doesNotContainKey("sslpassword").containsEntry("sslkey", "/k.pem");
            assertThat(ConfigText.conninfo(conninfo)).doesNotContain("s3cret");
            assertThat(env).containsEntry("PGSERVICEFILE", file.toString()).containsEntry("PGSERVICE", "pgkeel");
            assertThat(Files.readString(file)).isEqualTo("[pgkeel]\nsslpassword=s3cret\n");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        } finally {
            Files.deleteIfExists(file);
        }
    }

    @Test
    void withoutSslpasswordNothingIsWritten() {
        Map<String, String> conninfo = new LinkedHashMap<>(Map.of("host", "h"));
        Map<String, String> env = new HashMap<>();
        assertThat(ProcessControl.secretsOffTheCommandLine(conninfo, env)).isNull();
        assertThat(env).isEmpty();
    }
}

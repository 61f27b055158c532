package io.pgkeel.agent.pg;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.DynamicConfigParser;
import io.pgkeel.config.PgkeelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * pg_hba.conf from the config key's {@code postgresql.pg_hba} (where Patroni's postgres0.yml puts it), the local
 * {@code postgresql.pg_hba} winning when set, as Patroni merges them; a change in the config key is written anew.
 */
class ConfigFilesHbaTest {
    @TempDir
    Path tmp;

    private PgkeelConfig config(String localHba) throws Exception {
        return TestConfigs.member(tmp, "postgresql0", localHba);
    }

    private static DynamicConfig dynamic(List<String> hba) {
        return DynamicConfigParser.parse(Map.of("postgresql", Map.of("pg_hba", hba)), "config", new ArrayList<>());
    }

    private ConfigFiles files(PgkeelConfig cfg, AtomicReference<DynamicConfig> dyn) throws Exception {
        Path data = tmp.resolve("data");
        Files.createDirectories(data);
        Files.writeString(data.resolve("PG_VERSION"), "15\n");
        Files.writeString(data.resolve("pg_hba.conf"), "local all all trust\n"); // initdb's
        return new ConfigFiles(new DataDirectory(data, tmp.resolve("pg.log"), () -> tmp), () -> cfg, dyn::get);
    }

    @Test
    void theConfigKeysPgHbaIsWrittenWhenNoLocalOneIsSet() throws Exception {
        AtomicReference<DynamicConfig> dyn = new AtomicReference<>(dynamic(List.of(
                "host replication replicator 10.0.0.0/8 md5", "host all all 0.0.0.0/0 md5")));
        ConfigFiles files = files(config(""), dyn);
        files.write(true, null);
        Path hba = tmp.resolve("data/pg_hba.conf");
        assertThat(Files.readString(hba)).isEqualTo("host replication replicator 10.0.0.0/8 md5\n"
                + "host all all 0.0.0.0/0 md5\n");
        assertThat(files.writtenParameters()).as("written for what is in force").isNotNull();

        // edit-config changes it: what was written no longer holds, so the next routine cycle rewrites and reloads
        dyn.set(dynamic(List.of("hostssl all all 0.0.0.0/0 scram-sha-256")));
        assertThat(files.writtenParameters()).isNull();
        files.write(true, null);
        assertThat(Files.readString(hba)).isEqualTo("hostssl all all 0.0.0.0/0 scram-sha-256\n");
        assertThat(files.writtenParameters()).isNotNull();
    }

    @Test
    void aLocalPgHbaWinsOverTheConfigKeys() throws Exception {
        AtomicReference<DynamicConfig> dyn = new AtomicReference<>(dynamic(List.of("host all all 0.0.0.0/0 md5")));
        ConfigFiles files = files(config("  pg_hba:\n  - host all all 127.0.0.1/32 scram-sha-256\n"), dyn);
        files.write(true, null);
        assertThat(Files.readString(tmp.resolve("data/pg_hba.conf")))
                .isEqualTo("host all all 127.0.0.1/32 scram-sha-256\n");
    }

    @Test
    void neitherKeepsInitdbsFile() throws Exception {
        ConfigFiles files = files(config(""), new AtomicReference<>(DynamicConfig.defaults()));
        files.write(true, null);
        assertThat(Files.readString(tmp.resolve("data/pg_hba.conf"))).isEqualTo("local all all trust\n");
    }
}

package io.pgkeel.agent.pg;

import io.pgkeel.config.ConfigLoader;
import io.pgkeel.config.PgkeelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** A member's local configuration for the tests of the files written into a data directory. */
final class TestConfigs {
    private TestConfigs() {}

    /**
     * Member {@code name} of scope batman with its data directory {@code tmp/data}, its YAML written to
     * {@code tmp/<name>.yml}; {@code postgresqlExtra} adds lines to the postgresql section (indented by 2).
     */
    static PgkeelConfig member(Path tmp, String name, String postgresqlExtra) throws Exception {
        Path file = tmp.resolve(name + ".yml");
        Files.writeString(file, """
                scope: batman
                name: %s
                restapi:
                  listen: 127.0.0.1:8008
                etcd3:
                  hosts: 127.0.0.1:2379
                postgresql:
                  listen: 127.0.0.1:5432
                  data_dir: %s
                  authentication:
                    superuser: {username: postgres, password: x}
                    replication: {username: replicator, password: y}
                %s""".formatted(name, tmp.resolve("data"), postgresqlExtra));
        return ConfigLoader.load(file, Map.of()).config();
    }
}

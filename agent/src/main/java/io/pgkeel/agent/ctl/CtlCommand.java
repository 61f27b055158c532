package io.pgkeel.agent.ctl;

import static io.pgkeel.agent.ctl.CtlError.USAGE;

import io.pgkeel.config.ConfigException;
import io.pgkeel.config.ConfigLoader;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code pgkeel ctl -c CONFIG.yml COMMAND}: patronictl's commands for a pgkeel (or Patroni) cluster. State is read
 * from etcd directly; actions go through the members' REST APIs, with etcd as the fallback where patronictl has one.
 * Exit codes: 0 done, 1 refused or failed ({@link CtlError#FAILED}), 2 bad configuration or usage
 * ({@link CtlError#USAGE}).
 */
@Command(name = "ctl", mixinStandardHelpOptions = true,
        description = "Operate a cluster: list, switchover, failover, restart, reinit, pause, edit-config, ...",
        subcommands = {ListCmd.class, TopologyCmd.class, SwitchoverCmd.class, FailoverCmd.class, RestartCmd.class,
                ReinitCmd.class, ReloadCmd.class, PauseCmd.class, ResumeCmd.class, ShowConfigCmd.class,
                EditConfigCmd.class, HistoryCmd.class, FlushCmd.class, RemoveCmd.class, VersionCmd.class})
public final class CtlCommand implements Runnable {
    @Option(names = {"-c", "--config-file"}, paramLabel = "CONFIG",
            description = "the agent's YAML configuration (default: $PGKEEL_CONFIG, then $PATRONICTL_CONFIG_FILE)")
    Path configFile;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    Ctl open() {
        Path path = configFile;
        if (path == null) {
            String env = Optional.ofNullable(System.getenv("PGKEEL_CONFIG")).orElse(System.getenv("PATRONICTL_CONFIG_FILE"));
            if (env == null) {
                throw new CtlError(USAGE, "no configuration: pass -c CONFIG.yml (or set PGKEEL_CONFIG)");
            }
            path = Path.of(env);
        }
        try {
            ConfigLoader.Loaded loaded = ConfigLoader.load(path);
            return new Ctl(loaded.config(), System.out, System.err,
                    new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)));
        } catch (ConfigException | IllegalArgumentException e) {
            // IllegalArgumentException: a ctl certificate or CA file that exists but cannot be used
            throw new CtlError(USAGE, "invalid configuration: " + e.getMessage());
        }
    }
}

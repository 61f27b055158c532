package io.pgkeel.agent;

import io.pgkeel.config.ConfigException;
import io.pgkeel.config.ConfigLoader;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code pgkeel agent CONFIG.yml} runs the daemon in the foreground, as {@code patroni CONFIG.yml} does. */
@Command(name = "pgkeel", mixinStandardHelpOptions = true, versionProvider = Main.VersionProvider.class,
        description = "PostgreSQL high-availability agent (Patroni-compatible, on etcd).",
        subcommands = {Main.AgentCommand.class, Main.ValidateCommand.class, io.pgkeel.agent.ctl.CtlCommand.class,
                picocli.AutoComplete.GenerateCompletion.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    static final int EXIT_CONFIG = 2;

    public static void main(String[] args) {
        boolean agent = args.length > 0 && args[0].equals("agent");
        // before anything slow (parsing, logging, the configuration, etcd): until it is installed a SIGHUP is the
        // JVM's orderly exit 129, and a supervisor may send its reload as soon as it has started the agent
        ReloadSignal hup = agent ? ReloadSignal.install() : null;
        if (!agent && args.length > 0) {
            // tools print their answers on stdout; only warnings and errors belong on stderr
            System.setProperty("PGKEEL_LOG_LEVEL", System.getenv().getOrDefault("PGKEEL_LOG_LEVEL", "WARN"));
        }
        CommandLine.IFactory factory = new CommandLine.IFactory() {
            @Override
            public <K> K create(Class<K> type) throws Exception {
                return type == AgentCommand.class && hup != null ? type.cast(new AgentCommand(hup))
                        : CommandLine.defaultFactory().create(type);
            }
        };
        System.exit(new CommandLine(new Main(), factory).execute(args));
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"pgkeel " + Version.PGKEEL};
        }
    }

    @Command(name = "agent", mixinStandardHelpOptions = true,
            description = "Run the HA agent in the foreground. SIGTERM stops it cleanly; SIGHUP re-reads CONFIG.")
    static final class AgentCommand implements Callable<Integer> {
        private static final Logger log = LoggerFactory.getLogger(AgentCommand.class);

        @Parameters(index = "0", paramLabel = "CONFIG", description = "Patroni-style YAML configuration file")
        Path config;

        /** Installed by {@link Main#main} before anything else; null when the command was made otherwise. */
        private final ReloadSignal hup;

        AgentCommand() {
            this(null);
        }

        AgentCommand(ReloadSignal hup) {
            this.hup = hup;
        }

        @Override
        public Integer call() {
            ReloadSignal reloadSignal = hup != null ? hup : ReloadSignal.install();
            log.info("pgkeel {} starting: reading {}", Version.PGKEEL, config);
            ConfigLoader.Loaded loaded;
            try {
                loaded = ConfigLoader.load(config);
            } catch (ConfigException e) {
                System.err.println("pgkeel: invalid configuration: " + e.getMessage());
                return EXIT_CONFIG;
            }
            loaded.warnings().forEach(w -> log.warn("configuration: {}", w));
            if ("root".equals(System.getProperty("user.name"))) {
                System.err.println("pgkeel: refusing to run as root: PostgreSQL will not run as root; run the agent as"
                        + " the postgres user (systemd: User=postgres)");
                return EXIT_CONFIG;
            }
            Agent agent;
            try {
                agent = Agent.start(loaded.config());
            } catch (RuntimeException e) {
                log.error("could not start: {}", e.getMessage(), e);
                return 1;
            }
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                agent.stop();
                stopped.countDown();
            }, "shutdown"));
            reloadSignal.started(() -> reload(agent));
            try {
                stopped.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return 0;
        }

        /** SIGHUP: re-read the file and hand it to the agent; a bad file keeps the running configuration. */
        private void reload(Agent agent) {
            try {
                ConfigLoader.Loaded reloaded = ConfigLoader.load(config);
                reloaded.warnings().forEach(w -> log.warn("configuration: {}", w));
                agent.reload(reloaded.config());
            } catch (ConfigException e) {
                log.error("SIGHUP: keeping the running configuration: {}", e.getMessage());
            }
        }
    }

    @Command(name = "validate", mixinStandardHelpOptions = true,
            description = "Check a configuration file and exit: 0 when valid, 2 with the bad key's path and line.")
    static final class ValidateCommand implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "CONFIG")
        Path config;

        @Override
        public Integer call() {
            try {
                ConfigLoader.Loaded loaded = ConfigLoader.load(config);
                loaded.warnings().forEach(w -> System.err.println("warning: " + w));
                System.out.println(config + ": valid (member " + loaded.config().name() + " of cluster "
                        + loaded.config().scope() + ")");
                return 0;
            } catch (ConfigException e) {
                System.err.println("pgkeel: invalid configuration: " + e.getMessage());
                return EXIT_CONFIG;
            }
        }
    }
}

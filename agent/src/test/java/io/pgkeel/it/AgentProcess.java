package io.pgkeel.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;

/** One pgkeel agent process (and, through it, one PostgreSQL) with its own ports and directory. */
final class AgentProcess {
    final String name;
    final int apiPort;
    final int pgPort;
    final Path dir;
    final Path config;
    final Path log;
    private Process process;
    private int starts;

    /** Which HA agent runs the node: pgkeel, or Patroni from Debian's package (for the benchmarks). */
    enum Flavor { PGKEEL, PATRONI }

    final Flavor flavor;
    /** Variables added to the agent's environment (PATRONI_* settings, PATH), on top of this JVM's. */
    private final Map<String, String> environment;

    AgentProcess(String name, Path dir, int apiPort, int pgPort, Path config) {
        this(name, dir, apiPort, pgPort, config, Flavor.PGKEEL);
    }

    AgentProcess(String name, Path dir, int apiPort, int pgPort, Path config, Flavor flavor) {
        this(name, dir, apiPort, pgPort, config, flavor, Map.of());
    }

    AgentProcess(String name, Path dir, int apiPort, int pgPort, Path config, Flavor flavor,
                 Map<String, String> environment) {
        this.flavor = flavor;
        this.environment = Map.copyOf(environment);
        this.name = name;
        this.dir = dir;
        this.apiPort = apiPort;
        this.pgPort = pgPort;
        this.config = config;
        this.log = dir.resolve("agent.log");
    }

    Path dataDir() {
        return dir.resolve("data");
    }

    /** Runs {@code pgkeel agent CONFIG} through the launcher (which execs java: the PID is the JVM's). */
    void start() {
        List<String> cmd = new ArrayList<>(Host.asAgentUser());
        if (flavor == Flavor.PATRONI) {
            cmd.addAll(List.of(Host.requireExecutable(Path.of("/usr/bin/patroni"), "patroni").toString(),
                    config.toString()));
        } else {
            // started as nohup would start it (SIGHUP ignored), so every SIGHUP test also shows that the launcher
            // gives the agent its SIGHUP back
            cmd.addAll(List.of("env", "--ignore-signal=HUP", Dist.launcher().toString(), "agent", config.toString()));
        }
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            pb.environment().putAll(environment);
            pb.environment().put("HOME", dir.toString());
            pb.environment().put("PGKEEL_DIST", Dist.home().toString());
            // the JVM the tests run on (the launcher would otherwise take the first java on PATH)
            pb.environment().put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
            Files.writeString(log, "==== start " + (++starts) + " ====\n", java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
            Host.giveToAgentUser(log);
            process = pb.start();
        } catch (IOException e) {
            throw new AssertionError("cannot start agent " + name, e);
        }
    }

    boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** The exit code once the agent has exited by itself within {@code timeout}; empty while it runs. */
    java.util.OptionalInt awaitExit(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    ? java.util.OptionalInt.of(process.exitValue()) : java.util.OptionalInt.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    long pid() {
        return process.pid();
    }

    /** SIGTERM and wait for a clean exit. */
    void terminate(Duration timeout) {
        if (!isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("agent " + name + " did not stop within " + timeout.toSeconds() + " s of SIGTERM");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    void kill9() {
        if (isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The postmaster's PID from postmaster.pid, when there is one and it is alive. */
    OptionalLong postmasterPid() {
        Path pidFile = dataDir().resolve("postmaster.pid");
        try {
            if (!Files.exists(pidFile)) {
                return OptionalLong.empty();
            }
            long pid = Long.parseLong(Files.readAllLines(pidFile).get(0).trim());
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).isPresent() ? OptionalLong.of(pid)
                    : OptionalLong.empty();
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }

    /** kill -9 of the postmaster and every process under it: what a crash of the whole instance looks like. */
    void killPostgresTree() {
        OptionalLong pm = postmasterPid();
        if (pm.isEmpty()) {
            return;
        }
        ProcessHandle.of(pm.getAsLong()).ifPresent(h -> {
            List<ProcessHandle> tree = new ArrayList<>(h.descendants().toList());
            Host.signal(h.pid(), "KILL");
            tree.forEach(c -> {
                if (c.isAlive()) {
                    Host.signal(c.pid(), "KILL");
                }
            });
        });
    }

    String logText() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public String toString() {
        return name + "(api " + apiPort + ", pg " + pgPort + ")";
    }
}

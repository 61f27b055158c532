package io.pgkeel.it;

import io.pgkeel.agent.pg.PostgresController;
import io.pgkeel.common.Clock;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.common.cluster.DynamicConfigParser;
import io.pgkeel.common.cluster.Member;
import io.pgkeel.common.pg.LocalPostgres.StopMode;
import io.pgkeel.common.pg.PgStatus;
import io.pgkeel.common.pg.PgSync;
import io.pgkeel.config.ConfigLoader;
import io.pgkeel.config.PgkeelConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * One node's {@link PostgresController} in a JVM of its own, run as the agent user (PostgreSQL refuses root) and
 * driven line by line over stdin: the lighter harness for what the controller does to a real PostgreSQL, without
 * etcd or the HA loop ({@link ControllerProcess} runs it). Each command gets one line on stdout that starts with
 * {@link #ANSWER}, then {@code ok} and a result or {@code error} and the message; log lines go around it. A new
 * process on the same configuration is, to the controller, an agent restart.
 *
 * <p>Commands: {@code bootstrap}; {@code clone PORT NAME} and {@code start-replica PORT NAME} (the member on
 * 127.0.0.1:PORT); {@code start-primary}; {@code stop} (fast); {@code set VALUE} (the rest of the line, maybe
 * empty); {@code unset} (null); {@code probe}: the run state, then tab-separated the running
 * synchronous_standby_names, whether it is managed, and each WAL sender as {@code name|state|sync_state|flush}.
 */
public final class LocalPostgresDriver {
    static final String ANSWER = "@@ ";

    private LocalPostgresDriver() {}

    public static void main(String[] args) throws IOException {
        PgkeelConfig config = ConfigLoader.load(Path.of(args[0]), Map.of()).config();
        DynamicConfig dynamic = DynamicConfigParser.parse(Map.of("postgresql", Map.of("use_slots", false)), "config",
                new ArrayList<>());
        PostgresController pg = new PostgresController(config, () -> dynamic, Clock.system());
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = in.readLine(); line != null && !line.equals("exit"); line = in.readLine()) {
            int space = line.indexOf(' ');
            String command = space < 0 ? line : line.substring(0, space);
            String arg = space < 0 ? "" : line.substring(space + 1);
            String answer;
            try {
                answer = "ok " + run(pg, command, arg);
            } catch (RuntimeException e) {
                answer = "error " + String.valueOf(e.getMessage()).replace('\n', ' ');
            }
            System.out.println(ANSWER + answer);
            System.out.flush();
        }
        System.exit(0); // the JDBC driver's threads would keep the JVM up
    }

    private static String run(PostgresController pg, String command, String arg) {
        switch (command) {
            case "bootstrap" -> pg.bootstrap();
            case "clone" -> pg.cloneFrom(member(arg));
            case "start-primary" -> pg.start(true, null);
            case "start-replica" -> pg.start(false, member(arg));
            case "stop" -> pg.stop(StopMode.FAST);
            case "set" -> pg.setSynchronousStandbyNames(arg);
            case "unset" -> pg.setSynchronousStandbyNames(null);
            case "probe" -> {
                return describe(pg.probe());
            }
            default -> throw new IllegalArgumentException("unknown command: " + command);
        }
        return "";
    }

    /** {@code PORT NAME}: the member on 127.0.0.1:PORT, named NAME (the rest of the line). */
    private static Member member(String arg) {
        int space = arg.indexOf(' ');
        String port = arg.substring(0, space);
        return new Member(arg.substring(space + 1), "postgres://127.0.0.1:" + port + "/postgres",
                "http://127.0.0.1:1/patroni", "running", "primary", 1, 0, null, Map.of(), 0);
    }

    private static String describe(PgStatus s) {
        PgSync sync = s.sync();
        return s.runState() + (s.inRecovery() ? " standby" : " primary") + "\t" + sync.synchronousStandbyNames()
                + "\t" + sync.managed() + "\t" + sync.walSenders().stream()
                .map(w -> w.applicationName() + "|" + w.state() + "|" + w.syncState() + "|" + w.flushLsn())
                .collect(Collectors.joining("\t"));
    }
}

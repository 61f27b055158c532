package io.pgkeel.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A {@link LocalPostgresDriver} process: one node's PostgresController, as the agent user, on the distribution's
 * jars and the driver's class (copied where that user can read it). Its log lines go to {@code log}; {@link #call}
 * sends a command and returns its answer.
 */
final class ControllerProcess implements AutoCloseable {
    private static Path driverClasses;

    private final Process process;
    private final Writer commands;
    private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();

    ControllerProcess(Path config, Path log) {
        List<String> cmd = new ArrayList<>(Host.asAgentUser());
        cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                Dist.lib() + "/*:" + driverClasses(), LocalPostgresDriver.class.getName(), config.toString()));
        try {
            process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("cannot start the controller process", e);
        }
        commands = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(() -> {
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line = out.readLine(); line != null; line = out.readLine()) {
                    if (line.startsWith(LocalPostgresDriver.ANSWER)) {
                        answers.add(line.substring(LocalPostgresDriver.ANSWER.length()));
                    }
                    Files.writeString(log, line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                }
            } catch (IOException e) {
                answers.add("error reading the controller's output: " + e.getMessage());
            }
        }, "controller-output");
        reader.setDaemon(true);
        reader.start();
    }

    /** The driver's class files, copied once into the distribution's world-readable copy. */
    private static synchronized Path driverClasses() {
        if (driverClasses != null) {
            return driverClasses;
        }
        try {
            Path from = Path.of(LocalPostgresDriver.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                    .resolve("io/pgkeel/it");
            Path root = Dist.home().resolve("it-driver");
            Path to = Files.createDirectories(root.resolve("io/pgkeel/it"));
            for (Path d : List.of(root, root.resolve("io"), root.resolve("io/pgkeel"), to)) {
                Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            try (Stream<Path> classes = Files.list(from)) {
                for (Path c : classes.filter(p -> p.getFileName().toString().startsWith("LocalPostgresDriver"))
                        .toList()) {
                    Path target = to.resolve(c.getFileName());
                    Files.copy(c, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
                }
            }
            driverClasses = root;
            return root;
        } catch (IOException | java.net.URISyntaxException e) {
            throw new AssertionError("cannot copy the driver's classes", e);
        }
    }

    /** Sends {@code command} and returns the answer's text after {@code ok}; an {@code error} answer fails. */
    String call(String command) {
        String answer = answer(command);
        if (!answer.startsWith("ok")) {
            throw new AssertionError(command + ": " + answer);
        }
        return answer.length() > 2 ? answer.substring(3) : "";
    }

    /** Sends {@code command} and returns its whole answer ({@code ok ...} or {@code error ...}), within 180 s. */
    String answer(String command) {
        try {
            commands.write(command + "\n");
            commands.flush();
            String answer = answers.poll(180, TimeUnit.SECONDS);
            if (answer == null) {
                throw new AssertionError("no answer to " + command + " within 180 s");
            }
            return answer;
        } catch (IOException e) {
            throw new AssertionError("cannot send " + command + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Ends the process (not its PostgreSQL, which runs on, as when an agent exits). */
    @Override
    public void close() {
        try {
            commands.write("exit\n");
            commands.flush();
        } catch (IOException e) {
            // already gone
        }
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

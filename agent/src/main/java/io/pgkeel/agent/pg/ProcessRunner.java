package io.pgkeel.agent.pg;

import io.pgkeel.common.pg.PostgresException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs a PostgreSQL tool and waits for it with a timeout. Output lines go to {@code onLine} (for progress
 * logging) and the last lines are kept for the error message. The environment given here (which may carry
 * passwords) is never logged.
 */
final class ProcessRunner {
    private static final int TAIL_LINES = 20;

    private ProcessRunner() {}

    record Result(int exitCode, String tail) {}

    static Result run(List<String> command, Map<String, String> env, Duration timeout, Consumer<String> onLine) {
        return run(command, env, timeout, onLine, null);
    }

    static Result run(List<String> command, Map<String, String> env, Duration timeout, Consumer<String> onLine,
                      Path stdinFrom) {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        if (stdinFrom != null) {
            pb.redirectInput(stdinFrom.toFile());
        }
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new PostgresException("cannot run " + command.get(0) + ": " + e.getMessage(), e);
        }
        Deque<String> tail = new ArrayDeque<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                StringBuilder line = new StringBuilder();
                int c;
                // pg_basebackup -P redraws its progress line with \r: treat \r as a line end too
                while ((c = r.read()) != -1) {
                    if (c == '\n' || c == '\r') {
                        emit(line, tail, onLine);
                    } else {
                        line.append((char) c);
                    }
                }
                emit(line, tail, onLine);
            } catch (IOException e) {
                // the process ended; nothing more to read
            }
        }, "output-" + Path.of(command.get(0)).getFileName());
        reader.setDaemon(true);
        reader.start();
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new PostgresException(Path.of(command.get(0)).getFileName() + " did not finish within "
                        + timeout.toSeconds() + " s");
            }
            reader.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new PostgresException("interrupted while waiting for " + command.get(0), e);
        }
        synchronized (tail) {
            return new Result(p.exitValue(), String.join("\n", tail));
        }
    }

    private static void emit(StringBuilder line, Deque<String> tail, Consumer<String> onLine) {
        if (line.length() == 0) {
            return;
        }
        String s = line.toString();
        line.setLength(0);
        synchronized (tail) {
            tail.addLast(s);
            if (tail.size() > TAIL_LINES) {
                tail.removeFirst();
            }
        }
        onLine.accept(s);
    }
}

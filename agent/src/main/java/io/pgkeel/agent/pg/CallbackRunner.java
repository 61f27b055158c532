package io.pgkeel.agent.pg;

import io.pgkeel.agent.ha.Callbacks;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs callback scripts on their own threads, as Patroni does: one callback at a time (a new one kills the one still
 * running, with its children), on_reload on a separate lane, and each killed when it outlives the timeout. Output
 * goes to the log. {@link #fire} only queues: it never blocks the HA loop.
 */
public final class CallbackRunner implements Callbacks {
    private static final Logger log = LoggerFactory.getLogger(CallbackRunner.class);

    private final Supplier<Map<String, String>> scripts;
    private final String scope;
    private final Duration timeout;
    private final Lane main = new Lane("callback");
    private final Lane reload = new Lane("callback-reload");

    /** @param scripts the configured commands by action (re-read on each call: SIGHUP may change them) */
    public CallbackRunner(Supplier<Map<String, String>> scripts, String scope, Duration timeout) {
        this.scripts = scripts;
        this.scope = scope;
        this.timeout = timeout;
    }

    @Override
    public void fire(String action, String role) {
        String command = scripts.get().get(action);
        if (command == null || command.isBlank()) {
            return;
        }
        List<String> cmd = new ArrayList<>(split(command));
        cmd.addAll(List.of(action, role, scope));
        (action.equals("on_reload") ? reload : main).run(cmd);
    }

    /** Shell-like splitting: whitespace separates words, single and double quotes group them. */
    static List<String> split(String command) {
        List<String> words = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        char quote = 0;
        boolean inWord = false;
        for (char c : command.toCharArray()) {
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    cur.append(c);
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    words.add(cur.toString());
                    cur.setLength(0);
                    inWord = false;
                }
            } else {
                cur.append(c);
                inWord = true;
            }
        }
        if (inWord) {
            words.add(cur.toString());
        }
        return words;
    }

    /** Stops whatever still runs (agent shutdown). */
    public void close() {
        main.shutdown();
        reload.shutdown();
    }

    /** One callback at a time: starting a new one kills the previous one if it still runs. */
    private final class Lane {
        private final ExecutorService executor;
        private Process current;

        Lane(String name) {
            this.executor = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, name);
                t.setDaemon(true);
                return t;
            });
        }

        synchronized void run(List<String> cmd) {
            kill(current);
            try {
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                current = p;
                executor.execute(() -> watch(p, cmd));
            } catch (IOException e) {
                log.warn("callback {} could not start: {}", cmd, e.getMessage());
            }
        }

        private void watch(Process p, List<String> cmd) {
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        log.info("callback {}: {}", cmd.get(cmd.size() - 3), line);
                    }
                } catch (IOException ignored) {
                    // the process went away
                }
            }, "callback-output");
            reader.setDaemon(true);
            reader.start();
            try {
                if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    log.warn("callback {} still runs after {} s: killing it", cmd, timeout.toSeconds());
                    kill(p);
                } else if (p.exitValue() != 0) {
                    log.warn("callback {} exited with {}", cmd, p.exitValue());
                }
            } catch (InterruptedException e) {
                kill(p);
                Thread.currentThread().interrupt();
            }
        }

        void shutdown() {
            synchronized (this) {
                kill(current);
            }
            executor.shutdownNow();
        }
    }

    private static void kill(Process p) {
        if (p != null && p.isAlive()) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }
}

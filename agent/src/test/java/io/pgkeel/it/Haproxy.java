package io.pgkeel.it;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real HAProxy running deploy/haproxy/haproxy.cfg in front of a 3-node {@link TestCluster}: writes on
 * {@link #primaryPort}, reads on {@link #replicaPort}, CSV stats on a third port. {@link #close()} ends it by PID.
 */
final class Haproxy implements AutoCloseable {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    final int primaryPort;
    final int replicaPort;
    private final int statsPort;
    private final Process process;

    private Haproxy(int primaryPort, int replicaPort, int statsPort, Process process) {
        this.primaryPort = primaryPort;
        this.replicaPort = replicaPort;
        this.statsPort = statsPort;
        this.process = process;
    }

    /**
     * Starts HAProxy for {@code cluster}'s three nodes, its log in the cluster's directory, and waits until its checks
     * mark only the leader up for writes and only the replicas up for reads (it counts every server up at first).
     */
    static Haproxy start(TestCluster cluster) {
        Path config = Path.of(System.getProperty("pgkeel.deploy"), "haproxy", "haproxy.cfg");
        Path binary = Host.requireExecutable(Path.of("/usr/sbin/haproxy"), "haproxy");
        int primaryPort = Host.freePort();
        int replicaPort = Host.freePort();
        int statsPort = Host.freePort();
        ProcessBuilder pb = new ProcessBuilder(binary.toString(), "-db", "-f", config.toString())
                .redirectErrorStream(true).redirectOutput(cluster.dir.resolve("haproxy.log").toFile());
        var env = pb.environment();
        env.put("PGKEEL_BIND", "127.0.0.1");
        env.put("PGKEEL_PRIMARY_PORT", String.valueOf(primaryPort));
        env.put("PGKEEL_REPLICA_PORT", String.valueOf(replicaPort));
        env.put("PGKEEL_STATS_PORT", String.valueOf(statsPort));
        for (int i = 0; i < 3; i++) {
            AgentProcess n = cluster.nodes.get(i);
            env.put("PGKEEL_NODE" + (i + 1), "127.0.0.1:" + n.pgPort);
            env.put("PGKEEL_NODE" + (i + 1) + "_API", String.valueOf(n.apiPort));
        }
        Haproxy h;
        try {
            h = new Haproxy(primaryPort, replicaPort, statsPort, pb.start());
        } catch (IOException e) {
            throw new AssertionError("cannot start " + binary, e);
        }
        try {
            String leader = cluster.leader().name;
            Await.until(Duration.ofSeconds(20), "HAProxy to mark only the leader up for writes and only replicas for reads",
                    () -> cluster.nodes.stream().allMatch(n -> h.status("primary", n.name)
                            .startsWith(n.name.equals(leader) ? "UP" : "DOWN")
                            && h.status("replicas", n.name).startsWith(n.name.equals(leader) ? "DOWN" : "UP")),
                    () -> cluster.nodes.stream().map(n -> n.name + "=" + h.status("primary", n.name) + "/"
                            + h.status("replicas", n.name)).toList().toString());
        } catch (RuntimeException | Error e) {
            h.close();
            throw e;
        }
        return h;
    }

    /** The status column of one server in HAProxy's CSV stats ({@code UP}, {@code DOWN}, ...). */
    String status(String proxy, String server) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + statsPort + "/;csv")).timeout(Duration.ofSeconds(3)).build(),
                    HttpResponse.BodyHandlers.ofString());
            List<String> lines = r.body().lines().toList();
            List<String> header = List.of(lines.get(0).replaceFirst("^# ", "").split(","));
            int status = header.indexOf("status");
            return lines.stream().map(l -> l.split(",")).filter(f -> f.length > status && f[0].equals(proxy)
                    && f[1].equals(server)).map(f -> f[status]).findFirst().orElse("missing");
        } catch (IOException e) {
            return "unreachable: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}

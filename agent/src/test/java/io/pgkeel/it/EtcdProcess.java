package io.pgkeel.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/** A one-member etcd on loopback, on free ports, read through etcd's own JSON gateway (no client of ours). */
final class EtcdProcess implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final Process process;
    private final int clientPort;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private EtcdProcess(Process process, int clientPort) {
        this.process = process;
        this.clientPort = clientPort;
    }

    static EtcdProcess start(Path dir) {
        int client = Host.freePort();
        int peer = Host.freePort();
        String clientUrl = "http://127.0.0.1:" + client;
        String peerUrl = "http://127.0.0.1:" + peer;
        try {
            Process p = new ProcessBuilder(List.of(Host.etcdBinary().toString(), "--name", "it",
                    "--data-dir", dir.resolve("etcd-data").toString(),
                    "--listen-client-urls", clientUrl, "--advertise-client-urls", clientUrl,
                    "--listen-peer-urls", peerUrl, "--initial-advertise-peer-urls", peerUrl,
                    "--initial-cluster", "it=" + peerUrl, "--logger", "zap", "--log-outputs", "stderr"))
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("etcd.log").toFile())
                    .start();
            EtcdProcess etcd = new EtcdProcess(p, client);
            Await.until(Duration.ofSeconds(30), "etcd to answer on " + clientUrl, etcd::isHealthy);
            return etcd;
        } catch (IOException e) {
            throw new AssertionError("cannot start etcd", e);
        }
    }

    String endpoint() {
        return "127.0.0.1:" + clientPort;
    }

    long pid() {
        return process.pid();
    }

    boolean isHealthy() {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + endpoint() + "/health"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 && r.body().contains("true");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The value of {@code key}, or empty. */
    Optional<String> get(String key) {
        JsonNode kvs = post("/v3/kv/range", "{\"key\":\"" + b64(key) + "\"}").path("kvs");
        if (!kvs.isArray() || kvs.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new String(Base64.getDecoder().decode(kvs.get(0).path("value").asText()),
                StandardCharsets.UTF_8));
    }

    /** The lease the key rides on, or 0. */
    long leaseOf(String key) {
        JsonNode kvs = post("/v3/kv/range", "{\"key\":\"" + b64(key) + "\"}").path("kvs");
        return kvs.isArray() && !kvs.isEmpty() ? kvs.get(0).path("lease").asLong(0) : 0;
    }

    /** Seconds etcd will still keep the lease (rounded down by etcd), or -1 if it is gone. */
    long leaseRemainingSeconds(long leaseId) {
        return post("/v3/lease/timetolive", "{\"ID\":" + leaseId + "}").path("TTL").asLong(-1);
    }

    void put(String key, String value) {
        post("/v3/kv/put", "{\"key\":\"" + b64(key) + "\",\"value\":\"" + b64(value) + "\"}");
    }

    private JsonNode post(String path, String body) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + endpoint() + path))
                    .timeout(Duration.ofSeconds(3)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new IllegalStateException("etcd " + path + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    /** Freezes etcd (SIGSTOP): it answers nothing, exactly like a hung or partitioned DCS. */
    void freeze() {
        Host.signal(process.pid(), "STOP");
    }

    void thaw() {
        Host.signal(process.pid(), "CONT");
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            thaw();
            process.destroy();
            try {
                if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }
}

package io.pgkeel.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * A real etcd cluster of 1 or 3 members (Debian's etcd) on loopback free ports in a private directory, optionally
 * secured as production etcd is: TLS for clients and peers (certificates made by {@code openssl} here, SAN
 * IP:127.0.0.1 and DNS:localhost), peers with mutual TLS, client certificates required or not, and etcd's auth
 * on (user {@value #ROOT} for this harness; user {@value #USER} whose role may read and write only the
 * {@code /service/} prefix; user {@value #OUTSIDER} whose role may touch only {@code /elsewhere/}).
 *
 * <p>Its own reads go through etcd's JSON gateway (plain) or etcdctl as root (secured), never through pgkeel's
 * client. Everything it starts it ends by PID on {@link #close()}.
 */
final class EtcdCluster implements AutoCloseable {
    static final String ROOT = "root";
    static final String USER = "pgkeel";
    static final String OUTSIDER = "outsider";
    /** Every user's password (etcd's auth, not a secret of any value). */
    static final String PASSWORD = "it-Secret-1";

    /**
     * How the cluster runs: member count (1 or 3), TLS for clients and peers (peers always with mutual TLS),
     * client certificates required ({@code --client-cert-auth}), auth enabled, and the simple token's ttl in
     * seconds ({@code --auth-token-ttl}; 0 = etcd's default).
     */
    record Options(int members, boolean tls, boolean clientCertAuth, boolean auth, int authTokenTtl) {
        Options {
            if (members != 1 && members != 3) {
                throw new IllegalArgumentException("1 or 3 members, not " + members);
            }
            if (clientCertAuth && !tls) {
                throw new IllegalArgumentException("client certificates need TLS");
            }
        }

        /** Plain http, no auth: what the standard ITs run on (with one member). */
        static Options plain(int members) {
            return new Options(members, false, false, false, 0);
        }

        /** TLS for clients and peers (peer mTLS), auth on, client certificates optional. */
        static Options secured(int members) {
            return new Options(members, true, false, true, 0);
        }

        Options withClientCertAuth() {
            return new Options(members, true, true, auth, authTokenTtl);
        }

        Options withAuthTokenTtl(int seconds) {
            return new Options(members, tls, clientCertAuth, auth, seconds);
        }
    }

    /** One member: its name, ports, data directory, log, and its process while running. */
    private static final class Member {
        final String name;
        final int clientPort;
        final int peerPort;
        final Path log;
        Process process;
        boolean frozen;

        Member(String name, int clientPort, int peerPort, Path log) {
            this.name = name;
            this.clientPort = clientPort;
            this.peerPort = peerPort;
            this.log = log;
        }

        /** Alive and not frozen: a request to it gets an answer. */
        boolean isRunning() {
            return process != null && process.isAlive() && !frozen;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    final Options options;
    final Path dir;
    private final Path certs;
    private final List<Member> members = new ArrayList<>();
    private final HttpClient http;
    /** Whether etcdctl must log in: auth is on. */
    private volatile boolean authEnabled;

    private EtcdCluster(Options options, Path dir) {
        this.options = options;
        this.dir = dir;
        this.certs = dir.resolve("etcd-certs");
        for (int i = 1; i <= options.members(); i++) {
            members.add(new Member("etcd" + i, Host.freePort(), Host.freePort(), dir.resolve("etcd" + i + ".log")));
        }
        if (options.tls()) {
            Certificates.make(certs);
        }
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    }

    /** A one-member plain etcd in {@code dir}: the standard ITs' etcd. */
    static EtcdCluster start(Path dir) {
        return start(dir, Options.plain(1));
    }

    /** Starts every member, waits for each to answer, and (with auth) creates the users and turns auth on. */
    static EtcdCluster start(Path dir, Options options) {
        Host.requireExecutable(Path.of("/usr/bin/etcdctl"), "etcd-client");
        EtcdCluster c = new EtcdCluster(options, dir);
        try {
            for (int i = 0; i < c.members.size(); i++) {
                c.launch(i, true);
            }
            for (int i = 0; i < c.members.size(); i++) {
                c.awaitHealthy(i);
            }
            if (options.auth()) {
                c.enableAuth();
            }
            return c;
        } catch (RuntimeException | Error e) {
            c.close();
            throw e;
        }
    }

    private String scheme() {
        return options.tls() ? "https" : "http";
    }

    private String clientUrl(Member m) {
        return scheme() + "://127.0.0.1:" + m.clientPort;
    }

    private String peerUrl(Member m) {
        return scheme() + "://127.0.0.1:" + m.peerPort;
    }

    private void launch(int i, boolean first) {
        Member m = members.get(i);
        List<String> cmd = new ArrayList<>(List.of(Host.etcdBinary().toString(), "--name", m.name,
                "--data-dir", dir.resolve(m.name + "-data").toString(),
                "--listen-client-urls", clientUrl(m), "--advertise-client-urls", clientUrl(m),
                "--listen-peer-urls", peerUrl(m), "--initial-advertise-peer-urls", peerUrl(m),
                "--initial-cluster", members.stream().map(o -> o.name + "=" + peerUrl(o))
                        .collect(Collectors.joining(",")),
                "--initial-cluster-state", "new", "--initial-cluster-token", "pgkeel-it",
                "--logger", "zap", "--log-outputs", "stderr"));
        if (options.tls()) {
            cmd.addAll(List.of("--cert-file", certs.resolve("server.crt").toString(),
                    "--key-file", certs.resolve("server.key").toString(),
                    "--trusted-ca-file", certs.resolve("ca.crt").toString(),
                    "--peer-cert-file", certs.resolve("server.crt").toString(),
                    "--peer-key-file", certs.resolve("server.key").toString(),
                    "--peer-trusted-ca-file", certs.resolve("ca.crt").toString(),
                    "--peer-client-cert-auth"));
            if (options.clientCertAuth()) {
                cmd.add("--client-cert-auth");
            }
        }
        if (options.authTokenTtl() > 0) {
            cmd.addAll(List.of("--auth-token-ttl", Integer.toString(options.authTokenTtl())));
        }
        try {
            if (!first) {
                Files.writeString(m.log, "==== restart ====\n", java.nio.file.StandardOpenOption.APPEND);
            }
            m.process = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(first ? ProcessBuilder.Redirect.to(m.log.toFile())
                            : ProcessBuilder.Redirect.appendTo(m.log.toFile()))
                    .start();
        } catch (IOException e) {
            throw new AssertionError("cannot start etcd member " + m.name, e);
        }
    }

    private void awaitHealthy(int i) {
        Await.until(Duration.ofSeconds(30), "etcd member " + members.get(i).name + " to answer on "
                + clientUrl(members.get(i)), () -> isHealthy(i), () -> tail(members.get(i).log));
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** Whether member {@code i} answers its health check (as root through etcdctl on a secured cluster). */
    boolean isHealthy(int i) {
        Member m = members.get(i);
        if (!isPlain()) {
            try {
                // it exits non-zero when the member is unhealthy (and says so on standard error)
                etcdctl(List.of(m), "endpoint", "health");
                return true;
            } catch (AssertionError e) {
                return false;
            }
        }
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(clientUrl(m) + "/health"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 && r.body().contains("true");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Whether every running member answers its health check. */
    boolean isHealthy() {
        return IntStream.range(0, members.size()).allMatch(this::isHealthy);
    }

    private void enableAuth() {
        etcdctl("user", "add", ROOT + ":" + PASSWORD);
        etcdctl("role", "add", ROOT);
        etcdctl("user", "grant-role", ROOT, ROOT);
        etcdctl("user", "add", USER + ":" + PASSWORD);
        etcdctl("role", "add", USER);
        etcdctl("role", "grant-permission", USER, "readwrite", "/service/", "--prefix=true");
        etcdctl("user", "grant-role", USER, USER);
        etcdctl("user", "add", OUTSIDER + ":" + PASSWORD);
        etcdctl("role", "add", OUTSIDER);
        etcdctl("role", "grant-permission", OUTSIDER, "readwrite", "/elsewhere/", "--prefix=true");
        etcdctl("user", "grant-role", OUTSIDER, OUTSIDER);
        etcdctl("auth", "enable");
        authEnabled = true;
    }

    /** Runs etcdctl as root against every running, unfrozen member; fails with its output. */
    String etcdctl(String... args) {
        return etcdctl(members.stream().filter(Member::isRunning).toList(), args);
    }

    /**
     * Runs etcdctl against {@code on} with the root certificate (TLS) and as root (auth; set up before auth is
     * on, so the user exists whenever auth is); fails with its output.
     */
    private String etcdctl(List<Member> on, String... args) {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/etcdctl", "--endpoints", on.stream()
                .map(this::clientUrl).collect(Collectors.joining(",")), "--dial-timeout", "5s",
                "--command-timeout", "15s"));
        if (options.tls()) {
            cmd.addAll(List.of("--cacert", certs.resolve("ca.crt").toString(),
                    "--cert", certs.resolve("root.crt").toString(), "--key", certs.resolve("root.key").toString()));
        }
        if (authEnabled && !options.clientCertAuth()) {
            // with client certificates required, the root certificate's CN is the user: no password to check
            cmd.addAll(List.of("--user", ROOT + ":" + PASSWORD));
        }
        cmd.addAll(List.of(args));
        try {
            return Certificates.run(cmd, dir);
        } catch (AssertionError e) {
            if (!String.valueOf(e.getMessage()).contains("DeadlineExceeded")) {
                throw e;
            }
            // a loaded machine (the tests share it with builds) can starve etcd for a while: once more
            return Certificates.run(cmd, dir);
        }
    }

    /** The client endpoints as {@code 127.0.0.1:port}, comma-separated (the YAML's {@code hosts}). */
    String endpoint() {
        return endpoints().stream().collect(Collectors.joining(","));
    }

    /** Every member's client endpoint, {@code 127.0.0.1:port}. */
    List<String> endpoints() {
        return members.stream().map(m -> "127.0.0.1:" + m.clientPort).toList();
    }

    /** Every member's client URL ({@code http://} or {@code https://}). */
    List<String> urls() {
        return members.stream().map(this::clientUrl).toList();
    }

    int size() {
        return members.size();
    }

    long pid(int i) {
        return members.get(i).process.pid();
    }

    /**
     * The agent's {@code etcd3:} section (two-space indented under it): hosts, and for a secured cluster protocol,
     * cacert, the client certificate and key, username and password.
     */
    String etcd3Yaml() {
        return etcd3Yaml(options.tls(), options.auth() ? USER : null);
    }

    /**
     * The {@code etcd3:} section with the client certificate or not, and as {@code user} (with {@link #PASSWORD})
     * or without a user ({@code null}).
     */
    String etcd3Yaml(boolean clientCertificate, String user) {
        return etcd3Yaml(clientCertificate, user, PASSWORD, options.tls() ? caCert() : null);
    }

    /** The {@code etcd3:} section trusting {@code cacert} (null: no cacert line) and with {@code password}. */
    String etcd3Yaml(boolean clientCertificate, String user, String password, Path cacert) {
        StringBuilder y = new StringBuilder("etcd3:\n  hosts: " + endpoint() + "\n");
        if (options.tls()) {
            y.append("  protocol: https\n");
            if (cacert != null) {
                y.append("  cacert: ").append(cacert).append('\n');
            }
            if (clientCertificate) {
                y.append("  cert: ").append(certs.resolve("client.crt")).append('\n');
                y.append("  key: ").append(certs.resolve("client.key")).append('\n');
            }
        }
        if (user != null) {
            y.append("  username: ").append(user).append('\n');
            y.append("  password: '").append(password.replace("'", "''")).append("'\n");
        }
        return y.toString();
    }

    /** The CA that signed every certificate here. */
    Path caCert() {
        return certs.resolve("ca.crt");
    }

    /** A CA that signed nothing here: trusting it, a client must refuse etcd's certificate. */
    Path otherCaCert() {
        return certs.resolve("other-ca.crt");
    }

    /** The client certificate (CN {@value #USER}: with {@code --client-cert-auth} it also names the user). */
    Path clientCert() {
        return certs.resolve("client.crt");
    }

    /** The client's RSA key as PKCS#8 PEM ({@code BEGIN PRIVATE KEY}, what {@code openssl req} writes). */
    Path clientKey() {
        return certs.resolve("client.key");
    }

    /** The same key as PKCS#1 PEM ({@code BEGIN RSA PRIVATE KEY}, what {@code openssl rsa -traditional} writes). */
    Path clientKeyPkcs1() {
        return certs.resolve("client-pkcs1.key");
    }

    /** The client certificate followed by its key in one file (the form Patroni takes as {@code cert} alone). */
    Path clientCertWithKey() {
        return certs.resolve("client-with-key.pem");
    }

    /** The value of {@code key}, or empty. */
    Optional<String> get(String key) {
        JsonNode kvs = range(key).path("kvs");
        if (!kvs.isArray() || kvs.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new String(Base64.getDecoder().decode(kvs.get(0).path("value").asText()),
                StandardCharsets.UTF_8));
    }

    /** The lease the key rides on, or 0. */
    long leaseOf(String key) {
        JsonNode kvs = range(key).path("kvs");
        return kvs.isArray() && !kvs.isEmpty() ? kvs.get(0).path("lease").asLong(0) : 0;
    }

    /** Seconds etcd will still keep the lease (rounded down by etcd), or -1 if it is gone. */
    long leaseRemainingSeconds(long leaseId) {
        if (isPlain()) {
            return post("/v3/lease/timetolive", "{\"ID\":" + leaseId + "}").path("TTL").asLong(-1);
        }
        return json(etcdctl("lease", "timetolive", "-w", "json", Long.toHexString(leaseId))).path("ttl").asLong(-1);
    }

    void put(String key, String value) {
        if (isPlain()) {
            post("/v3/kv/put", "{\"key\":\"" + b64(key) + "\",\"value\":\"" + b64(value) + "\"}");
        } else {
            etcdctl("put", "--", key, value);
        }
    }

    /**
     * The range answer for {@code key}: through the JSON gateway on a plain cluster (fast, the standard ITs poll
     * it), else through etcdctl as root (etcd 3.4's gateway refuses to authenticate under client-cert-auth).
     */
    private JsonNode range(String key) {
        if (isPlain()) {
            return post("/v3/kv/range", "{\"key\":\"" + b64(key) + "\"}");
        }
        return json(etcdctl("get", "-w", "json", "--", key));
    }

    private boolean isPlain() {
        return !options.tls() && !options.auth();
    }

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new IllegalStateException("not JSON: " + text, e);
        }
    }

    /** POSTs to the JSON gateway of the first running member that answers without an error (plain clusters only). */
    private JsonNode post(String path, String body) {
        IllegalStateException last = null;
        for (Member m : members) {
            if (!m.isRunning()) {
                continue;
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(clientUrl(m) + path))
                        .timeout(Duration.ofSeconds(3)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                        HttpResponse.BodyHandlers.ofString());
                JsonNode answer = JSON.readTree(r.body());
                // an error ("no leader", "leader changed" while a member is down) has no kvs: not an absent key
                if (r.statusCode() == 200 && !answer.has("error")) {
                    return answer;
                }
                last = new IllegalStateException("etcd " + path + " on " + m.name + ": " + r.statusCode() + " "
                        + r.body());
            } catch (IOException e) {
                last = new IllegalStateException("etcd " + path + " on " + m.name + ": " + e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw last != null ? last : new IllegalStateException("no etcd member is running");
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    /** kill -9 of member {@code i}: its data stays for {@link #restart(int)}. */
    void kill(int i) {
        Process p = members.get(i).process;
        if (p != null && p.isAlive()) {
            thaw(i);
            p.destroyForcibly();
            waitFor(p);
        }
    }

    /** Starts member {@code i} again on its data directory and ports, and waits until it answers. */
    void restart(int i) {
        kill(i);
        launch(i, false);
        awaitHealthy(i);
    }

    /** Freezes member {@code i} (SIGSTOP): it answers nothing, like a hung or partitioned member. */
    void freeze(int i) {
        Host.signal(pid(i), "STOP");
        members.get(i).frozen = true;
    }

    void thaw(int i) {
        Host.signal(pid(i), "CONT");
        members.get(i).frozen = false;
    }

    /** Freezes every member: the whole DCS hangs. */
    void freeze() {
        IntStream.range(0, members.size()).forEach(this::freeze);
    }

    void thaw() {
        IntStream.range(0, members.size()).forEach(this::thaw);
    }

    @Override
    public void close() {
        for (Member m : members) {
            Process p = m.process;
            if (p != null && p.isAlive()) {
                Host.signal(p.pid(), "CONT");
                p.destroy();
                waitFor(p);
            }
        }
    }

    private static void waitFor(Process p) {
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
        }
    }

    /** The test PKI, made by openssl: two CAs, etcd's server certificate, the client's and root's certificates. */
    static final class Certificates {
        private Certificates() {}

        static void make(Path certs) {
            try {
                Files.createDirectories(certs);
                Files.writeString(certs.resolve("server.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                        + "extendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n");
                Files.writeString(certs.resolve("client.ext"), "extendedKeyUsage=clientAuth\n"
                        + "keyUsage=digitalSignature,keyEncipherment\n");
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            Path openssl = Host.requireExecutable(Path.of("/usr/bin/openssl"), "openssl");
            for (String ca : List.of("ca", "other-ca")) {
                run(List.of(openssl.toString(), "req", "-x509", "-new", "-nodes", "-newkey", "rsa:2048",
                        "-keyout", ca + ".key", "-out", ca + ".crt", "-days", "3", "-subj", "/CN=pgkeel-it-" + ca),
                        certs);
            }
            sign(openssl, certs, "server", "/CN=etcd", "server.ext");
            sign(openssl, certs, "client", "/CN=" + USER, "client.ext");
            sign(openssl, certs, "root", "/CN=" + ROOT, "client.ext");
            run(List.of(openssl.toString(), "rsa", "-in", "client.key", "-out", "client-pkcs1.key", "-traditional"),
                    certs);
            try {
                Files.writeString(certs.resolve("client-with-key.pem"), Files.readString(certs.resolve("client.crt"))
                        + Files.readString(certs.resolve("client.key")));
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            // the agents run as the postgres user when the tests run as root: they must read the files
            try (var files = Files.list(certs)) {
                files.forEach(Host::giveToAgentUser);
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }

        private static void sign(Path openssl, Path certs, String name, String subject, String ext) {
            run(List.of(openssl.toString(), "req", "-new", "-nodes", "-newkey", "rsa:2048", "-keyout", name + ".key",
                    "-out", name + ".csr", "-subj", subject), certs);
            run(List.of(openssl.toString(), "x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                    "-CAcreateserial", "-out", name + ".crt", "-days", "3", "-extfile", ext), certs);
        }

        /**
         * Runs {@code cmd} in {@code dir}; returns its standard output (etcdctl warns on standard error, in JSON
         * too); fails with both when it does not exit 0.
         */
        static String run(List<String> cmd, Path dir) {
            try {
                Process p = new ProcessBuilder(cmd).directory(dir.toFile()).start();
                java.util.concurrent.CompletableFuture<String> err = java.util.concurrent.CompletableFuture
                        .supplyAsync(() -> read(p.getErrorStream()));
                String out = read(p.getInputStream());
                if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    p.destroyForcibly();
                    throw new AssertionError(String.join(" ", cmd) + " failed: " + out + err.join());
                }
                return out;
            } catch (IOException e) {
                throw new AssertionError("cannot run " + cmd.get(0), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }

        private static String read(InputStream s) {
            try {
                return new String(s.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return e.toString();
            }
        }
    }
}

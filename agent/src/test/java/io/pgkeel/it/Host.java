package io.pgkeel.it;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Facts about this machine the tests need, failing loudly when something is missing (a test never skips
 * silently). PostgreSQL refuses to run as root, so when the tests run as root every agent (and the PostgreSQL it
 * starts) runs as the unprivileged {@code postgres} user, as under systemd's {@code User=postgres}.
 */
final class Host {
    private Host() {}

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    static Path etcdBinary() {
        return requireExecutable(Path.of("/usr/bin/etcd"), "etcd-server");
    }

    static Path pgBinDir() {
        Path base = Path.of("/usr/lib/postgresql");
        try (Stream<Path> dirs = Files.list(base)) {
            return dirs.map(d -> d.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("pg_ctl")))
                    .max(Comparator.comparing(p -> Integer.parseInt(p.getParent().getFileName().toString())))
                    .orElseThrow(() -> new AssertionError("no PostgreSQL server under " + base
                            + ": install it with: apt-get install -y postgresql"));
        } catch (IOException e) {
            throw new AssertionError("no PostgreSQL server under " + base + ": install it with: apt-get install -y"
                    + " postgresql", e);
        }
    }

    static Path requireExecutable(Path p, String debianPackage) {
        if (!Files.isExecutable(p)) {
            throw new AssertionError(p + " is missing: install it with: apt-get install -y " + debianPackage);
        }
        return p;
    }

    /** Ports handed out in this JVM: the OS may offer a just-released port again, so remember them. */
    private static final java.util.Set<Integer> HANDED_OUT = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * A free TCP port on loopback, never one handed out before in this run (the OS picks it, so two concurrent
     * test runs do not clash either).
     */
    static int freePort() {
        for (int attempt = 0; attempt < 100; attempt++) {
            try (ServerSocket s = new ServerSocket()) {
                s.setReuseAddress(false);
                s.bind(new InetSocketAddress("127.0.0.1", 0));
                if (HANDED_OUT.add(s.getLocalPort())) {
                    return s.getLocalPort();
                }
            } catch (IOException e) {
                throw new AssertionError("no free port", e);
            }
        }
        throw new AssertionError("no fresh free port after 100 attempts");
    }

    /** A private temporary directory the agents' user can write to. */
    static Path tempDir(String prefix) {
        try {
            Path dir = Files.createTempDirectory(Path.of("/tmp"), prefix);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            giveToAgentUser(dir);
            return dir;
        } catch (IOException e) {
            throw new AssertionError("cannot create a temp dir", e);
        }
    }

    static void giveToAgentUser(Path p) {
        if (!isRoot()) {
            return;
        }
        try {
            UserPrincipalLookupService users = p.getFileSystem().getUserPrincipalLookupService();
            Files.setOwner(p, users.lookupPrincipalByName("postgres"));
        } catch (IOException e) {
            throw new AssertionError("cannot hand " + p + " to the postgres user (apt-get install -y postgresql"
                    + " creates it)", e);
        }
    }

    /** The command prefix that runs a process as the agent user: nothing, or setpriv to postgres when root. */
    static List<String> asAgentUser() {
        List<String> prefix = new ArrayList<>();
        if (isRoot()) {
            prefix.addAll(List.of(requireExecutable(Path.of("/usr/bin/setpriv"), "util-linux").toString(),
                    "--reuid=postgres", "--regid=postgres", "--init-groups", "--"));
        }
        return prefix;
    }

    static void signal(long pid, String signal) {
        try {
            Process p = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
            if (p.waitFor() != 0) {
                throw new AssertionError("kill -" + signal + " " + pid + " failed");
            }
        } catch (IOException e) {
            throw new AssertionError("cannot run kill", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort: a leftover temp dir is not worth failing a test for
        }
    }
}

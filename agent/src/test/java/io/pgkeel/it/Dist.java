package io.pgkeel.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;

/**
 * The built distribution and the launcher, copied once per test JVM into a world-readable temp dir: the agents
 * run as the postgres user, which may not be able to read the checkout (a clone under /root, say). Agents are
 * started through the launcher, with the JVM flags operators get.
 */
final class Dist {
    private static Path lib;

    private Dist() {}

    /** The launcher copy ({@code bin/pgkeel}); run it with PGKEEL_DIST set to {@link #home()}. */
    static Path launcher() {
        return lib().getParent().resolve("bin").resolve("pgkeel");
    }

    static Path home() {
        return lib().getParent();
    }

    static synchronized Path lib() {
        if (lib != null) {
            return lib;
        }
        String built = System.getProperty("pgkeel.dist");
        if (built == null || !Files.isDirectory(Path.of(built, "lib"))) {
            throw new AssertionError("the distribution was not built (system property pgkeel.dist=" + built
                    + "); run the tests through Maven's verify phase");
        }
        String launcher = System.getProperty("pgkeel.launcher");
        if (launcher == null || !Files.isRegularFile(Path.of(launcher))) {
            throw new AssertionError("the launcher was not found (system property pgkeel.launcher=" + launcher + ")");
        }
        try {
            Path home = Files.createTempDirectory(Path.of("/tmp"), "pgkeel-it-dist-");
            Path copy = Files.createDirectories(home.resolve("lib"));
            Path bin = Files.createDirectories(home.resolve("bin"));
            for (Path d : java.util.List.of(home, copy, bin)) {
                Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            Files.copy(Path.of(launcher), bin.resolve("pgkeel"), StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(bin.resolve("pgkeel"), PosixFilePermissions.fromString("rwxr-xr-x"));
            try (Stream<Path> jars = Files.list(Path.of(built, "lib"))) {
                for (Path jar : jars.toList()) {
                    Path target = copy.resolve(jar.getFileName());
                    Files.copy(jar, target, StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
                }
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> Host.deleteTree(home)));
            lib = copy;
            return lib;
        } catch (IOException e) {
            throw new AssertionError("cannot copy the distribution", e);
        }
    }
}

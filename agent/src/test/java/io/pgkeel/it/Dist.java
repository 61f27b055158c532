package io.pgkeel.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;

/**
 * The built distribution, copied once per test JVM into a world-readable temp dir: the agents run as the
 * postgres user, which may not be able to read the checkout (a clone under /root, say).
 */
final class Dist {
    private static Path lib;

    private Dist() {}

    static synchronized Path lib() {
        if (lib != null) {
            return lib;
        }
        String built = System.getProperty("pgkeel.dist");
        if (built == null || !Files.isDirectory(Path.of(built, "lib"))) {
            throw new AssertionError("the distribution was not built (system property pgkeel.dist=" + built
                    + "); run the tests through Maven's verify phase");
        }
        try {
            Path copy = Files.createTempDirectory(Path.of("/tmp"), "pgkeel-it-dist-");
            Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rwxr-xr-x"));
            try (Stream<Path> jars = Files.list(Path.of(built, "lib"))) {
                for (Path jar : jars.toList()) {
                    Path target = copy.resolve(jar.getFileName());
                    Files.copy(jar, target, StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
                }
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> Host.deleteTree(copy)));
            lib = copy;
            return lib;
        } catch (IOException e) {
            throw new AssertionError("cannot copy the distribution", e);
        }
    }
}

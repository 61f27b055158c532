package io.pgkeel.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * What `./mvnw package` builds, used as an operator would: the tarball unpacked and run, the .deb installed (with
 * dpkg, into a private root so the machine is left alone) and run, the systemd unit checked with systemd-analyze,
 * and the example configuration validated for each of its three nodes.
 */
class PackageIT {
    private static final Path TARGET = Path.of(System.getProperty("pgkeel.target", "target"));
    private static final String VERSION = System.getProperty("pgkeel.version", "");

    private static Map<String, String> java() {
        return Map.of("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    @Test
    void theTarballHasBinLibConfLicenseAndRuns() throws Exception {
        Path tarball = TARGET.resolve("pgkeel-" + VERSION + "-bin.tar.gz");
        assertThat(tarball).exists();
        Path dir = Host.tempDir("pgkeel-it-tar-");
        try {
            CliRun.Result untar = CliRun.run(List.of("tar", "-xzf", tarball.toString(), "-C", dir.toString()), null, Map.of());
            assertThat(untar.exit()).as(untar.toString()).isZero();
            Path home = dir.resolve("pgkeel-" + VERSION);
            assertThat(home.resolve("bin/pgkeel")).isExecutable();
            assertThat(home.resolve("conf/pgkeel.yml.example")).exists();
            assertThat(home.resolve("LICENSE")).content().contains("Apache License");
            try (Stream<Path> jars = Files.list(home.resolve("lib"))) {
                assertThat(jars.map(p -> p.getFileName().toString()))
                        .anyMatch(n -> n.startsWith("pgkeel-agent-") && n.endsWith("-dist.jar"))
                        .anyMatch(n -> n.startsWith("jetcd-core"));
            }
            CliRun.Result version = CliRun.run(List.of(home.resolve("bin/pgkeel").toString(), "--version"), null, java());
            assertThat(version.exit()).as(version.toString()).isZero();
            assertThat(version.out().trim()).isEqualTo("pgkeel " + VERSION.replace("-SNAPSHOT", ""));
            for (int i = 1; i <= 3; i++) {
                Map<String, String> env = new java.util.HashMap<>(java());
                env.put("PATRONI_NAME", "node" + i);
                env.put("PATRONI_RESTAPI_CONNECT_ADDRESS", "10.0.0.1" + i + ":8008");
                env.put("PATRONI_POSTGRESQL_CONNECT_ADDRESS", "10.0.0.1" + i + ":5432");
                CliRun.Result valid = CliRun.run(List.of(home.resolve("bin/pgkeel").toString(), "validate",
                        home.resolve("conf/pgkeel.yml.example").toString()), null, env);
                assertThat(valid.exit()).as("node" + i + ": " + valid).isZero();
                assertThat(valid.out()).contains("member node" + i + " of cluster main");
            }
        } finally {
            Host.deleteTree(dir);
        }
    }

    @Test
    void theDebInstallsRunsAndItsSystemdUnitVerifies() throws Exception {
        Path deb;
        try (Stream<Path> files = Files.list(TARGET)) {
            deb = files.filter(p -> p.getFileName().toString().matches("pgkeel_.*_all\\.deb")).findFirst()
                    .orElseThrow(() -> new AssertionError("no pgkeel_*_all.deb under " + TARGET));
        }
        Host.requireExecutable(Path.of("/usr/bin/dpkg"), "dpkg");
        CliRun.Result info = CliRun.run(List.of("dpkg-deb", "--field", deb.toString(), "Package", "Depends"), null,
                Map.of());
        assertThat(info.out()).contains("Package: pgkeel").contains("java17-runtime-headless");
        Path root = Host.tempDir("pgkeel-it-deb-");
        try {
            Path admin = root.resolve("var/lib/dpkg");
            Files.createDirectories(admin.resolve("updates"));
            Files.createDirectories(admin.resolve("info"));
            Files.writeString(admin.resolve("status"), "");
            CliRun.Result install = CliRun.run(List.of("dpkg", "--instdir=" + root, "--admindir=" + admin,
                    "--force-not-root", "--force-depends", "--log=/dev/null", "-i", deb.toString()), null, Map.of());
            assertThat(install.exit()).as(install.toString()).isZero();
            CliRun.Result listed = CliRun.run(List.of("dpkg-query", "--admindir=" + admin, "-W", "-f",
                    "${Status} ${Version}", "pgkeel"), null, Map.of());
            assertThat(listed.out()).startsWith("install ok installed");
            assertThat(Files.readSymbolicLink(root.resolve("usr/bin/pgkeel")))
                    .isEqualTo(Path.of("/usr/share/pgkeel/bin/pgkeel"));
            Path launcher = root.resolve("usr/share/pgkeel/bin/pgkeel");
            CliRun.Result version = CliRun.run(List.of(launcher.toString(), "--version"), null, java());
            assertThat(version.exit()).as(version.toString()).isZero();
            assertThat(version.out()).startsWith("pgkeel ");
            assertThat(root.resolve("etc/pgkeel/pgkeel.yml.example")).exists();
            Path unit = root.resolve("lib/systemd/system/pgkeel.service");
            assertThat(unit).exists();
            verifyUnit(unit, launcher, root);
        } finally {
            Host.deleteTree(root);
        }
    }

    /** systemd-analyze verify, with /usr/bin/pgkeel pointed at the private install (it checks ExecStart exists). */
    private static void verifyUnit(Path unit, Path launcher, Path root) throws IOException {
        Path analyze = Host.requireExecutable(Path.of("/usr/bin/systemd-analyze"), "systemd");
        Path copy = root.resolve("pgkeel.service");
        Files.writeString(copy, Files.readString(unit).replace("/usr/bin/pgkeel", launcher.toString()));
        CliRun.Result r = CliRun.run(List.of(analyze.toString(), "verify", copy.toString()), null, Map.of());
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out() + r.err()).as("no warnings").isBlank();
    }
}

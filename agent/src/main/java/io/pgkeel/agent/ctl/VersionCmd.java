package io.pgkeel.agent.ctl;

import io.pgkeel.agent.Version;
import io.pgkeel.common.cluster.Member;
import java.io.IOException;
import picocli.CommandLine.Command;

@Command(name = "version", mixinStandardHelpOptions = true, description = "pgkeel's version and the members'.")
final class VersionCmd extends Sub {
    @Override
    int run(Ctl ctl) {
        ctl.out.println("pgkeel ctl version " + Version.PGKEEL);
        for (Member m : ctl.read().members()) {
            Ctl.Answer a = ctl.call(m, "GET", "/patroni", null);
            String version = "unknown";
            String pg = "";
            if (a.ok()) {
                try {
                    var n = Format.JSON.readTree(a.text());
                    version = n.path("patroni").path("version").asText("unknown");
                    int v = n.path("server_version").asInt(0);
                    pg = v > 0 ? "; PostgreSQL " + (v / 10000) + "." + (v % 100) : "";
                } catch (IOException e) {
                    version = "unreadable answer";
                }
            }
            ctl.out.println(m.name() + ": pgkeel " + version + pg);
        }
        return 0;
    }
}

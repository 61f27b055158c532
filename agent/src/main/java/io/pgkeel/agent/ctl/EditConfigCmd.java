package io.pgkeel.agent.ctl;

import static io.pgkeel.agent.ctl.CtlError.FAILED;
import static io.pgkeel.agent.ctl.CtlError.USAGE;

import io.pgkeel.common.cluster.ConfigPatch;
import io.pgkeel.common.cluster.DynamicConfig;
import io.pgkeel.config.PatroniKeys;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "edit-config", mixinStandardHelpOptions = true,
        description = "Change the dynamic configuration (compare-and-set on its revision), showing a diff.")
final class EditConfigCmd extends Sub {
    @Parameters(arity = "0..1", paramLabel = "CLUSTER")
    String cluster;
    @Option(names = {"-s", "--set"}, paramLabel = "KEY=VALUE",
            description = "set a key (dots for nesting: postgresql.use_pg_rewind=true); an empty VALUE deletes it")
    List<String> sets = new ArrayList<>();
    @Option(names = {"-p", "--pg"}, paramLabel = "PARAM=VALUE", description = "set postgresql.parameters.PARAM")
    List<String> pgs = new ArrayList<>();
    @Option(names = "--apply", paramLabel = "FILE", description = "merge a YAML file ('-' for stdin) into it")
    String apply;
    @Option(names = "--replace", paramLabel = "FILE", description = "replace it with a YAML file")
    String replace;
    @Option(names = {"-q", "--quiet"}, description = "do not show the diff")
    boolean quiet;
    @Option(names = "--force", description = "do not ask for confirmation")
    boolean force;

    @Override
    int run(Ctl ctl) {
        checkCluster(ctl, cluster);
        DynamicConfig current = ctl.readConfig();
        Map<String, Object> updated;
        if (replace != null) {
            updated = readYamlFile(replace);
        } else {
            updated = new LinkedHashMap<>(current.raw());
            if (apply != null) {
                updated = ConfigPatch.merge(updated, readYamlFile(apply));
            }
            for (String s : sets) {
                updated = ConfigPatch.merge(updated, assignment(s, ""));
            }
            for (String p : pgs) {
                updated = ConfigPatch.merge(updated, assignment(p, "postgresql.parameters."));
            }
            if (apply == null && sets.isEmpty() && pgs.isEmpty()) {
                updated = editInteractively(current.raw());
            }
        }
        String before = Format.yaml(current.raw());
        String after = Format.yaml(updated);
        if (before.equals(after)) {
            ctl.out.println("Not changed");
            return 0;
        }
        if (!quiet) {
            ctl.out.print(LineDiff.diff(before, after));
        }
        List<String> problems = ConfigPatch.problems(updated);
        if (!problems.isEmpty()) {
            throw new CtlError(FAILED, "the new configuration is not valid: " + String.join("; ", problems));
        }
        PatroniKeys.EditCheck check = PatroniKeys.checkEdit(current.raw(), updated);
        if (!check.refused().isEmpty()) {
            throw new CtlError(FAILED, "the new configuration is refused: " + String.join("; ", check.refused()));
        }
        check.warnings().forEach(w -> ctl.err.println("warning: " + w));
        if (!force && !ctl.confirm("Apply these changes?")) {
            throw new CtlError(FAILED, "Aborted edit-config");
        }
        if (!ctl.dcs.writeConfig(updated, current.modRevision())) {
            throw new CtlError(FAILED, "Config modification aborted due to concurrent changes: the configuration"
                    + " was changed by someone else; run edit-config again");
        }
        ctl.out.println("Configuration changed");
        return 0;
    }

    /** {@code a.b=c} as {@code {"a": {"b": c}}}, the value read as YAML; an empty value deletes (null). */
    static Map<String, Object> assignment(String text, String prefix) {
        int eq = text.indexOf('=');
        if (eq <= 0) {
            throw new CtlError(USAGE, "'" + text + "' is not KEY=VALUE");
        }
        String[] path = (prefix + text.substring(0, eq).trim()).split("\\.");
        String raw = text.substring(eq + 1).trim();
        Object value;
        try {
            value = raw.isEmpty() ? null : Format.YAML.readValue(raw, Object.class);
        } catch (IOException e) {
            value = raw;
        }
        Map<String, Object> root = new LinkedHashMap<>();
        Map<String, Object> cur = root;
        for (int i = 0; i < path.length - 1; i++) {
            Map<String, Object> next = new LinkedHashMap<>();
            cur.put(path[i], next);
            cur = next;
        }
        cur.put(path[path.length - 1], value);
        return root;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> readYamlFile(String file) {
        try {
            String text = file.equals("-") ? new String(System.in.readAllBytes(), StandardCharsets.UTF_8)
                    : Files.readString(Path.of(file));
            Object o = Format.YAML.readValue(text, Object.class);
            if (!(o instanceof Map<?, ?>)) {
                throw new CtlError(FAILED, file + ": expected a YAML mapping of configuration keys");
            }
            return (Map<String, Object>) o;
        } catch (IOException e) {
            throw new CtlError(FAILED, file + ": " + e.getMessage());
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> editInteractively(Map<String, Object> current) {
        try {
            Path tmp = Files.createTempFile("pgkeel-config-", ".yaml");
            try {
                Files.writeString(tmp, Format.yaml(current));
                String editor = Optional.ofNullable(System.getenv("EDITOR")).orElse("vi");
                int rc = new ProcessBuilder("sh", "-c", editor + " \"$1\"", "editor", tmp.toString()).inheritIO()
                        .start().waitFor();
                if (rc != 0) {
                    throw new CtlError(FAILED, "the editor exited with " + rc);
                }
                Object o = Format.YAML.readValue(Files.readString(tmp), Object.class);
                if (!(o instanceof Map<?, ?>)) {
                    throw new CtlError(FAILED, "expected a YAML mapping of configuration keys");
                }
                return (Map<String, Object>) o;
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new CtlError(FAILED, "editing the configuration: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CtlError(FAILED, "interrupted");
        }
    }
}

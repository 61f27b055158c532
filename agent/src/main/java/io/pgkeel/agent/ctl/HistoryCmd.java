package io.pgkeel.agent.ctl;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "history", mixinStandardHelpOptions = true, description = "The cluster's failovers and switchovers.")
final class HistoryCmd extends Sub {
    @Parameters(arity = "0..1", paramLabel = "CLUSTER")
    String cluster;
    @Option(names = {"-f", "--format"}, defaultValue = "pretty", description = "pretty, tsv, json or yaml")
    Format format;

    @Override
    int run(Ctl ctl) {
        checkCluster(ctl, cluster);
        List<String> headers = List.of("TL", "LSN", "Reason", "Timestamp", "New Leader");
        List<List<String>> rows = new ArrayList<>();
        List<Map<String, Object>> objects = new ArrayList<>();
        for (List<Object> e : ctl.read().history()) {
            List<String> row = new ArrayList<>();
            Map<String, Object> obj = new LinkedHashMap<>();
            for (int i = 0; i < headers.size(); i++) {
                Object v = i < e.size() ? e.get(i) : null;
                row.add(v == null ? "" : String.valueOf(v));
                obj.put(headers.get(i), v);
            }
            rows.add(row);
            objects.add(obj);
        }
        ctl.out.print(switch (format) {
            case pretty -> Table.render(null, headers, rows, Set.of("TL", "LSN"));
            case tsv -> Table.tsv(headers, rows);
            case json -> Format.json(objects) + "\n";
            case yaml -> Format.yaml(objects);
        });
        return 0;
    }
}

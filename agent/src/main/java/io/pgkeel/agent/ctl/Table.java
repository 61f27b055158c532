package io.pgkeel.agent.ctl;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** patronictl's pretty tables: boxed, numbers right-aligned, an optional title cut into the top border. */
final class Table {
    private Table() {}

    static String render(String title, List<String> headers, List<List<String>> rows, Set<String> rightAligned) {
        int[] widths = new int[headers.size()];
        for (int i = 0; i < headers.size(); i++) {
            widths[i] = headers.get(i).length();
            for (List<String> r : rows) {
                widths[i] = Math.max(widths[i], r.get(i).length());
            }
        }
        StringBuilder border = new StringBuilder("+");
        for (int w : widths) {
            border.append("-".repeat(w + 2)).append('+');
        }
        StringBuilder out = new StringBuilder();
        String top = border.toString();
        if (title != null) {
            String t = "+ " + title + " ";
            top = t.length() >= top.length() ? t + "+" : t + top.substring(t.length());
        }
        out.append(top).append('\n');
        out.append(line(headers, widths, Set.of(), headers)).append('\n');
        out.append(border).append('\n');
        for (List<String> r : rows) {
            out.append(line(r, widths, rightAligned, headers)).append('\n');
        }
        out.append(border).append('\n');
        return out.toString();
    }

    private static String line(List<String> cells, int[] widths, Set<String> right, List<String> headers) {
        List<String> padded = new ArrayList<>();
        for (int i = 0; i < cells.size(); i++) {
            String c = cells.get(i);
            String pad = " ".repeat(widths[i] - c.length());
            padded.add(right.contains(headers.get(i)) ? pad + c : c + pad);
        }
        return "| " + String.join(" | ", padded) + " |";
    }

    /** Tab-separated, header first (patronictl -f tsv). */
    static String tsv(List<String> headers, List<List<String>> rows) {
        StringBuilder out = new StringBuilder(String.join("\t", headers)).append('\n');
        rows.forEach(r -> out.append(String.join("\t", r)).append('\n'));
        return out.toString();
    }
}

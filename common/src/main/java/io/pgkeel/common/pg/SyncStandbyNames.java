package io.pgkeel.common.pg;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A value of {@code synchronous_standby_names}, as PostgreSQL's syncrep grammar reads it: {@code FIRST n (a, b)},
 * {@code n (a, b)} (FIRST), {@code ANY n (a, b)}, a bare list {@code a, b} (FIRST 1), or empty (no synchronous
 * standby). Names are identifiers or double-quoted; {@code *} matches any standby.
 *
 * @param any   {@code ANY} (quorum commit): a commit waits for any {@code num} of {@code names}; otherwise FIRST: for
 *              the {@code num} highest-priority connected ones, in list order
 * @param num   how many standbys a commit waits for; 0 when the value is empty
 * @param names the listed standby names, as written ({@code *} included)
 */
public record SyncStandbyNames(boolean any, int num, List<String> names) {
    /**
     * Patroni 4's value for "wait, but for nobody that can answer" (synchronous_mode_strict with no standby to wait
     * for): commits block, and unlike {@code *} no standby of whatever kind (a {@code nosync} one) can release them.
     */
    public static final String STRICT_PLACEHOLDER = "__patroni_strict_sync_replica_placeholder__";
    public static final SyncStandbyNames NONE = new SyncStandbyNames(false, 0, List.of());

    private static final Pattern PLAIN = Pattern.compile("[A-Za-z_][A-Za-z_0-9$]*");

    public SyncStandbyNames {
        names = List.copyOf(names);
    }

    /** The listed names that are real standby names: not {@code *}, not the strict placeholder; lower case. */
    public List<String> standbyNames() {
        return names.stream().filter(n -> !n.equals("*") && !n.equalsIgnoreCase(STRICT_PLACEHOLDER))
                .map(n -> n.toLowerCase(Locale.ROOT)).toList();
    }

    /** {@code *} is listed: any standby that connects can be synchronous. */
    public boolean star() {
        return names.contains("*");
    }

    /**
     * Parses a value. An unreadable one throws IllegalArgumentException naming the problem (PostgreSQL would have
     * refused it at reload, keeping the value before).
     */
    public static SyncStandbyNames parse(String value) {
        if (value == null || value.isBlank()) {
            return NONE;
        }
        List<String> tokens = tokens(value);
        int i = 0;
        boolean any = false;
        int num = 1;
        boolean listed = false;
        if (tokens.size() > 1 && (tokens.get(0).equalsIgnoreCase("FIRST") || tokens.get(0).equalsIgnoreCase("ANY"))
                && tokens.get(1).matches("\\d+")) {
            any = tokens.get(0).equalsIgnoreCase("ANY");
            i = 1;
        }
        if (i < tokens.size() && tokens.get(i).matches("\\d+") && i + 1 < tokens.size() && tokens.get(i + 1).equals("(")) {
            num = Integer.parseInt(tokens.get(i));
            i += 2;
            listed = true;
        } else if (i == 1) {
            throw new IllegalArgumentException("synchronous_standby_names '" + value + "': expected '(' after the number");
        }
        List<String> names = new ArrayList<>();
        boolean expectName = true;
        for (; i < tokens.size(); i++) {
            String t = tokens.get(i);
            if (t.equals(")")) {
                if (!listed || i != tokens.size() - 1 || expectName) {
                    throw new IllegalArgumentException("synchronous_standby_names '" + value + "': unexpected ')'");
                }
                listed = false;
                break;
            }
            if (t.equals(",")) {
                if (expectName) {
                    throw new IllegalArgumentException("synchronous_standby_names '" + value + "': empty name");
                }
                expectName = true;
                continue;
            }
            if (!expectName || t.equals("(")) {
                throw new IllegalArgumentException("synchronous_standby_names '" + value + "': unexpected '" + t + "'");
            }
            names.add(t.startsWith("\"") ? t.substring(1, t.length() - 1).replace("\"\"", "\"") : t);
            expectName = false;
        }
        if (listed || names.isEmpty() || expectName) {
            throw new IllegalArgumentException("synchronous_standby_names '" + value + "': incomplete list");
        }
        return new SyncStandbyNames(any, num, names);
    }

    private static List<String> tokens(String value) {
        List<String> out = new ArrayList<>();
        int i = 0;
        while (i < value.length()) {
            char ch = value.charAt(i);
            if (Character.isWhitespace(ch)) {
                i++;
            } else if (ch == '(' || ch == ')' || ch == ',') {
                out.add(String.valueOf(ch));
                i++;
            } else if (ch == '"') {
                int j = i + 1;
                StringBuilder sb = new StringBuilder("\"");
                while (true) {
                    if (j >= value.length()) {
                        throw new IllegalArgumentException("synchronous_standby_names '" + value + "': unterminated quote");
                    }
                    if (value.charAt(j) == '"') {
                        if (j + 1 < value.length() && value.charAt(j + 1) == '"') {
                            sb.append("\"\"");
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    sb.append(value.charAt(j++));
                }
                out.add(sb.append('"').toString());
                i = j + 1;
            } else {
                int j = i;
                while (j < value.length() && !Character.isWhitespace(value.charAt(j)) && "(),\"".indexOf(value.charAt(j)) < 0) {
                    j++;
                }
                out.add(value.substring(i, j));
                i = j;
            }
        }
        return out;
    }

    /**
     * The text for {@code num} of {@code names} as pgkeel writes it (Patroni's form): one name alone as itself,
     * several as {@code FIRST n (a,b)} or {@code ANY n (a,b)}, names sorted and quoted where needed; empty names and
     * num 0: the empty string (no synchronous standby).
     */
    public static String format(boolean any, int num, java.util.Collection<String> names) {
        if (names.isEmpty() || num <= 0) {
            return "";
        }
        List<String> sorted = names.stream().sorted().map(SyncStandbyNames::quote).toList();
        if (!any && sorted.size() == 1) {
            return sorted.get(0);
        }
        return (any ? "ANY " : "FIRST ") + num + " (" + String.join(",", sorted) + ")";
    }

    /** A standby name as PostgreSQL's grammar reads it back: bare when a plain identifier (not a keyword), else quoted. */
    static String quote(String name) {
        boolean keyword = name.equalsIgnoreCase("first") || name.equalsIgnoreCase("any");
        return PLAIN.matcher(name).matches() && !keyword ? name : "\"" + name.replace("\"", "\"\"") + "\"";
    }
}

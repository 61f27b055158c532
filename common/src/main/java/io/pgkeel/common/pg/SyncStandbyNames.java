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
     * Parses a value as PostgreSQL does (syncrep_scanner.l, syncrep_gram.y, check_synchronous_standby_names): names
     * are identifiers (letters, digits, {@code _}, {@code $}, any non-ASCII character; not starting with a digit or
     * {@code $}), numbers, {@code *}, or double-quoted with {@code ""} for a quote; {@code FIRST} and {@code ANY} are
     * keywords in any case and name a standby only when quoted; the number before the list is 1 to 2147483647. What
     * PostgreSQL refuses throws IllegalArgumentException naming the value, the problem and its position (1-based):
     * PostgreSQL keeps the value before on reload, so such a text is never in force.
     */
    public static SyncStandbyNames parse(String value) {
        if (value == null) {
            return NONE;
        }
        List<Token> tokens = tokens(value);
        if (tokens.isEmpty()) {
            return NONE;
        }
        int i = 0;
        boolean any = false;
        int num = 1;
        boolean listed = false;
        Token first = tokens.get(0);
        if (first.kind == Kind.KEYWORD && i + 1 < tokens.size()
                && (tokens.get(1).kind == Kind.NUM || tokens.get(1).is("("))) {
            any = first.text.equalsIgnoreCase("ANY");
            i = 1;
            if (tokens.get(1).kind != Kind.NUM) {
                throw bad(value, "a number expected", tokens.get(1));
            }
        }
        if (i < tokens.size() && tokens.get(i).kind == Kind.NUM
                && (i == 1 || i + 1 < tokens.size() && tokens.get(i + 1).is("("))) {
            num = count(value, tokens.get(i));
            i++;
            if (i >= tokens.size() || !tokens.get(i).is("(")) {
                throw bad(value, "'(' expected", i < tokens.size() ? tokens.get(i) : null);
            }
            i++;
            listed = true;
        }
        List<String> names = new ArrayList<>();
        while (true) {
            Token name = i < tokens.size() ? tokens.get(i) : null;
            if (name == null || name.kind == Kind.PUNCT) {
                throw bad(value, "a name expected", name);
            }
            if (name.kind == Kind.KEYWORD) {
                throw new IllegalArgumentException("synchronous_standby_names '" + value + "': '" + name.text
                        + "' at position " + name.position + " is a keyword (double-quote a standby named so)");
            }
            names.add(name.text);
            i++;
            Token next = i < tokens.size() ? tokens.get(i) : null;
            if (next != null && next.is(",")) {
                i++;
                continue;
            }
            if (listed) {
                if (next == null) {
                    throw bad(value, "')' expected", null);
                }
                if (!next.is(")")) {
                    throw bad(value, "unexpected '" + next.text + "'", next);
                }
                i++;
                next = i < tokens.size() ? tokens.get(i) : null;
            }
            if (next != null) {
                throw bad(value, "unexpected '" + next.text + "'", next);
            }
            return new SyncStandbyNames(any, num, names);
        }
    }

    /** The number of a {@code FIRST n}, {@code ANY n} or {@code n (...)}: PostgreSQL refuses 0 (and atoi overflow). */
    private static int count(String value, Token num) {
        long n = num.text.length() > 10 ? Long.MAX_VALUE : Long.parseLong(num.text);
        if (n < 1 || n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("synchronous_standby_names '" + value
                    + "': the number of synchronous standbys must be between 1 and " + Integer.MAX_VALUE + ", got "
                    + num.text);
        }
        return (int) n;
    }

    private static IllegalArgumentException bad(String value, String problem, Token at) {
        return new IllegalArgumentException("synchronous_standby_names '" + value + "': " + problem
                + (at == null ? " at end of input" : " at position " + at.position));
    }

    private enum Kind { NAME, NUM, KEYWORD, PUNCT }

    /** One token of the syncrep scanner; {@code text} is a quoted name's content; {@code position} is 1-based. */
    private record Token(Kind kind, String text, int position) {
        boolean is(String punct) {
            return kind == Kind.PUNCT && text.equals(punct);
        }
    }

    private static boolean identStart(char ch) {
        return ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch == '_' || ch >= 0x80;
    }

    private static boolean identPart(char ch) {
        return identStart(ch) || ch >= '0' && ch <= '9' || ch == '$';
    }

    private static List<Token> tokens(String value) {
        List<Token> out = new ArrayList<>();
        int i = 0;
        while (i < value.length()) {
            char ch = value.charAt(i);
            int at = i + 1;
            if (" \t\n\r\f\013".indexOf(ch) >= 0) {
                i++;
            } else if (ch == '(' || ch == ')' || ch == ',') {
                out.add(new Token(Kind.PUNCT, String.valueOf(ch), at));
                i++;
            } else if (ch == '*') {
                out.add(new Token(Kind.NAME, "*", at));
                i++;
            } else if (ch == '"') {
                StringBuilder sb = new StringBuilder();
                int j = i + 1;
                while (true) {
                    if (j >= value.length()) {
                        throw new IllegalArgumentException("synchronous_standby_names '" + value
                                + "': unterminated quoted name at position " + at);
                    }
                    if (value.charAt(j) == '"') {
                        if (j + 1 < value.length() && value.charAt(j + 1) == '"') {
                            sb.append('"');
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    sb.append(value.charAt(j++));
                }
                out.add(new Token(Kind.NAME, sb.toString(), at));
                i = j + 1;
            } else if (ch >= '0' && ch <= '9') {
                int j = i;
                while (j < value.length() && value.charAt(j) >= '0' && value.charAt(j) <= '9') {
                    j++;
                }
                out.add(new Token(Kind.NUM, value.substring(i, j), at));
                i = j;
            } else if (identStart(ch)) {
                int j = i;
                while (j < value.length() && identPart(value.charAt(j))) {
                    j++;
                }
                String word = value.substring(i, j);
                boolean keyword = word.equalsIgnoreCase("FIRST") || word.equalsIgnoreCase("ANY");
                out.add(new Token(keyword ? Kind.KEYWORD : Kind.NAME, word, at));
                i = j;
            } else {
                throw bad(value, "unexpected '" + ch + "'", new Token(Kind.PUNCT, String.valueOf(ch), at));
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

package io.pgkeel.common;

import java.util.Locale;

/** Sizes as PostgreSQL and Patroni write them: {@code 1048576}, {@code 16kB}, {@code 64MB}, {@code 1GB}. */
public final class ByteSize {
    private ByteSize() {}

    public static long parse(String text) {
        String t = text == null ? "" : text.trim();
        if (t.isEmpty()) {
            throw new IllegalArgumentException("empty size");
        }
        int i = 0;
        while (i < t.length() && (Character.isDigit(t.charAt(i)))) {
            i++;
        }
        if (i == 0) {
            throw new IllegalArgumentException("not a size: '" + text + "'");
        }
        long number;
        try {
            number = Long.parseLong(t.substring(0, i));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size: '" + text + "'", e);
        }
        String unit = t.substring(i).trim().toLowerCase(Locale.ROOT);
        long factor = switch (unit) {
            case "", "b" -> 1L;
            case "kb", "k" -> 1L << 10;
            case "mb", "m" -> 1L << 20;
            case "gb", "g" -> 1L << 30;
            case "tb", "t" -> 1L << 40;
            default -> throw new IllegalArgumentException("unknown size unit in '" + text + "' (use B, kB, MB, GB or TB)");
        };
        return Math.multiplyExact(number, factor);
    }
}

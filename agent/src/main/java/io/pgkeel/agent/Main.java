package io.pgkeel.agent; public final class Main { public static void main(String[] a) {} }

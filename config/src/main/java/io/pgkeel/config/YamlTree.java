package io.pgkeel.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.DumperOptions;

/** Parses a YAML file into {@link ConfigNode}s that remember their path and line. */
final class YamlTree {
    private YamlTree() {}

    static ConfigNode.MapNode parse(Path file) {
        String name = file.toString();
        Node root;
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false);
            root = new Yaml(options).compose(reader);
        } catch (MarkedYAMLException e) {
            int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine() + 1;
            throw new ConfigException(name + " line " + line + ": not valid YAML: " + e.getProblem());
        } catch (YAMLException e) {
            throw new ConfigException(name + ": not valid YAML: " + e.getMessage());
        } catch (IOException e) {
            throw new ConfigException("cannot read configuration file " + name + ": " + e.getMessage(), e);
        }
        if (root == null) {
            throw new ConfigException(name + ": the configuration file is empty");
        }
        ConfigNode top = convert(root, "", name);
        if (!(top instanceof ConfigNode.MapNode map)) {
            throw new ConfigException(top.origin() + ": the top level must be a mapping of keys (scope:, name:, ...)");
        }
        return map;
    }

    /**
     * Parses a YAML value given as text (an environment variable's), its nodes under {@code path}; {@code name}
     * says where it came from in messages.
     */
    static ConfigNode parseText(String text, String path, String name) {
        Node root;
        try {
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false);
            root = new Yaml(options).compose(new java.io.StringReader(text));
        } catch (YAMLException e) {
            throw new ConfigException(name + ": not valid YAML: " + e.getMessage());
        }
        if (root == null) {
            return new ConfigNode.ScalarNode(path, name, null, true);
        }
        return convert(root, path, name);
    }

    private static ConfigNode convert(Node node, String path, String file) {
        String origin = file + " line " + (node.getStartMark().getLine() + 1);
        if (node instanceof MappingNode mapping) {
            Map<String, ConfigNode> entries = new LinkedHashMap<>();
            for (NodeTuple tuple : mapping.getValue()) {
                if (!(tuple.getKeyNode() instanceof ScalarNode key)) {
                    throw new ConfigException(file + " line " + (tuple.getKeyNode().getStartMark().getLine() + 1)
                            + ": " + (path.isEmpty() ? "a key" : "a key under " + path) + " must be a plain name");
                }
                String childPath = path.isEmpty() ? key.getValue() : path + "." + key.getValue();
                ConfigNode previous = entries.get(key.getValue());
                if (previous != null) {
                    throw new ConfigException(file + " line " + (key.getStartMark().getLine() + 1) + ": " + childPath
                            + " is given twice (first at " + previous.origin().substring(file.length() + 1) + ")");
                }
                entries.put(key.getValue(), convert(tuple.getValueNode(), childPath, file));
            }
            return new ConfigNode.MapNode(path, origin, entries);
        }
        if (node instanceof SequenceNode sequence) {
            List<ConfigNode> items = new ArrayList<>();
            int i = 0;
            for (Node item : sequence.getValue()) {
                items.add(convert(item, path + "[" + i++ + "]", file));
            }
            return new ConfigNode.ListNode(path, origin, items);
        }
        ScalarNode scalar = (ScalarNode) node;
        boolean plain = scalar.getScalarStyle() == DumperOptions.ScalarStyle.PLAIN;
        return new ConfigNode.ScalarNode(path, origin, scalar.getValue(), plain);
    }
}

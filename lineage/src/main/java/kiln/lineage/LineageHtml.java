package kiln.lineage;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * A lineage walk as one self-contained HTML page: an inline SVG graph, upstream to the left of the
 * target and downstream to its right, with no script, stylesheet, font or image fetched from
 * anywhere (it opens from a ticket attachment or an air-gapped cluster).
 */
public final class LineageHtml {
  private static final int WIDTH = 230;
  private static final int HEIGHT = 58;
  private static final int COLUMN_GAP = 60;
  private static final int ROW_GAP = 18;
  private static final int MARGIN = 20;

  private LineageHtml() {}

  /** A node placed on the page. */
  private record Placed(LineageGraph.Node node, int column, int row, String warning) {
    String key() {
      return key(node);
    }

    static String key(LineageGraph.Node node) {
      return node.kind() + " " + node.id();
    }
  }

  private record Edge(String from, String to) {}

  /**
   * The page. {@code warnings} maps a table node's id ({@code TABLE@VERSION}, as in the walk) to
   * why it is no longer readable; such nodes are drawn in red and listed under the graph.
   */
  public static String render(
      String target,
      LineageGraph.Node upstream,
      LineageGraph.Node downstream,
      Map<String, String> warnings) {
    Objects.requireNonNull(target, "target is null");
    Objects.requireNonNull(upstream, "upstream is null");
    Objects.requireNonNull(downstream, "downstream is null");
    Map<String, Placed> placed = new LinkedHashMap<>();
    Set<Edge> edges = new LinkedHashSet<>();
    Map<String, Integer> columns = new LinkedHashMap<>();
    Map<String, LineageGraph.Node> nodes = new LinkedHashMap<>();
    Set<Edge> upstreamEdges = new LinkedHashSet<>();
    Set<Edge> downstreamEdges = new LinkedHashSet<>();
    collect(upstream, -1, nodes, columns, upstreamEdges, true);
    collect(downstream, 1, nodes, columns, downstreamEdges, false);
    layer(columns, upstreamEdges, downstreamEdges);
    edges.addAll(upstreamEdges);
    edges.addAll(downstreamEdges);
    Map<Integer, Integer> rows = new TreeMap<>();
    for (Map.Entry<String, LineageGraph.Node> entry : nodes.entrySet()) {
      LineageGraph.Node node = entry.getValue();
      int column = columns.get(entry.getKey());
      int row = rows.merge(column, 1, Integer::sum) - 1;
      placed.put(
          entry.getKey(),
          new Placed(
              node, column, row, node.kind().equals("table") ? warnings.get(node.id()) : null));
    }

    int minColumn = placed.values().stream().mapToInt(Placed::column).min().orElse(0);
    int maxColumn = placed.values().stream().mapToInt(Placed::column).max().orElse(0);
    int maxRows = rows.values().stream().mapToInt(Integer::intValue).max().orElse(1);
    int width = 2 * MARGIN + (maxColumn - minColumn + 1) * (WIDTH + COLUMN_GAP) - COLUMN_GAP;
    // room under the last row for the edges that dip below it
    int height = 2 * MARGIN + maxRows * (HEIGHT + ROW_GAP) - ROW_GAP + HEIGHT;

    StringBuilder svg = new StringBuilder();
    svg.append("<svg width=\"")
        .append(width)
        .append("\" height=\"")
        .append(height)
        .append("\" viewBox=\"0 0 ")
        .append(width)
        .append(' ')
        .append(height)
        .append("\" role=\"img\" aria-label=\"lineage of ")
        .append(escape(target))
        .append("\">\n")
        .append(
            "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\""
                + " markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">"
                + "<path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#666\"/></marker></defs>\n");
    for (Edge edge : edges) {
      Placed from = placed.get(edge.from());
      Placed to = placed.get(edge.to());
      double x1 = x(from, minColumn) + WIDTH;
      double y1 = y(from) + HEIGHT / 2.0;
      double x2 = x(to, minColumn);
      double y2 = y(to) + HEIGHT / 2.0;
      double bend = Math.max(30, (x2 - x1) / 2);
      // an edge that skips columns dips below the boxes it passes, instead of running behind them
      double dip = Math.abs(to.column() - from.column()) > 1 ? HEIGHT + ROW_GAP : 0;
      svg.append(
          String.format(
              Locale.ROOT,
              "<path class=\"edge\" d=\"M %.1f %.1f C %.1f %.1f, %.1f %.1f, %.1f %.1f\""
                  + " marker-end=\"url(#arrow)\"/>\n",
              x1,
              y1,
              x1 + bend,
              y1 + dip,
              x2 - bend,
              y2 + dip,
              x2,
              y2));
    }
    for (Placed node : placed.values()) {
      int x = x(node, minColumn);
      int y = y(node);
      String css =
          node.node().kind()
              + (node.warning() != null ? " unreadable" : "")
              + (node.column() == 0 ? " target" : "");
      svg.append("<g class=\"node ").append(css).append("\">");
      svg.append("<title>").append(escape(tooltip(node))).append("</title>");
      svg.append(
          String.format(
              Locale.ROOT,
              "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"8\"/>",
              x,
              y,
              WIDTH,
              HEIGHT));
      List<String> lines = lines(node);
      for (int i = 0; i < lines.size(); i++) {
        svg.append(
                String.format(
                    Locale.ROOT,
                    "<text x=\"%d\" y=\"%d\"%s>",
                    x + 10,
                    y + 18 + i * 16,
                    i == 0 ? " class=\"title\"" : ""))
            .append(escape(clip(lines.get(i), i == 0 ? 28 : 32)))
            .append("</text>");
      }
      svg.append("</g>\n");
    }
    svg.append("</svg>");

    StringBuilder html = new StringBuilder();
    html.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<title>Lineage of ")
        .append(escape(target))
        .append("</title>\n<style>\n")
        .append(
            "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;"
                + "color:#222}\n"
                + "h1{font-size:20px}.legend span{display:inline-block;padding:2px 8px;"
                + "margin-right:8px;border-radius:6px;border:1px solid #999}\n"
                + "svg{font-size:12px;overflow:visible}.edge{fill:none;stroke:#666;"
                + "stroke-width:1.4}\n"
                + ".node rect{stroke:#555;stroke-width:1.2}.node .title{font-weight:600}\n"
                + ".table rect,.legend .table{fill:#e3f0ff;background:#e3f0ff}\n"
                + ".run rect,.legend .run{fill:#fff5d6;background:#fff5d6}\n"
                + ".model rect,.legend .model{fill:#e4f7e4;background:#e4f7e4}\n"
                + ".column rect{fill:#f0e8ff}\n"
                + ".target rect{stroke-width:3}\n"
                + ".unreadable rect,.legend .unreadable{fill:#ffe0e0;background:#ffe0e0;"
                + "stroke:#c00}\n"
                + ".warnings{color:#a00}pre{background:#f6f6f6;padding:12px;overflow:auto}\n")
        .append("</style>\n</head>\n<body>\n<h1>Lineage of ")
        .append(escape(target))
        .append("</h1>\n<p class=\"legend\"><span class=\"table\">table at a version</span>")
        .append("<span class=\"run\">run</span><span class=\"model\">model version</span>")
        .append("<span class=\"unreadable\">version no longer readable</span></p>\n")
        .append("<p>Upstream (what it was made from) to the left, downstream (what used it) to")
        .append(" the right; arrows follow the data. Hover a box for its ids.</p>\n")
        .append(svg)
        .append('\n');
    List<String> unreadable = new ArrayList<>();
    for (Placed node : placed.values()) {
      if (node.warning() != null) {
        unreadable.add(node.node().id() + ": " + node.warning());
      }
    }
    if (!unreadable.isEmpty()) {
      html.append("<h2>Warnings</h2>\n<ul class=\"warnings\">\n");
      unreadable.forEach(w -> html.append("<li>").append(escape(w)).append("</li>\n"));
      html.append("</ul>\n");
    }
    html.append("<h2>Upstream</h2>\n<pre>")
        .append(escape(LineageGraph.text(upstream)))
        .append("</pre>\n<h2>Downstream</h2>\n<pre>")
        .append(escape(LineageGraph.text(downstream)))
        .append("</pre>\n</body>\n</html>\n");
    return html.toString();
  }

  /**
   * Every node and edge of a walk, breadth first from the root at column 0: upstream one column
   * left per step, downstream one right. Edges follow the data (upstream's point at the root).
   */
  private static void collect(
      LineageGraph.Node root,
      int step,
      Map<String, LineageGraph.Node> nodes,
      Map<String, Integer> columns,
      Set<Edge> edges,
      boolean upstream) {
    record Visit(LineageGraph.Node node, int column) {}
    Deque<Visit> queue = new ArrayDeque<>();
    queue.add(new Visit(root, 0));
    Set<LineageGraph.Node> expanded =
        java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    while (!queue.isEmpty()) {
      Visit visit = queue.poll();
      String key = Placed.key(visit.node());
      nodes.putIfAbsent(key, visit.node());
      columns.putIfAbsent(key, visit.column());
      if (!expanded.add(visit.node())) {
        continue;
      }
      for (LineageGraph.Node next : visit.node().next()) {
        String nextKey = Placed.key(next);
        edges.add(upstream ? new Edge(nextKey, key) : new Edge(key, nextKey));
        queue.add(new Visit(next, visit.column() + step));
      }
    }
  }

  /**
   * Longest-path layers: every edge points right. A table read by two runs at different depths goes
   * to the column left of the first that reads it (upstream) or right of the last that wrote to its
   * path (downstream). The walks are acyclic; the bound only guards against a malformed log.
   */
  private static void layer(
      Map<String, Integer> columns, Set<Edge> upstreamEdges, Set<Edge> downstreamEdges) {
    for (int round = 0; round <= columns.size(); round++) {
      boolean changed = false;
      for (Edge edge : upstreamEdges) {
        int limit = columns.get(edge.to()) - 1;
        if (columns.get(edge.from()) > limit) {
          columns.put(edge.from(), limit);
          changed = true;
        }
      }
      for (Edge edge : downstreamEdges) {
        int limit = columns.get(edge.from()) + 1;
        if (columns.get(edge.to()) < limit) {
          columns.put(edge.to(), limit);
          changed = true;
        }
      }
      if (!changed) {
        return;
      }
    }
  }

  private static int x(Placed node, int minColumn) {
    return MARGIN + (node.column() - minColumn) * (WIDTH + COLUMN_GAP);
  }

  private static int y(Placed node) {
    return MARGIN + node.row() * (HEIGHT + ROW_GAP);
  }

  private static List<String> lines(Placed placed) {
    LineageGraph.Node node = placed.node();
    List<String> lines = new ArrayList<>();
    switch (node.kind()) {
      case "table" -> {
        String id = node.id();
        int at = id.lastIndexOf('@');
        String table = at < 0 ? id : id.substring(0, at);
        String name = table.replaceAll("/+$", "");
        lines.add(name.substring(name.lastIndexOf('/') + 1));
        lines.add(at < 0 ? "latest" : "version " + id.substring(at + 1));
        lines.add(placed.warning() != null ? "NOT READABLE any more" : table);
      }
      case "run" -> {
        Map<String, String> d = node.details();
        lines.add(d.getOrDefault("job", "run"));
        lines.add(d.getOrDefault("time", ""));
        lines.add(
            d.containsKey("mlflowRunId")
                ? "MLflow run " + shortId(d.get("mlflowRunId"))
                : "run " + shortId(node.id()));
      }
      case "column" -> {
        Map<String, String> d = node.details();
        String table = d.getOrDefault("table", "");
        int at = table.lastIndexOf('@');
        String name = (at < 0 ? table : table.substring(0, at)).replaceAll("/+$", "");
        lines.add(d.getOrDefault("column", node.id()));
        lines.add(
            name.substring(name.lastIndexOf('/') + 1)
                + (at < 0 ? "" : " version " + table.substring(at + 1)));
        lines.add(d.getOrDefault("transformations", "the column shown"));
      }
      default -> {
        lines.add(node.id());
        lines.add("model version");
      }
    }
    return lines;
  }

  private static String tooltip(Placed placed) {
    StringBuilder text =
        new StringBuilder(placed.node().kind()).append(' ').append(placed.node().id());
    placed.node().details().forEach((k, v) -> text.append('\n').append(k).append(": ").append(v));
    if (placed.warning() != null) {
      text.append("\nnot readable: ").append(placed.warning());
    }
    return text.toString();
  }

  /** Enough of an id to tell runs apart on the page; the tooltip has all of it. */
  private static String shortId(String id) {
    return id.length() <= 12 ? id : id.substring(0, 12) + "…";
  }

  /** Long paths keep their end, which names the table. */
  private static String clip(String text, int max) {
    return text.length() <= max ? text : "…" + text.substring(text.length() - max + 1);
  }

  static String escape(String text) {
    StringBuilder out = new StringBuilder(text.length());
    for (char c : text.toCharArray()) {
      switch (c) {
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '&' -> out.append("&amp;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }
}

package kiln.cost;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;

/**
 * The HTML report is one self-contained page: its plots are inline SVG, it loads nothing, and it
 * names every group with its figures.
 */
class CostReportHtmlTest {
  static CostLine line(
      String job, String team, String start, Double total, double cpu, double idle, double gpu) {
    return new CostLine(
        job,
        "run-" + job + "-" + start,
        Map.of("team", team),
        Instant.parse(start),
        total,
        cpu,
        0.0,
        gpu,
        total == null ? 0.0 : total - cpu - gpu,
        0.0,
        idle,
        "USD");
  }

  static final List<CostLine> LINES =
      List.of(
          line("drift", "risk", "2026-12-01T10:00:00Z", 30.0, 20.0, 5.0, 0.0),
          line("train", "risk", "2026-12-03T09:00:00Z", 60.0, 10.0, 1.0, 50.0),
          line("llm", "ads", "2026-12-03T10:00:00Z", 9.0, 1.0, 0.5, 0.0),
          line("score", "ads", "2026-12-04T11:00:00Z", null, 0.0, 0.0, 0.0),
          line("ingest", "<b>&co", "2026-12-04T11:30:00Z", 1.0, 1.0, 0.9, 0.0));

  static final CostReport REPORT =
      CostReport.of(Instant.parse("2026-12-01T00:00:00Z"), List.of("team"), LINES);

  @Test
  void thePageLoadsNothingFromOutsideAndRunsNoScript() {
    String page = CostReportHtml.render(REPORT);
    assertThat(page.toLowerCase(java.util.Locale.ROOT))
        .doesNotContain("http:")
        .doesNotContain("https:")
        .doesNotContain("<script")
        .doesNotContain("<link")
        .doesNotContain("<img")
        .doesNotContain("<iframe")
        .doesNotContain("url(")
        .doesNotContain("@import");
    assertThat(page).startsWith("<!DOCTYPE html>").endsWith("</html>\n");
  }

  @Test
  void everyPlotIsAnInlineSvgThatParsesAsXml() throws Exception {
    String page = CostReportHtml.render(REPORT);
    List<String> svgs = new ArrayList<>();
    Matcher m = Pattern.compile("<svg.*?</svg>", Pattern.DOTALL).matcher(page);
    while (m.find()) {
      svgs.add(m.group());
    }
    assertThat(svgs).hasSize(4);
    for (String svg : svgs) {
      DocumentBuilderFactory.newInstance()
          .newDocumentBuilder()
          .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
    }
    for (String id : List.of("cost-over-time", "cost-by-resource", "top-runs", "idle-share")) {
      assertThat(page).contains("<figure id=\"" + id + "\">");
    }
  }

  @Test
  void theTimePlotStacksEachGroupsCostPerDayWithGapsKept() {
    String svg = CostReportHtml.overTime(REPORT);
    assertThat(svg)
        .contains("<title>risk, 2026-12-01: 30.00</title>")
        .contains("<title>risk, 2026-12-03: 60.00</title>")
        .contains("<title>ads, 2026-12-03: 9.00</title>")
        .contains("<title>&lt;b&gt;&amp;co, 2026-12-04: 1.00</title>")
        .as("a day without runs is on the axis")
        .contains(">2026-12-02</text>");
    assertThat(svg)
        .as("the unknown cost of ads' score run is not drawn")
        .doesNotContain("ads, 2026-12-04");
  }

  @Test
  void moreGroupsThanColoursAreSummedAsOther() {
    List<CostLine> many = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      many.add(line("job", "team" + i, "2026-12-02T10:00:00Z", 10.0 + i, 1.0, 0.0, 0.0));
    }
    String svg =
        CostReportHtml.overTime(
            CostReport.of(Instant.parse("2026-12-01T00:00:00Z"), List.of("team"), many));
    // the three cheapest (10, 11, 12) are "other"
    assertThat(svg).contains("<title>other, 2026-12-02: 33.00</title>");
    assertThat(svg).contains("<title>team9, 2026-12-02: 19.00</title>");
    assertThat(svg).doesNotContain("team0, 2026-12-02");
  }

  @Test
  void sharesTopRunsAndIdleAreFiguresOfTheReport() {
    String page = CostReportHtml.render(REPORT);
    // known costs: cpu 20 + 10 + 1 + 1 = 32 of 100; gpu 50; tokens 10 + 8 = 18 (total - cpu - gpu)
    assertThat(CostReportHtml.byResource(REPORT))
        .contains("cpu 32.00 (32.0%)")
        .contains("gpu 50.00 (50.0%)")
        .contains("tokens 18.00 (18.0%)");
    String top = CostReportHtml.topRuns(REPORT);
    assertThat(top.indexOf("train run-trai")).isLessThan(top.indexOf("drift run-drif"));
    assertThat(top.indexOf("drift run-drif")).isLessThan(top.indexOf("llm run-llm-"));
    assertThat(top).doesNotContain("score");
    // risk: idle 5 + 1 of cpu 30 = 20%; ads: 0.5 of 1 = 50%
    assertThat(CostReportHtml.idle(REPORT))
        .contains("risk: idle 20.0%")
        .contains("ads: idle 50.0%");
    assertThat(page)
        .contains("<td>risk</td>")
        .contains("<td>ads</td>")
        .contains("<td>&lt;b&gt;&amp;co</td>")
        .contains("1 runs of unknown cost");
  }
}

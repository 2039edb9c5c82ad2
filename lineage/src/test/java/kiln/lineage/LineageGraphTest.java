package kiln.lineage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import kiln.core.BadInputException;
import kiln.core.DatasetRef;
import kiln.core.NotFoundException;
import kiln.core.tracking.TrackedRun;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Upstream and downstream walks over the events runs wrote: ingest → features → train → model →
 * score.
 */
class LineageGraphTest {

  private static void run(
      Lineage lineage, String job, String model, String[] inputs, String[] outputs, boolean fail) {
    TrackedRun run = lineage.run(new RecordedRun(), job, Map.of("kiln.job", job), null, null);
    for (String input : inputs) {
      run.logInput(DatasetRef.parse(input), job.equals("train") ? "training" : "input");
    }
    for (String output : outputs) {
      run.logInput(DatasetRef.parse(output), "output");
    }
    if (model != null) {
      run.setTags(
          Map.of("kiln.model", model.split("/")[0], "kiln.model_version", model.split("/")[1]));
    }
    if (fail) {
      run.fail(new IllegalStateException("boom"));
    } else {
      run.finish();
    }
  }

  @Test
  void aModelVersionsUpstreamReachesTheIngestedTableAndATablesDownstreamReachesThePredictions(
      @TempDir Path dir) {
    Lineage lineage = Lineage.open(dir, Map.of(), n -> {});
    run(lineage, "ingest", null, new String[0], new String[] {"/d/flights@0"}, false);
    run(
        lineage,
        "features",
        null,
        new String[] {"/d/flights@0"},
        new String[] {"/d/features@0"},
        false);
    run(lineage, "train", "delays/1", new String[] {"/d/features@0"}, new String[0], false);
    run(
        lineage,
        "score",
        "delays/1",
        new String[] {"/d/features@0"},
        new String[] {"/d/predictions@0"},
        false);
    run(
        lineage,
        "score",
        "delays/1",
        new String[] {"/d/features@0"},
        new String[] {"/d/predictions@1"},
        true);

    LineageGraph graph = LineageGraph.read(dir.resolve("lineage").resolve(FileTransport.FILE_NAME));
    assertThat(graph.runs()).hasSize(4);

    String up = LineageGraph.text(graph.upstream("models:/delays/1"));
    assertThat(up)
        .startsWith("models:/delays/1\n└─ kiln.train run ")
        .contains("/d/features@0")
        .contains("kiln.features run")
        .contains("/d/flights@0")
        .contains("kiln.ingest run")
        .doesNotContain("kiln.score");

    String down = LineageGraph.text(graph.downstream("/d/flights@0"));
    assertThat(down)
        .contains("kiln.features run")
        .contains("/d/features@0")
        .contains("kiln.train run")
        .contains("models:/delays/1")
        .contains("kiln.score run")
        .contains("/d/predictions@0")
        .doesNotContain("/d/predictions@1");

    LineageGraph.Node modelDown = graph.downstream("models:/delays/1");
    assertThat(modelDown.next())
        .singleElement()
        .satisfies(
            n -> {
              assertThat(n.details()).containsEntry("job", "kiln.score");
              assertThat(n.next())
                  .extracting(LineageGraph.Node::id)
                  .containsExactly("/d/predictions@0");
            });
  }

  @Test
  void anUnknownTargetSaysWhatHasLineageAndAnAliasOrUnpinnedTableIsBadInput(@TempDir Path dir)
      throws Exception {
    Lineage lineage = Lineage.open(dir, Map.of(), n -> {});
    run(lineage, "train", "delays/1", new String[] {"/d/features@0"}, new String[0], false);
    Path events = dir.resolve("lineage").resolve(FileTransport.FILE_NAME);
    Files.writeString(events, "{\"eventType\": \"COMPL", java.nio.file.StandardOpenOption.APPEND);
    LineageGraph graph = LineageGraph.read(events);

    assertThatThrownBy(() -> graph.upstream("models:/delays/9"))
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining("no recorded run registered or used models:/delays/9")
        .hasMessageContaining("models:/delays/1");
    assertThatThrownBy(() -> graph.upstream("/d/features@3"))
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining("/d/features@3")
        .hasMessageContaining("/d/features@0");
    assertThatThrownBy(() -> graph.upstream("models:/delays@champion"))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("models:/delays/VERSION");
    assertThatThrownBy(() -> graph.upstream("/d/features"))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("TABLE@VERSION");
  }

  @Test
  void theHtmlGraphIsOneSelfContainedPageWithEveryNodeAndUnreadableVersionsInRed(@TempDir Path dir)
      throws Exception {
    Lineage lineage = Lineage.open(dir, Map.of(), n -> {});
    run(lineage, "ingest", null, new String[0], new String[] {"/d/flights@0"}, false);
    run(
        lineage,
        "features",
        null,
        new String[] {"/d/flights@0"},
        new String[] {"/d/features@0"},
        false);
    run(lineage, "train", "delays/1", new String[] {"/d/features@0"}, new String[0], false);
    run(
        lineage,
        "score",
        "delays/1",
        new String[] {"/d/features@0"},
        new String[] {"/d/predictions@0"},
        false);
    LineageGraph graph = LineageGraph.read(dir.resolve("lineage").resolve(FileTransport.FILE_NAME));

    String html =
        LineageHtml.render(
            "/d/features@0",
            graph.upstream("/d/features@0"),
            graph.downstream("/d/features@0"),
            Map.of("/d/flights@0", "VACUUM deleted 1 of its 1 data file(s)"));

    assertThat(html).startsWith("<!DOCTYPE html>").contains("<svg ").contains("</html>");
    // nothing is fetched: no script, stylesheet, image or font from anywhere
    assertThat(html.toLowerCase(java.util.Locale.ROOT))
        .doesNotContain("<script")
        .doesNotContain("<link")
        .doesNotContain("src=")
        .doesNotContain("@import")
        .doesNotContain("http:")
        .doesNotContain("https:");
    // every table version, run and the model, each drawn once; arrows between them
    assertThat(html.split("<g class=\"node ", -1)).hasSize(1 + 8);
    assertThat(html).contains("<g class=\"node table target\">");
    assertThat(html).contains("kiln.features").contains("kiln.train").contains("kiln.score");
    assertThat(html).contains("models:/delays/1").contains("predictions");
    assertThat(html.split("<path class=\"edge\"", -1)).hasSize(1 + 8);
    assertThat(html)
        .contains("<g class=\"node table unreadable\">")
        .contains("<li>/d/flights@0: VACUUM deleted 1 of its 1 data file(s)</li>");
    assertThat(LineageHtml.escape("<a href=\"x\">&'"))
        .isEqualTo("&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
  }
}

package kiln.llm.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import kiln.llm.PiiConfig;
import kiln.llm.PiiEntity;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.MetadataBuilder;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Replaces the personal data RegexMatcher found, as each type's operator says ({@code
 * <ENTITY_TYPE>} by default, or a mask, or a salted hash). Open-source Spark NLP has no
 * de-identification annotator, so this stage of Kiln's does it: it reads the document annotation
 * and the regex chunks, keeps the candidates that pass their checks (Luhn, mod 97, ...), resolves
 * overlaps by priority, replaces right to left, and writes a redacted document annotation (which
 * Finisher turns into text) and the counts per entity type. The chunks themselves, which hold the
 * personal data, are dropped by Finisher after this stage.
 */
public final class PiiRedactor extends Transformer implements DefaultParamsWritable {
  private static final long serialVersionUID = 1L;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String uid;
  private final Param<String> documentCol;
  private final Param<String> chunkCol;
  private final Param<String> outputCol;
  private final Param<String> countsCol;
  private final Param<String> pii;

  public PiiRedactor() {
    this(Identifiable$.MODULE$.randomUID("kilnPiiRedactor"));
  }

  public PiiRedactor(String uid) {
    this.uid = uid;
    documentCol = new Param<>(this, "documentCol", "the document annotation column");
    chunkCol =
        new Param<>(
            this,
            "chunkCol",
            "RegexMatcher's chunk column; each chunk's identifier is an entity type");
    outputCol = new Param<>(this, "outputCol", "the redacted document annotation column");
    countsCol = new Param<>(this, "countsCol", "redactions per entity type, a map");
    pii =
        new Param<>(
            this,
            "pii",
            "the PiiConfig as JSON: entity types, operators, phone regions (no secrets: a hash"
                + " operator names its salt's environment variable)");
    setDefault(documentCol, "document");
    setDefault(chunkCol, "pii_chunks");
    setDefault(outputCol, "redacted");
    setDefault(countsCol, "redactions");
    setDefault(pii, json(PiiConfig.defaults()));
  }

  public Param<String> documentCol() {
    return documentCol;
  }

  public Param<String> chunkCol() {
    return chunkCol;
  }

  public Param<String> outputCol() {
    return outputCol;
  }

  public Param<String> countsCol() {
    return countsCol;
  }

  public Param<String> pii() {
    return pii;
  }

  public PiiRedactor setDocumentCol(String value) {
    set(documentCol, value);
    return this;
  }

  public PiiRedactor setChunkCol(String value) {
    set(chunkCol, value);
    return this;
  }

  public PiiRedactor setOutputCol(String value) {
    set(outputCol, value);
    return this;
  }

  public PiiRedactor setCountsCol(String value) {
    set(countsCol, value);
    return this;
  }

  public PiiRedactor setPii(PiiConfig value) {
    set(pii, json(value));
    return this;
  }

  public PiiConfig piiConfig() {
    try {
      return JSON.readValue($(pii), PiiConfig.class);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("the saved PII config is not valid JSON", e);
    }
  }

  private static String json(PiiConfig config) {
    try {
      return JSON.writeValueAsString(config);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the PII config as JSON", e);
    }
  }

  @Override
  public String uid() {
    return uid;
  }

  /** Spark NLP's annotation struct, which Finisher reads. */
  static StructType annotationType() {
    return new StructType()
        .add("annotatorType", DataTypes.StringType, true)
        .add("begin", DataTypes.IntegerType, false)
        .add("end", DataTypes.IntegerType, false)
        .add("result", DataTypes.StringType, true)
        .add(
            "metadata",
            DataTypes.createMapType(DataTypes.StringType, DataTypes.StringType, true),
            true)
        .add("embeddings", DataTypes.createArrayType(DataTypes.FloatType, false), true);
  }

  @Override
  public StructType transformSchema(StructType schema) {
    Set<String> names = Set.of(schema.fieldNames());
    for (String c : List.of($(documentCol), $(chunkCol))) {
      if (!names.contains(c)) {
        throw new IllegalArgumentException(
            "PiiRedactor needs column " + c + "; the input has " + names);
      }
    }
    return schema
        .add(
            new StructField(
                $(outputCol),
                DataTypes.createArrayType(annotationType(), true),
                true,
                documentMetadata()))
        .add(
            $(countsCol),
            DataTypes.createMapType(DataTypes.StringType, DataTypes.IntegerType, false),
            false);
  }

  private static Metadata documentMetadata() {
    return new MetadataBuilder().putString("annotatorType", "document").build();
  }

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    StructType out = transformSchema(dataset.schema());
    int document = dataset.schema().fieldIndex($(documentCol));
    int chunks = dataset.schema().fieldIndex($(chunkCol));
    PiiConfig config = piiConfig();
    MapPartitionsFunction<Row, Row> redact =
        rows -> {
          // on the executor: the hash operators' salts are read from its environment here
          Anonymizer operators = Anonymizer.of(config, System.getenv());
          return new java.util.Iterator<>() {
            @Override
            public boolean hasNext() {
              return rows.hasNext();
            }

            @Override
            public Row next() {
              return redactRow(rows.next(), document, chunks, config, operators);
            }
          };
        };
    Dataset<Row> result = dataset.toDF().mapPartitions(redact, Encoders.row(out));
    String column = $(outputCol);
    // mapPartitions keeps the types but not the column metadata Finisher reads
    return result.withColumn(column, functions.col(column).as(column, documentMetadata()));
  }

  private static Row redactRow(
      Row row, int documentIndex, int chunkIndex, PiiConfig config, Anonymizer operators) {
    Set<PiiEntity> chosen = java.util.EnumSet.noneOf(PiiEntity.class);
    chosen.addAll(config.entities());
    Object[] values = new Object[row.length() + 2];
    for (int i = 0; i < row.length(); i++) {
      values[i] = row.get(i);
    }
    Map<PiiEntity, Integer> counts = PiiRules.noCounts();
    List<Row> redacted = new ArrayList<>();
    List<Row> documents = row.isNullAt(documentIndex) ? List.of() : row.getList(documentIndex);
    List<Row> found = row.isNullAt(chunkIndex) ? List.of() : row.getList(chunkIndex);
    for (Row doc : documents) {
      String text = doc.getString(3);
      int docBegin = doc.getInt(1);
      List<PiiRules.Span> spans = new ArrayList<>();
      Set<PiiEntity> failed = java.util.EnumSet.noneOf(PiiEntity.class);
      for (Row chunk : found) {
        Map<String, String> meta = chunk.getJavaMap(4);
        PiiEntity entity = entity(meta.get("identifier"));
        int begin = chunk.getInt(1) - docBegin;
        int end = chunk.getInt(2) - docBegin + 1; // Spark NLP's end is inclusive
        if (entity == null || !chosen.contains(entity) || begin < 0 || end > text.length()) {
          continue;
        }
        if (PiiRules.valid(entity, text, begin, end, config.regions())) {
          spans.add(new PiiRules.Span(entity, begin, end));
        } else {
          failed.add(entity);
        }
      }
      // RegexMatcher resumes after a candidate, so one failing its check may hide a real entity
      // that
      // starts inside it: those types are searched again, candidate by candidate
      for (PiiEntity entity : failed) {
        spans.removeIf(s -> s.entity() == entity);
        spans.addAll(PiiRules.find(entity, text, config.regions()));
      }
      String clean = PiiRules.redact(text, PiiRules.resolve(spans), counts, operators);
      Map<String, String> meta = new HashMap<>(doc.getJavaMap(4));
      redacted.add(
          RowFactory.create(
              "document",
              0,
              Math.max(0, clean.length() - 1),
              clean,
              scala.collection.JavaConverters.mapAsScalaMap(meta),
              new float[0]));
    }
    Map<String, Integer> byName = new LinkedHashMap<>();
    counts.forEach((e, n) -> byName.put(e.name(), n));
    // Spark's row encoder takes Scala collections here
    values[row.length()] = scala.collection.JavaConverters.asScalaBuffer(redacted).toSeq();
    values[row.length() + 1] = scala.collection.JavaConverters.mapAsScalaMap(byName);
    return RowFactory.create(values);
  }

  private static PiiEntity entity(String identifier) {
    if (identifier == null) {
      return null;
    }
    try {
      return PiiEntity.valueOf(identifier);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  @Override
  public Transformer copy(ParamMap extra) {
    return defaultCopy(extra);
  }

  @Override
  public MLWriter write() {
    return new DefaultParamsWriter(this);
  }

  public static MLReader<PiiRedactor> read() {
    return new DefaultParamsReader<>();
  }
}

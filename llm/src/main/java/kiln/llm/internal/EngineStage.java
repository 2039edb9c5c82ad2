package kiln.llm.internal;

import kiln.llm.EngineConfig;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.Param;

/**
 * The params Kiln's LLM stages that call an engine share (the column read, the engine config as
 * JSON), declared once. Spark ML saves and finds params by name through the public methods
 * returning them, wherever they are declared: the names are those the stages had, so pipelines
 * saved before still load (AutoGgufStagesTest, LlmJobTest).
 *
 * @param <S> the stage itself, which the setters return
 */
public abstract class EngineStage<S extends EngineStage<S>> extends Transformer {
  private static final long serialVersionUID = 1L;

  private final String uid;
  private final Param<String> inputCol;
  private final Param<String> engine;

  /** {@code inputDoc} says what the input column holds, {@code engineDoc} which engine. */
  protected EngineStage(String uid, String inputDoc, String engineDoc) {
    // before the params: each param reads its parent's uid
    this.uid = uid;
    inputCol = new Param<>(this, "inputCol", inputDoc);
    engine = new Param<>(this, "engine", engineDoc);
  }

  @SuppressWarnings("unchecked")
  private S self() {
    return (S) this;
  }

  // Spark ML finds a stage's params by its public methods returning them

  public Param<String> inputCol() {
    return inputCol;
  }

  public Param<String> engine() {
    return engine;
  }

  public S setInputCol(String value) {
    set(inputCol, value);
    return self();
  }

  public S setEngine(EngineConfig config) {
    set(engine, EngineJson.write(config));
    return self();
  }

  public EngineConfig engineConfig() {
    return EngineJson.read($(engine));
  }

  @Override
  public String uid() {
    return uid;
  }
}

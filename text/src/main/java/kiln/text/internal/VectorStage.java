package kiln.text.internal;

import java.util.List;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.StringArrayParam;

/**
 * The params Kiln's text stages that make a vector column share (the column read, the vector
 * column, its length, the intermediate columns dropped), declared once. Spark ML saves and finds
 * params by name through the public methods returning them, wherever they are declared: the names
 * are those the stages had, so pipelines saved before still load (SavedStagesTest).
 *
 * @param <S> the stage itself, which the setters return
 */
public abstract class VectorStage<S extends VectorStage<S>> extends Transformer {
  private static final long serialVersionUID = 1L;

  private final String uid;
  private final Param<String> inputCol;
  private final Param<String> outputCol;
  private final IntParam dimension;
  private final StringArrayParam dropCols;

  /** {@code inputDoc} says what the input column holds. */
  protected VectorStage(String uid, String inputDoc) {
    // before the params: each param reads its parent's uid
    this.uid = uid;
    inputCol = new Param<>(this, "inputCol", inputDoc);
    outputCol = new Param<>(this, "outputCol", "the dense vector");
    dimension = new IntParam(this, "dimension", "the length of the vectors");
    dropCols = new StringArrayParam(this, "dropCols", "intermediate columns to drop");
    setDefault(dropCols, new String[0]);
  }

  @SuppressWarnings("unchecked")
  private S self() {
    return (S) this;
  }

  public S setInputCol(String value) {
    set(inputCol, value);
    return self();
  }

  public S setOutputCol(String value) {
    set(outputCol, value);
    return self();
  }

  public S setDimension(int value) {
    set(dimension, value);
    return self();
  }

  public S setDropCols(List<String> value) {
    set(dropCols, value.toArray(new String[0]));
    return self();
  }

  // Spark ML finds a stage's params through public methods returning them

  public Param<String> inputCol() {
    return inputCol;
  }

  public Param<String> outputCol() {
    return outputCol;
  }

  public IntParam dimension() {
    return dimension;
  }

  public StringArrayParam dropCols() {
    return dropCols;
  }

  public int getDimension() {
    return (Integer) $(dimension);
  }

  @Override
  public String uid() {
    return uid;
  }
}

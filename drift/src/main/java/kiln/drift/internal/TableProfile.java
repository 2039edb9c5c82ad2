package kiln.drift.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The profiles of every column of one side, keyed by column name, with the row count. Serializable
 * (for Spark) through the same compact binary form that is stored in the profile table.
 */
public final class TableProfile implements Serializable {
  private static final long serialVersionUID = 1L;
  static final int FORMAT = 1;

  private transient long rows;
  private transient Map<String, ColumnProfile> columns;

  public TableProfile(long rows, Map<String, ColumnProfile> columns) {
    this.rows = rows;
    this.columns = columns;
  }

  public long rows() {
    return rows;
  }

  public Map<String, ColumnProfile> columns() {
    return columns;
  }

  TableProfile merge(TableProfile other) {
    rows += other.rows;
    other.columns.forEach(
        (name, column) -> {
          ColumnProfile mine = columns.get(name);
          if (mine == null) {
            columns.put(name, column);
          } else {
            mine.merge(column);
          }
        });
    return this;
  }

  public static byte[] encode(ColumnProfile column) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      writeColumn(out, column);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  public static ColumnProfile decode(byte[] bytes) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      return readColumn(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void writeColumn(DataOutputStream out, ColumnProfile column) throws IOException {
    out.writeByte(FORMAT);
    out.writeBoolean(column instanceof CategoricalProfile);
    column.write(out);
  }

  private static ColumnProfile readColumn(DataInputStream in) throws IOException {
    int format = in.readByte();
    if (format != FORMAT) {
      throw new IOException(
          "unknown profile format " + format + "; this Kiln reads format " + FORMAT);
    }
    return in.readBoolean() ? CategoricalProfile.read(in) : NumericProfile.read(in);
  }

  private void writeObject(ObjectOutputStream out) throws IOException {
    out.defaultWriteObject();
    out.writeLong(rows);
    out.writeInt(columns.size());
    for (Map.Entry<String, ColumnProfile> entry : columns.entrySet()) {
      out.writeUTF(entry.getKey());
      byte[] bytes = encode(entry.getValue());
      out.writeInt(bytes.length);
      out.write(bytes);
    }
  }

  private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
    in.defaultReadObject();
    rows = in.readLong();
    int size = in.readInt();
    columns = new LinkedHashMap<>();
    for (int i = 0; i < size; i++) {
      String name = in.readUTF();
      byte[] bytes = new byte[in.readInt()];
      in.readFully(bytes);
      columns.put(name, decode(bytes));
    }
  }
}

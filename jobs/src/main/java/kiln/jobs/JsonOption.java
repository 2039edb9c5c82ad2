package kiln.jobs;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * {@code --json} on every job command: the job's result record as one JSON document on standard
 * output (what schedulers and notebooks parse), and every human line on standard error.
 */
final class JsonOption {
  static final String NAME = "--json";

  @Option(
      names = NAME,
      description =
          "Print the result record as JSON on standard output; human text goes to standard error.")
  boolean json;

  /** The command's console: with --json its human results move to standard error. */
  Console console(CommandSpec spec) {
    return new Console(
        json ? spec.commandLine().getErr() : spec.commandLine().getOut(),
        spec.commandLine().getErr());
  }

  /** Prints {@code result} as JSON on standard output when --json was given. */
  void print(CommandSpec spec, Object result) {
    if (json) {
      spec.commandLine().getOut().println(write(result));
      spec.commandLine().getOut().flush();
    }
  }

  private static final ObjectMapper MAPPER =
      new ObjectMapper()
          .registerModule(
              new SimpleModule("kiln-json")
                  .addSerializer(Optional.class, new OptionalSerializer())
                  .addSerializer(Duration.class, new ToStringSerializer<>(d -> d.toNanos() / 1e9))
                  .addSerializer(Instant.class, new ToStringSerializer<>(Instant::toString))
                  .addSerializer(
                      Path.class, new ToStringSerializer<>(p -> p.toAbsolutePath().toString())))
          .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
          .enable(SerializationFeature.INDENT_OUTPUT);

  static String write(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      // a result record that cannot be written is Kiln's bug, not the user's
      throw new IllegalStateException("cannot write " + value.getClass().getName() + " as JSON", e);
    }
  }

  /** An empty Optional is null, a present one its value. */
  @SuppressWarnings("rawtypes")
  private static final class OptionalSerializer extends JsonSerializer<Optional> {
    @Override
    public void serialize(Optional value, JsonGenerator generator, SerializerProvider provider)
        throws IOException {
      if (value.isPresent()) {
        provider.defaultSerializeValue(value.get(), generator);
      } else {
        generator.writeNull();
      }
    }
  }

  /**
   * A value written as what a function makes of it: seconds for a Duration, text for an Instant or
   * Path.
   */
  private static final class ToStringSerializer<T> extends JsonSerializer<T> {
    private final java.util.function.Function<T, Object> form;

    ToStringSerializer(java.util.function.Function<T, Object> form) {
      this.form = form;
    }

    @Override
    public void serialize(T value, JsonGenerator generator, SerializerProvider provider)
        throws IOException {
      provider.defaultSerializeValue(form.apply(value), generator);
    }
  }
}

package kiln.llm;

import java.util.List;

/** {@link FakeOpenAi} for tests in other packages. */
public final class FakeOpenAiAccess implements AutoCloseable {
  private final FakeOpenAi server;

  public FakeOpenAiAccess() throws java.io.IOException {
    server = new FakeOpenAi();
  }

  public String baseUrl() {
    return server.baseUrl();
  }

  public List<String> authorizations() {
    return server.authorizations;
  }

  public List<String> prompts() {
    return server.prompts;
  }

  public int maxInFlight() {
    return server.maxInFlight.get();
  }

  @Override
  public void close() {
    server.close();
  }
}

package kiln.llm.internal;

import java.util.List;
import kiln.llm.EngineConfig;

/** The local (llama.cpp) engine. Not built yet: every row fails with the reason. */
final class LocalEngines {
  private LocalEngines() {}

  static Engine open(EngineConfig config) {
    return prompts -> prompts.stream().map(p -> Completion.failed("the local engine is not implemented yet", 0, 0)).toList();
  }
}

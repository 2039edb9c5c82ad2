package com.johnsnowlabs.nlp.llama;

/**
 * Test stand-in (a stated fake): a class of John Snow Labs' llama.cpp binding (jsl-llamacpp, not
 * served here) that Spark NLP's AutoGGUFModel names in its method signatures. Spark ML reflects
 * over them when a param is set, so AutoGGUFModel cannot even be configured without it. It loads no
 * native code; the binding's LlamaModel is not faked, so the detection still finds it absent.
 */
public final class ModelParameters {}

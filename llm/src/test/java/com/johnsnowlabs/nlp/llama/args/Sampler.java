package com.johnsnowlabs.nlp.llama.args;

/** Test stand-in (a stated fake), as {@link com.johnsnowlabs.nlp.llama.ModelParameters}. */
public enum Sampler {}

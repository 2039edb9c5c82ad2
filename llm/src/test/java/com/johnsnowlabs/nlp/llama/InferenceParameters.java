package com.johnsnowlabs.nlp.llama;

/** Test stand-in (a stated fake), as {@link ModelParameters}. */
public final class InferenceParameters {}

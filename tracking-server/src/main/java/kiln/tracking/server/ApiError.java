package kiln.tracking.server;

/**
 * MLflow's error codes (databricks.proto) with the HTTP status MLflow's server answers them with.
 */
enum ApiError {
  INVALID_PARAMETER_VALUE("INVALID_PARAMETER_VALUE", 400),
  RESOURCE_ALREADY_EXISTS("RESOURCE_ALREADY_EXISTS", 400),
  RESOURCE_DOES_NOT_EXIST("RESOURCE_DOES_NOT_EXIST", 404),
  ENDPOINT_NOT_FOUND("ENDPOINT_NOT_FOUND", 404),
  BAD_REQUEST("BAD_REQUEST", 400),
  // MLflow has no code of its own for an oversized body; the status says what happened.
  REQUEST_TOO_LARGE("BAD_REQUEST", 413),
  UNAUTHENTICATED("UNAUTHENTICATED", 401),
  // a Host header outside the allow-list or a cross-origin request from an origin not listed
  PERMISSION_DENIED("PERMISSION_DENIED", 403),
  INTERNAL_ERROR("INTERNAL_ERROR", 500);

  private final String code;
  private final int httpStatus;

  ApiError(String code, int httpStatus) {
    this.code = code;
    this.httpStatus = httpStatus;
  }

  String code() {
    return code;
  }

  int httpStatus() {
    return httpStatus;
  }
}

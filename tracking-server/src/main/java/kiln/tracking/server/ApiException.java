package kiln.tracking.server;

/** A failure a client caused or can act on; the router turns it into MLflow's error JSON. */
final class ApiException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ApiError error;

  ApiException(ApiError error, String message) {
    super(message);
    this.error = error;
  }

  ApiError error() {
    return error;
  }

  static ApiException invalidParameter(String message) {
    return new ApiException(ApiError.INVALID_PARAMETER_VALUE, message);
  }

  static ApiException notFound(String message) {
    return new ApiException(ApiError.RESOURCE_DOES_NOT_EXIST, message);
  }

  static ApiException alreadyExists(String message) {
    return new ApiException(ApiError.RESOURCE_ALREADY_EXISTS, message);
  }

  static ApiException badRequest(String message) {
    return new ApiException(ApiError.BAD_REQUEST, message);
  }

  static ApiException missingParameter(String name) {
    return invalidParameter("Missing value for required parameter '" + name + "'.");
  }
}

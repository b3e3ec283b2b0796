/**
 * The one place that knows Zoho's error codes, HTTP statuses and messages (CONTRACT.md "Errors",
 * reference §5.8). Handlers throw ZohoError; the HTTP layer serialises it.
 *
 * Messages the official SDKs list verbatim are kept verbatim: the SDKs classify an error body by
 * matching code and message against their enums (official-sdk-wire.md §3).
 */
export type ErrorDetails = Readonly<Record<string, unknown>>;

export class ZohoError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
    this.name = 'ZohoError';
  }

  toBody(): { code: string; details: ErrorDetails; message: string; status: 'error' } {
    return { code: this.code, details: this.details, message: this.message, status: 'error' };
  }
}

/** Where in a create-job body a problem sits, for `details.json_path`. */
export function keyDetails(apiName: string, jsonPath: string): ErrorDetails {
  return { api_name: apiName, json_path: jsonPath };
}

export const Errors = {
  invalidUrlPattern: () =>
    new ZohoError(404, 'INVALID_URL_PATTERN', 'Please check if the URL trying to access is a correct one'),
  invalidRequestMethod: () =>
    new ZohoError(400, 'INVALID_REQUEST_METHOD', 'The http request method type is not a valid one'),
  authenticationFailure: () => new ZohoError(401, 'AUTHENTICATION_FAILURE', 'Authentication failed'),
  invalidToken: () => new ZohoError(401, 'INVALID_TOKEN', 'invalid oauth token'),
  oauthScopeMismatch: () => new ZohoError(401, 'OAUTH_SCOPE_MISMATCH', 'invalid oauth scope to access this URL'),
  resourceNotFound: () => new ZohoError(400, 'RESOURCE_NOT_FOUND', "The requested resource doesn't exist."),
  internal: () => new ZohoError(500, 'INTERNAL_ERROR', 'Internal server error occurred.'),

  // Upload (reference §4.3). Upload errors carry details.created_time, as captured from Zoho.
  invalidFileFormat: (status: number, createdTime: string) =>
    new ZohoError(status, 'INVALID_FILE_FORMAT', 'invalid file format. only zip format is supported', {
      created_time: createdTime,
    }),
  fileTooLarge: (limitBytes: number) =>
    new ZohoError(413, 'FILE_TOO_LARGE', 'File size too large to process', { max_size: limitBytes }),
  notSupportedFeature: (status: number, createdTime: string) =>
    new ZohoError(status, 'NOT_SUPPORTED_FEATURE', 'Feature is not supported', { created_time: createdTime }),
  fileNotSupported: (message: string, details: ErrorDetails) =>
    new ZohoError(400, 'FILE_NOT_SUPPORTED', message, details),

  // Create job (reference §5.7–5.8).
  mandatoryNotFound: (message: string, details: ErrorDetails) =>
    new ZohoError(400, 'MANDATORY_NOT_FOUND', message, details),
  requiredKey: (key: string, jsonPath: string) =>
    new ZohoError(400, 'MANDATORY_NOT_FOUND', `required key ${key} is not found in request body.`, keyDetails(key, jsonPath)),
  invalidData: (message: string, details: ErrorDetails) => new ZohoError(400, 'INVALID_DATA', message, details),
  duplicateData: (message: string, details: ErrorDetails) => new ZohoError(400, 'DUPLICATE_DATA', message, details),
  invalidField: (message: string, details: ErrorDetails) => new ZohoError(400, 'INVALID_FIELD', message, details),
  invalidFormat: (message: string, details: ErrorDetails) => new ZohoError(400, 'INVALID_FORMAT', message, details),
  invalidFileId: (details: ErrorDetails) => new ZohoError(400, 'INVALID_FILE_ID', 'improper file id', details),
  moduleNotAvailable: (name: string, details: ErrorDetails) =>
    new ZohoError(400, 'MODULE_NOT_AVAILABLE', `Requested module '${name}' is not available.`, details),
  columnIndexNotFound: (message: string, details: ErrorDetails) =>
    new ZohoError(400, 'COLUMN_INDEX_NOT_FOUND', message, details),
  headerLimitExceeded: (message: string, details: ErrorDetails) =>
    new ZohoError(400, 'HEADER_LIMIT_EXCEEDED', message, details),
  mandatoryFieldsNotMapped: (missing: readonly string[], details: ErrorDetails) =>
    new ZohoError(
      400,
      'MANDATORY_FIELDS_NOT_MAPPED',
      `All mandatory fields are not mapped for the layout: ${missing.join(', ')}`,
      details,
    ),
  invalidCallbackUrl: (url: string, details: ErrorDetails) =>
    new ZohoError(400, 'INVALID_CALLBACK_URL', `Invalid URL '${url}' for callback.`, details),
  // Records and metadata APIs.
  requiredParamMissing: (param: string) =>
    new ZohoError(400, 'REQUIRED_PARAM_MISSING', 'One of the expected parameter is missing', { param }),
  invalidQuery: (reason: string, details: ErrorDetails = {}) =>
    new ZohoError(400, 'INVALID_QUERY', 'Invalid query formed', { reason, ...details }),
  invalidCallbackMethod: (method: string) =>
    new ZohoError(400, 'INVALID_CALLBACK_METHOD', `Invalid request method ${method} for callback.`, {
      supported_callback_methods: ['post'],
      json_path: '$.callback.method',
    }),
} as const;

/** An answer of the API that is not a success: its HTTP status and the stable `code` of its error body. */
export class VpsApiError extends Error {
  override readonly name = "VpsApiError";
  readonly status: number;
  readonly code: string;
  /** Per-field messages of an `invalid_input` (empty otherwise). */
  readonly fields: Record<string, string[]>;
  readonly response: Response;

  constructor(
    status: number,
    code: string,
    message: string,
    fields: Record<string, string[]>,
    response: Response,
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.response = response;
  }

  /** Reads the API's `{"error": {code, message, fields}}`; a body of another shape (a proxy's page) keeps its status. */
  static async from(response: Response): Promise<VpsApiError> {
    const text = await response.clone().text();
    let error: { code?: unknown; message?: unknown; fields?: unknown } | undefined;
    try {
      error = (JSON.parse(text) as { error?: typeof error }).error;
    } catch {
      error = undefined;
    }
    const code = typeof error?.code === "string" ? error.code : `http_${response.status}`;
    const message =
      typeof error?.message === "string" ? error.message : text.slice(0, 200) || response.statusText;
    const fields =
      error?.fields && typeof error.fields === "object" ? (error.fields as Record<string, string[]>) : {};
    return new VpsApiError(response.status, code, message, fields, response);
  }
}

/** A wait helper's deadline passed before the awaited state was reached. */
export class VpsWaitTimeoutError extends Error {
  override readonly name = "VpsWaitTimeoutError";
}

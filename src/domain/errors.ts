// Every error a user can see: a stable machine-readable code and an HTTP status.
// Services throw these; one handler in the API layer turns them into the error shape.

import { formatMoney, MONEY_LIMIT_MINOR } from "./money.ts";

const LIMIT = formatMoney(MONEY_LIMIT_MINOR);

export type FieldErrors = Record<string, string[]>;

export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly fields: FieldErrors | undefined;
  /** The action (operation) the request met, for errors about one in flight. */
  actionId: number | undefined;
  constructor(status: number, code: string, message: string, fields?: FieldErrors) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

export class InvalidInput extends AppError {
  constructor(fields: FieldErrors, message = "The request has invalid parameters.") {
    super(400, "invalid_input", message, fields);
  }
  static field(field: string, message: string): InvalidInput {
    return new InvalidInput({ [field]: [message] });
  }
}

export class InvalidJson extends AppError {
  constructor(detail: string) {
    super(400, "invalid_json", "The request body is not valid JSON.", { body: [detail] });
  }
}

/** An amount, or the balance it would make, beyond ±1,000,000,000.00 (see domain/money.ts). */
export class AmountOutOfRange extends AppError {
  constructor(fields: string[], what = "Amounts and balances") {
    const message = `${what} must stay within -${LIMIT} and ${LIMIT}.`;
    super(400, "amount_out_of_range", message, Object.fromEntries(fields.map((f) => [f, [message]])));
  }
}

export class Unauthorized extends AppError {
  constructor(message = "Authentication credentials were not provided or are invalid.") {
    super(401, "unauthorized", message);
  }
}

export class InsufficientCredit extends AppError {
  constructor(message: string) {
    super(402, "insufficient_credit", message);
  }
}

export class NotFound extends AppError {
  constructor(what = "Resource") {
    super(404, "not_found", `${what} not found.`);
  }
}

export class ServerNotFound extends NotFound {
  constructor() {
    super("Server");
  }
}

/** A power action asked of a server whose status does not allow it (the contract's 400). */
export class InvalidState extends AppError {
  readonly serverStatus: string;
  constructor(code: string, message: string, serverStatus: string) {
    super(400, code, message);
    this.serverStatus = serverStatus;
  }
}

export class PayloadTooLarge extends AppError {
  constructor(limit: number) {
    super(413, "payload_too_large", `The request body is larger than ${limit} bytes.`);
  }
}

export class UnsupportedMediaType extends AppError {
  constructor(contentType: string) {
    super(
      415,
      "unsupported_media_type",
      `Content-Type "${contentType}" is not supported; send application/json.`,
    );
  }
}

export class RateLimited extends AppError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super(429, "rate_limited", `Too many requests; the budget is whole again in ${retryAfterSeconds} s.`);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** A block of addresses that shares addresses with a pool already: adding only the rest would hide it. */
export class AddressRangeOverlaps extends AppError {
  constructor(message: string) {
    super(409, "address_range_overlaps", message, { cidr: [message] });
  }
}

export class Conflict extends AppError {
  constructor(code: string, message: string) {
    super(409, code, message);
  }
}

/** A create in a location whose address pool has no free IPv4 address: refused before anything is written. */
export class NoAddressAvailable extends Conflict {
  constructor(location: string) {
    super(
      "no_address_available",
      `Location ${location} has no free IPv4 address; choose another location or try again later.`,
    );
  }
}

/** A create where no host of the location has room for the plan with the OS's image, or there is no host. */
export class NoCapacity extends Conflict {
  constructor(location: string) {
    super(
      "no_capacity",
      `Location ${location} has no room for this plan and operating system now; choose another location or ` +
        "plan, or try again later.",
    );
  }
}

/** A join token that is unknown, already exchanged, or expired: the operator issues a new one. */
export class JoinTokenInvalid extends AppError {
  constructor(message = "The join token is unknown, already used, or expired.") {
    super(401, "join_token_invalid", message);
  }
}

/** An agent's call under a lease it no longer holds (taken over, ended, or not its own): nothing was changed. */
export class LeaseLost extends Conflict {
  constructor() {
    super("lease_lost", "The operation's lease is no longer held by this agent; leave the operation alone.");
  }
}

/** A migration's transfer token that is unknown, spent, or no longer its migration's: the source serves nothing. */
export class TransferTokenInvalid extends AppError {
  constructor() {
    super(403, "transfer_token_invalid", "The transfer token is unknown, already used, or void.");
  }
}

export class ImageNotFound extends NotFound {
  constructor() {
    super("Image");
  }
}

/** An image that cannot be used or removed now: still being made, or failed. */
export class ImageNotAvailable extends Conflict {
  constructor(id: number, status: string) {
    super(
      "image_not_available",
      status === "creating"
        ? `Image ${id} is still being made; wait for its action to end.`
        : `Image ${id} is ${status}; only an available image can be restored.`,
    );
  }
}

/** An image whose disk is larger than the plan's: a disk never shrinks. */
export class ImageTooLarge extends AppError {
  constructor(id: number, diskGb: number, storageGb: number) {
    super(
      400,
      "image_too_large",
      `Image ${id} needs a disk of ${diskGb} GB; the plan has ${storageGb} GB. Choose a larger plan.`,
    );
  }
}

/** A rebuild onto an OS (or an image's OS) whose base image the server's host does not have. */
export class OsImageUnavailable extends Conflict {
  constructor(os: string) {
    super(
      "os_image_unavailable",
      `The server's host does not have the base image of ${os}; choose another operating system or image.`,
    );
  }
}

/** A resize to a plan whose disk is smaller than the server's: disks only grow. */
export class DiskCannotShrink extends AppError {
  constructor(from: number, to: number) {
    super(
      400,
      "disk_cannot_shrink",
      `The server's disk is ${from} GB; a plan with ${to} GB cannot hold it. Disks only grow.`,
    );
  }
}

/** A snapshot past the account's limit: delete one first. */
export class ImageQuotaExceeded extends AppError {
  constructor(limit: number) {
    super(
      403,
      "image_quota_exceeded",
      `The account keeps ${limit} snapshot${limit === 1 ? "" : "s"}, its limit; delete one before making another.`,
    );
  }
}

/** A destroy whose typed confirmation is not the server's exact name: nothing was deleted. */
export class NameNotConfirmed extends AppError {
  constructor(name: string) {
    super(400, "name_not_confirmed", `Type the server's exact name, ${name}, to destroy it.`, {
      confirm_name: [`Must be ${name}.`],
    });
  }
}

/** A sign-in whose email and password do not match an account with a password; which one was wrong is not said. */
export class SignInFailed extends AppError {
  constructor() {
    super(401, "sign_in_failed", "The email or the password is wrong.");
  }
}

/** An invitation link that is unknown, already used, or expired: the operator makes a new one. */
export class InvitationInvalid extends AppError {
  constructor() {
    super(404, "invitation_invalid", "This invitation link is unknown, already used, or expired.");
  }
}

/** /sign-up where the operator has not opened it (VPS_SIGNUP=closed). */
export class SignUpClosed extends AppError {
  constructor() {
    super(403, "sign_up_closed", "Sign-up is closed here; ask the operator for an invitation.");
  }
}

/** A page's form or request without the session's CSRF token: it may come from another site. */
export class CsrfRejected extends AppError {
  constructor() {
    super(
      403,
      "csrf_rejected",
      "The form is out of date or came from another site; reload the page and try again.",
    );
  }
}
/** A console ticket that is unknown, already used or expired: the client asks for a new one. */
export class ConsoleTicketInvalid extends AppError {
  constructor() {
    super(401, "console_ticket_invalid", "The console ticket is unknown, already used, or expired.");
  }
}

/** A console grant an agent was shown that is unknown, spent, expired, or not for its host and server. */
export class ConsoleGrantInvalid extends AppError {
  constructor() {
    super(403, "console_grant_invalid", "The console grant is unknown, already used, or expired.");
  }
}

/** A console asked of a server that is not running: there is no serial port to reach. */
export class ConsoleServerNotRunning extends Conflict {
  constructor(status: string) {
    super("server_not_running", `The server is ${status}; its console opens once it is active.`);
  }
}

/** The server has as many consoles open as it may: one must close first. */
export class ConsoleLimitReached extends Conflict {
  constructor(limit: number) {
    super(
      "console_limit_reached",
      `The server has ${limit} console${limit === 1 ? "" : "s"} open already, its limit; close one first.`,
    );
  }
}

/** The server's host cannot be reached for its console now (its agent serves none, or is unreachable). */
export class ConsoleUnavailable extends Conflict {
  constructor(message = "The server's console cannot be reached now; try again later.") {
    super("console_unavailable", message);
  }
}

/** A console URL opened as a plain request: it is a WebSocket. */
export class UpgradeRequired extends AppError {
  constructor() {
    super(426, "upgrade_required", "This URL is a WebSocket; connect to it with a WebSocket client.");
  }
}

export class WebhookNotFound extends NotFound {
  constructor() {
    super("Webhook");
  }
}

export class WebhookDeliveryNotFound extends NotFound {
  constructor() {
    super("Webhook delivery");
  }
}

/** A redelivery asked of a delivery that is still being tried: its own attempts come first. */
export class WebhookDeliveryPending extends Conflict {
  constructor() {
    super(
      "webhook_delivery_pending",
      "The delivery is still being tried; redeliver it once it has succeeded or failed.",
    );
  }
}

/** A webhook URL that cannot receive events: not http(s), credentials in it, too long or not a URL. */
export class WebhookUrlInvalid extends AppError {
  constructor(message: string) {
    super(400, "webhook_url_invalid", message, { url: [message] });
  }
}

/** An account that has as many webhook endpoints as it may. */
export class WebhookLimitReached extends Conflict {
  constructor(limit: number) {
    super(
      "webhook_limit_reached",
      `An account can have at most ${limit} webhook endpoints; delete one first.`,
    );
  }
}

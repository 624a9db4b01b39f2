import type { Migration } from "kysely";
import * as initial from "./0001-initial.ts";
import * as catalogue from "./0002-catalogue.ts";
import * as billing from "./0003-billing.ts";
import * as sshEndpoint from "./0004-ssh-endpoint.ts";
import * as idempotencyKeys from "./0005-idempotency-keys.ts";
import * as rateLimits from "./0006-rate-limits.ts";
import * as statusLocationIndex from "./0007-servers-status-location-index.ts";
import * as operationQueueIndexes from "./0008-operation-queue-indexes.ts";
import * as serverCounts from "./0009-server-counts.ts";
import * as emailCaseInsensitive from "./0010-accounts-email-case-insensitive.ts";
import * as sealedIdempotentResponses from "./0011-sealed-idempotent-responses.ts";
import * as authFailures from "./0012-auth-failures.ts";
import * as refunds from "./0013-refunds.ts";
import * as hosts from "./0014-hosts.ts";
import * as placement from "./0015-placement.ts";
import * as migrationsTable from "./0016-migrations.ts";
import * as hostReconcile from "./0017-host-reconcile.ts";
import * as images from "./0018-images.ts";
import * as imageBilling from "./0019-image-billing.ts";
import * as consoleTickets from "./0020-console-tickets.ts";
import * as webSessions from "./0021-web-sessions.ts";
import * as usageHistory from "./0022-usage-history.ts";
import * as accountOperators from "./0023-account-operators.ts";
import * as ledger from "./0025-ledger.ts";
import * as trafficDirections from "./0026-traffic-directions.ts";
import * as webhooks from "./0027-webhooks.ts";
import * as bandwidthCharges from "./0028-bandwidth-charges.ts";
import * as lowBalanceThreshold from "./0029-low-balance-threshold.ts";
import * as webhookReachAndRedelivery from "./0030-webhook-reach-and-redelivery.ts";
import * as webhookDeliveryNotice from "./0031-webhook-delivery-notice.ts";

/** Append-only: a shipped migration is never edited; a change is a new file listed here. */
export const migrations: Record<string, Migration> = {
  "0001-initial": initial,
  "0002-catalogue": catalogue,
  "0003-billing": billing,
  "0004-ssh-endpoint": sshEndpoint,
  "0005-idempotency-keys": idempotencyKeys,
  "0006-rate-limits": rateLimits,
  "0007-servers-status-location-index": statusLocationIndex,
  "0008-operation-queue-indexes": operationQueueIndexes,
  "0009-server-counts": serverCounts,
  "0010-accounts-email-case-insensitive": emailCaseInsensitive,
  "0011-sealed-idempotent-responses": sealedIdempotentResponses,
  "0012-auth-failures": authFailures,
  "0013-refunds": refunds,
  "0014-hosts": hosts,
  "0015-placement": placement,
  "0016-migrations": migrationsTable,
  "0017-host-reconcile": hostReconcile,
  "0018-images": images,
  "0019-image-billing": imageBilling,
  "0020-console-tickets": consoleTickets,
  "0021-web-sessions": webSessions,
  "0022-usage-history": usageHistory,
  "0023-account-operators": accountOperators,
  "0025-ledger": ledger,
  "0026-traffic-directions": trafficDirections,
  "0027-webhooks": webhooks,
  "0028-bandwidth-charges": bandwidthCharges,
  "0029-low-balance-threshold": lowBalanceThreshold,
  "0030-webhook-reach-and-redelivery": webhookReachAndRedelivery,
  "0031-webhook-delivery-notice": webhookDeliveryNotice,
};

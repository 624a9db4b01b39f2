import type { PlanWithLocations } from "../../db/repositories/catalogue-repository.ts";
import type { AccountRow, LocationRow, OsRow, SshKeyRow } from "../../db/schema.ts";
import { lowBalanceThreshold } from "../../domain/low-balance.ts";
import { formatMoney } from "../../domain/money.ts";
import { CURRENCY } from "../../services/account-service.ts";
import { apiTimestamp } from "./present-server.ts";

export function presentPlan(plan: PlanWithLocations) {
  return {
    id: plan.id,
    name: plan.name,
    vcpus: plan.vcpus,
    memory: plan.memory_mb,
    storage: plan.storage_gb,
    bandwidth: plan.bandwidth_gb,
    price_hourly: formatMoney(plan.price_hourly_minor),
    price_monthly: formatMoney(plan.price_monthly_minor),
    currency: CURRENCY,
    locations: plan.locations,
  };
}

export function presentOs(os: OsRow) {
  return { id: os.id, name: os.name, distribution: os.distribution, version: os.version };
}

export function presentLocation(location: LocationRow) {
  return { id: location.id, code: location.code, name: location.name, country: location.country };
}

/** An account, with its low-balance threshold: its own, or `defaultThresholdMinor` (the setting's). */
export function presentAccount(account: AccountRow, defaultThresholdMinor: number) {
  const own = account.low_balance_threshold_minor;
  return {
    id: account.id,
    email: account.email,
    balance: formatMoney(Number(account.balance_minor)),
    currency: account.currency,
    created_at: apiTimestamp(account.created_at),
    low_balance_threshold: formatMoney(lowBalanceThreshold(own, defaultThresholdMinor)),
    low_balance_threshold_source: own === null ? ("default" as const) : ("account" as const),
  };
}

/** An account as the admin API shows it: with its role in the web console. */
export function presentAdminAccount(account: AccountRow, defaultThresholdMinor: number) {
  return { ...presentAccount(account, defaultThresholdMinor), operator: account.operator_since !== null };
}

export function presentSshKey(key: SshKeyRow) {
  return {
    id: key.id,
    name: key.name,
    public_key: key.public_key,
    fingerprint: key.fingerprint,
    type: key.key_type,
    bits: key.bits,
    created_at: apiTimestamp(key.created_at),
  };
}

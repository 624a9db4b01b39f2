import type { AccountRow } from "../db/schema.ts";
import { balanceAlert, lowBalanceThreshold } from "../domain/low-balance.ts";
import { formatMoney } from "../domain/money.ts";
import { type Html, html } from "./html.ts";

/** What the banner of every signed-in page warns of: a balance below the threshold, or none left. */
export interface BalanceWarning {
  alert: "low" | "exhausted";
  balanceMinor: number;
  thresholdMinor: number;
  currency: string;
}

/** The account's warning, with its own threshold or `defaultMinor`; undefined when its balance is fine. */
export function balanceWarning(account: AccountRow, defaultMinor: number): BalanceWarning | undefined {
  const thresholdMinor = lowBalanceThreshold(account.low_balance_threshold_minor, defaultMinor);
  const alert = balanceAlert(account.balance_minor, thresholdMinor);
  return alert && { alert, balanceMinor: account.balance_minor, thresholdMinor, currency: account.currency };
}

/** The banner above a page's content: a notice below the threshold, an alert at zero and below (suspension). */
export function balanceBanner(warning: BalanceWarning | undefined): Html {
  if (!warning) return html``;
  const amount = (minor: number) => `${formatMoney(minor)} ${warning.currency}`;
  const balance = amount(warning.balanceMinor);
  if (warning.alert === "low") {
    return html`<p class="balance-banner low" role="status" data-balance-banner="low">Your balance is <strong>${balance}</strong>, below your alert threshold ${amount(warning.thresholdMinor)}. Add credit to keep your servers running. <a href="/billing">Billing</a> · <a href="/account#low-balance">Change the threshold</a></p>`;
  }
  const said =
    warning.balanceMinor < 0
      ? "Your servers are suspended: add credit to bring it above zero, and they come back stopped, ready to start."
      : "The next hour charged suspends your servers. Add credit to keep them running.";
  return html`<p class="balance-banner exhausted" role="alert" data-balance-banner="exhausted">Your balance is <strong>${balance}</strong>. ${said} <a href="/billing">Billing</a></p>`;
}

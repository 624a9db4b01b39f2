import type { Logger } from "pino";
import type { Config } from "../config.ts";
import { generateToken, hashToken } from "../domain/api-token.ts";
import { ADMIN_TOKEN_SETTING } from "./auth-service.ts";
import type { Services } from "./services.ts";

/** Tokens generated at this start, to be shown once to the operator; never logged. */
export interface GeneratedSecrets {
  adminToken?: string;
  bootstrapToken?: string;
  bootstrapEmail?: string;
  /** The web console's invitation that sets the first account's password, with its expiry. */
  invitation?: { path: string; expiresAt: string };
}

/**
 * The operating contract's first start: the admin token (VPS_ADMIN_TOKEN, or generated once and kept as a
 * digest), and on a database with no accounts, a first account with VPS_BOOTSTRAP_TOKEN and VPS_BOOTSTRAP_CREDIT,
 * and an invitation link that sets its password for the web console. The first account is an operator of the
 * console: whoever starts the service on an empty database runs it (the admin API revokes the role).
 */
export async function bootstrap(config: Config, services: Services, log: Logger): Promise<GeneratedSecrets> {
  const { repos, accounts } = services;
  const secrets: GeneratedSecrets = {};
  if (config.adminToken !== undefined) {
    await repos.settings.set(ADMIN_TOKEN_SETTING, hashToken(config.adminToken));
  } else {
    // Several processes may start on one empty database at once: only the one whose token is stored shows it.
    const token = generateToken();
    if (await repos.settings.setIfAbsent(ADMIN_TOKEN_SETTING, hashToken(token))) secrets.adminToken = token;
  }
  if ((await repos.accounts.count()) === 0) {
    const token = config.bootstrapToken ?? generateToken();
    try {
      const { account } = await accounts.create(config.bootstrapEmail, config.bootstrapCredit, token);
      log.info({ account: account.id, email: account.email }, "created the first account");
      secrets.bootstrapEmail = account.email;
      if (config.bootstrapToken === undefined) secrets.bootstrapToken = token;
      await accounts.setOperator(account.id, true);
      const invitation = await services.invitations.create(account.id);
      secrets.invitation = { path: `/invite/${invitation.token}`, expiresAt: invitation.expiresAt };
    } catch (err) {
      // Another process starting at the same moment created it first.
      if ((await repos.accounts.count()) === 0) throw err;
    }
  }
  return secrets;
}

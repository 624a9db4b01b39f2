import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { RateLimited } from "../../domain/errors.ts";
import { lowBalanceThreshold } from "../../domain/low-balance.ts";
import { formatMoney } from "../../domain/money.ts";
import { FIELD_LOW_BALANCE } from "../../services/account-service.ts";
import type { Services } from "../../services/services.ts";
import { newSessionId } from "../../services/web-session-service.ts";
import { formField } from "../form-body-parser.ts";
import { formError, formErrorMessage } from "../form-error.ts";
import { accountPage, type PasswordForm, type ThresholdForm } from "../pages/account-page.ts";
import { setSessionCookie } from "../session-cookie.ts";
import { signedInFrame } from "../signed-in-frame.ts";
import { requireSignedIn, sendPage, session } from "../web-request.ts";

/** /account: details and balance, the low-balance threshold, the browsers signed in, the password, signing out everywhere. */
export const accountRoutes: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  requireSignedIn(app);
  const hide = { schema: { hide: true } };
  const settings = services.config.web;

  async function showAccount(
    request: FastifyRequest,
    reply: FastifyReply,
    forms: { password?: PasswordForm; threshold?: ThresholdForm },
    status = 200,
  ) {
    const current = session(request);
    const [frame, account, sessions] = await Promise.all([
      signedInFrame(services, request),
      services.accounts.get(current.accountId),
      services.webSessions.list(current.accountId),
    ]);
    const defaultMinor = services.config.lowBalanceThresholdMinor;
    const own = account.low_balance_threshold_minor;
    const view = {
      email: account.email,
      balance: formatMoney(account.balance_minor),
      currency: account.currency,
      threshold: { minor: lowBalanceThreshold(own, defaultMinor), own: own !== null, defaultMinor },
      sessions,
      currentSession: current.idHash,
      password: forms.password ?? {},
      thresholdForm: forms.threshold ?? {},
    };
    return sendPage(reply, accountPage(frame, view), status);
  }

  app.get<{ Querystring: { password?: string; threshold?: string } }>(
    "/account",
    hide,
    async (request, reply) =>
      showAccount(request, reply, {
        password: { changed: request.query.password === "changed" },
        threshold: { saved: request.query.threshold === "saved" },
      }),
  );

  // Empty follows the operator's default again, as null does in the API.
  app.post("/account/low-balance", hide, async (request, reply) => {
    const value = formField(request.body, FIELD_LOW_BALANCE).trim();
    try {
      await services.accounts.update(session(request).accountId, {
        low_balance_threshold: value === "" ? null : value,
      });
      return reply.redirect("/account?threshold=saved#low-balance", 303);
    } catch (err) {
      const error = formError(err);
      return showAccount(request, reply, { threshold: { error, value } }, error.status);
    }
  });

  app.post("/account/password", hide, async (request, reply) => {
    try {
      const id = await services.webSessions.changePassword(
        session(request),
        formField(request.body, "current_password"),
        formField(request.body, "new_password"),
        request.ip,
        String(request.headers["user-agent"] ?? ""),
      );
      // This browser goes on under a new session id; every other one was signed out.
      setSessionCookie(request, reply, settings, id, settings.sessionMaxMs);
      return reply.redirect("/account?password=changed", 303);
    } catch (err) {
      const error = formError(err);
      if (error instanceof RateLimited) reply.header("retry-after", error.retryAfterSeconds);
      const field = Object.keys(error.fields ?? {})[0];
      const message = `${formErrorMessage(error)} (${error.code})`;
      return showAccount(request, reply, { password: { error: message, field } }, error.status);
    }
  });

  app.post("/account/sign-out-everywhere", hide, async (request, reply) => {
    await services.webSessions.signOutEverywhere(session(request).accountId);
    setSessionCookie(request, reply, settings, newSessionId());
    return reply.redirect("/sign-in", 303);
  });
};

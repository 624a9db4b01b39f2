import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { RateLimited, SignUpClosed } from "../../domain/errors.ts";
import type { Services } from "../../services/services.ts";
import { newSessionId } from "../../services/web-session-service.ts";
import { formField } from "../form-body-parser.ts";
import { formError, formErrorText } from "../form-error.ts";
import { invitePage, signInPage, signUpPage } from "../pages/sign-in-pages.ts";
import { setSessionCookie } from "../session-cookie.ts";
import { sendPage } from "../web-request.ts";

const userAgent = (request: FastifyRequest) => String(request.headers["user-agent"] ?? "");

/** /, /sign-in, /sign-up, /invite/<token> and /sign-out. */
export const signInRoutes: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  const settings = services.config.web;
  const signUpOpen = settings.signup === "open";
  const hide = { schema: { hide: true } };

  /** Signs the browser in under a new session id: whatever cookie it had before is not the one it has after. */
  async function signedIn(request: FastifyRequest, reply: FastifyReply, id: string) {
    setSessionCookie(request, reply, settings, id, settings.sessionMaxMs);
    return reply.redirect("/servers", 303);
  }

  app.get("/", hide, async (request, reply) =>
    reply.redirect(request.web.session ? "/servers" : "/sign-in", 303),
  );

  app.get("/sign-in", hide, async (request, reply) => {
    if (request.web.session) return reply.redirect("/servers", 303);
    return sendPage(reply, signInPage({ csrf: request.web.csrf, signUpOpen }));
  });

  app.post("/sign-in", hide, async (request, reply) => {
    const email = formField(request.body, "email");
    try {
      const id = await services.webSessions.signIn(
        email,
        formField(request.body, "password"),
        request.ip,
        userAgent(request),
      );
      return signedIn(request, reply, id);
    } catch (err) {
      const error = formError(err);
      if (error instanceof RateLimited) reply.header("retry-after", error.retryAfterSeconds);
      const text =
        error instanceof RateLimited
          ? `Too many failed sign-ins; try again in ${error.retryAfterSeconds} seconds.`
          : error.message;
      return sendPage(
        reply,
        signInPage({ csrf: request.web.csrf, signUpOpen, email, error: text }),
        error.status,
      );
    }
  });

  app.get("/sign-up", hide, async (request, reply) => {
    if (!signUpOpen) throw new SignUpClosed();
    return sendPage(reply, signUpPage({ csrf: request.web.csrf }));
  });

  app.post("/sign-up", hide, async (request, reply) => {
    if (!signUpOpen) throw new SignUpClosed();
    const email = formField(request.body, "email");
    try {
      const account = await services.accounts.signUp(
        email,
        formField(request.body, "password"),
        settings.signupCredit,
      );
      return signedIn(request, reply, await services.webSessions.start(account.id, userAgent(request)));
    } catch (err) {
      const error = formError(err);
      return sendPage(
        reply,
        signUpPage({ csrf: request.web.csrf, email, error: formErrorText(error) }),
        error.status,
      );
    }
  });

  app.get<{ Params: { token: string } }>("/invite/:token", hide, async (request, reply) => {
    const email = await services.invitations.check(request.params.token);
    return sendPage(reply, invitePage({ csrf: request.web.csrf, token: request.params.token, email }));
  });

  app.post<{ Params: { token: string } }>("/invite/:token", hide, async (request, reply) => {
    const { token } = request.params;
    try {
      const accountId = await services.invitations.accept(token, formField(request.body, "password"));
      return signedIn(request, reply, await services.webSessions.start(accountId, userAgent(request)));
    } catch (err) {
      const error = formError(err);
      if (error.code !== "invalid_input") throw error;
      const email = await services.invitations.check(token);
      return sendPage(
        reply,
        invitePage({ csrf: request.web.csrf, token, email, error: formErrorText(error) }),
        400,
      );
    }
  });

  app.post("/sign-out", hide, async (request, reply) => {
    if (request.web.session) await services.webSessions.signOut(request.web.session);
    setSessionCookie(request, reply, settings, newSessionId());
    return reply.redirect("/sign-in", 303);
  });
};

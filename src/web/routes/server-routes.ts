import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import { presentAction } from "../../api/presenters/present-action.ts";
import { presentServerDetail } from "../../api/presenters/present-server.ts";
import { isoAt } from "../../domain/clock.ts";
import { AppError, InvalidInput, NotFound, ServerNotFound } from "../../domain/errors.ts";
import type { PowerAction } from "../../domain/lifecycle.ts";
import { usagePeriod } from "../../domain/usage.ts";
import type { Services } from "../../services/services.ts";
import { formField, formId } from "../form-body-parser.ts";
import { sendLivePart } from "../live-part.ts";
import { parseDiskSource } from "../pages/disk-source-options.ts";
import {
  type NewServerChoices,
  type NewServerForm,
  newServerPage,
  planField,
} from "../pages/new-server-page.ts";
import { actionProgress, serverImages, serverLive, serverPage } from "../pages/server-page.ts";
import { signedInFrame } from "../signed-in-frame.ts";
import { requireSignedIn, sendPage, session } from "../web-request.ts";

/** Images and SSH keys a page lists at most (the API pages the rest). */
const LISTED = 100;
const POWER_ACTIONS: readonly string[] = ["start", "stop", "reboot"] satisfies PowerAction[];

type IdParams = { Params: { id: string } };

/** A path's id in the API's one spelling (decimal digits, no leading zero); any other names no server. */
function pathId(value: string | undefined, notFound: () => AppError = () => new ServerNotFound()): number {
  if (!value || !/^[1-9][0-9]{0,14}$/.test(value)) throw notFound();
  return Number(value);
}

/**
 * The pages of servers: create one, and a server's own page with its live status, power buttons with their
 * action's progress, settings, images, rebuild, resize and destroy. Each form calls the service the API calls;
 * a refusal shows the page again with the service's message and code, under the status the API would answer.
 */
export const serverPageRoutes: FastifyPluginAsync<{ services: Services }> = async (app, { services }) => {
  requireSignedIn(app);
  const hide = { schema: { hide: true } };
  const accountOf = (request: FastifyRequest) => session(request).accountId;

  async function newServerChoices(accountId: number): Promise<NewServerChoices> {
    const [locations, plans, systems, images, sshKeys, account] = await Promise.all([
      services.catalogue.listLocations(),
      services.catalogue.listPlans(),
      services.catalogue.listOs(),
      services.images.list(accountId, { page: 1, pageSize: LISTED }),
      services.sshKeys.list(accountId),
      services.accounts.get(accountId),
    ]);
    return {
      locations,
      plans,
      systems,
      images: images.images,
      sshKeys,
      currency: account.currency,
      backupPercent: services.config.backupPricePercent,
    };
  }

  function blankForm(choices: NewServerChoices, location: string | undefined): NewServerForm {
    const first = choices.locations.find((l) => l.code === location) ?? choices.locations[0];
    return {
      name: "",
      hostname: "",
      location: first?.code ?? "",
      plan_id: "",
      source: `os:${choices.systems[0]?.id ?? ""}`,
      ssh_key_id: "",
      backups: false,
    };
  }

  app.get<{ Querystring: { location?: string } }>("/servers/new", hide, async (request, reply) => {
    const [frame, choices] = await Promise.all([
      signedInFrame(services, request),
      newServerChoices(accountOf(request)),
    ]);
    return sendPage(reply, newServerPage(frame, choices, blankForm(choices, request.query.location)));
  });

  // The plan field for the location chosen (htmx swaps it in when the location changes).
  app.get<{ Querystring: { location?: string; plan_id?: string } }>(
    "/servers/new/plans",
    hide,
    async (request, reply) => {
      const [plans, account] = await Promise.all([
        services.catalogue.listPlans(),
        services.accounts.get(accountOf(request)),
      ]);
      const choices = {
        plans,
        currency: account.currency,
        backupPercent: services.config.backupPricePercent,
      };
      return sendPage(reply, planField(choices, request.query.location ?? "", request.query.plan_id ?? ""));
    },
  );

  app.post("/servers/new", hide, async (request, reply) => {
    const accountId = accountOf(request);
    const body = request.body;
    const form: NewServerForm = {
      name: formField(body, "name").trim(),
      hostname: formField(body, "hostname").trim(),
      location: formField(body, "location"),
      plan_id: formField(body, "plan_id"),
      source: formField(body, "source"),
      ssh_key_id: formField(body, "ssh_key_id"),
      backups: formField(body, "backups") === "on",
    };
    try {
      const source = parseDiskSource(form.source);
      if (!source) throw InvalidInput.field("source", "Choose an operating system or one of your images.");
      // An image is restored onto its own OS's base image: the create names both, as the API's does.
      const osId =
        "os_id" in source ? source.os_id : (await services.images.get(accountId, source.image_id)).os_id;
      const { server, actionId } = await services.servers.create(accountId, {
        name: form.name,
        hostname: form.hostname === "" ? undefined : form.hostname,
        location: form.location,
        plan_id: formId(body, "plan_id"),
        os_id: osId,
        image_id: "image_id" in source ? source.image_id : undefined,
        ssh_key_id: form.ssh_key_id === "" ? undefined : formId(body, "ssh_key_id"),
        backups_enabled: form.backups,
      });
      return reply.redirect(`/servers/${server.id}?action=${actionId}`, 303);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      const [frame, choices] = await Promise.all([
        signedInFrame(services, request),
        newServerChoices(accountId),
      ]);
      return sendPage(reply, newServerPage(frame, choices, form, err), err.status);
    }
  });

  const presented = async (accountId: number, id: number) =>
    presentServerDetail(await services.servers.get(accountId, id), usagePeriod(isoAt(services.clock)));
  const serverImageRows = async (accountId: number, serverId: number) =>
    (await services.images.list(accountId, { serverId, page: 1, pageSize: LISTED })).images;

  /** The action `id` of the server, for its progress; undefined when it is not one of this server's. */
  async function actionOf(accountId: number, serverId: number, id: number) {
    const action = await services.actions.get(accountId, id).catch((err: unknown) => {
      if (err instanceof NotFound) return undefined;
      throw err;
    });
    return action && action.server_id === serverId ? presentAction(action) : undefined;
  }

  /** The server's page; with the action to follow, or with the error that refused a form. */
  async function showServer(
    request: FastifyRequest,
    reply: FastifyReply,
    id: number,
    shown: { actionId?: number; error?: AppError } = {},
  ) {
    const accountId = accountOf(request);
    const server = await presented(accountId, id);
    const [frame, images, accountImages, systems, plans, account, action] = await Promise.all([
      signedInFrame(services, request),
      serverImageRows(accountId, id),
      services.images.list(accountId, { page: 1, pageSize: LISTED }),
      services.catalogue.listOs(),
      services.catalogue.listPlans(),
      services.accounts.get(accountId),
      shown.actionId === undefined ? undefined : actionOf(accountId, id, shown.actionId),
    ]);
    const page = serverPage(frame, {
      server,
      images,
      rebuildImages: accountImages.images,
      systems,
      plans: plans.filter((p) => p.locations.includes(server.location)),
      currency: account.currency,
      backupPercent: services.config.backupPricePercent,
      action,
      error: shown.error,
    });
    return sendPage(reply, page, shown.error?.status ?? 200);
  }

  app.get<IdParams & { Querystring: { action?: string } }>("/servers/:id", hide, async (request, reply) => {
    const id = pathId(request.params.id);
    const { action } = request.query;
    const actionId = action && /^[1-9][0-9]{0,14}$/.test(action) ? Number(action) : undefined;
    return showServer(request, reply, id, { actionId });
  });

  // The live parts: a 204 when they show what the page shows already (their URL carries its digest).
  app.get<IdParams & { Querystring: { v?: string } }>("/servers/:id/live", hide, async (request, reply) => {
    const server = await presented(accountOf(request), pathId(request.params.id));
    return sendLivePart(reply, serverLive(server, request.web.csrf), request.query.v);
  });

  app.get<IdParams & { Querystring: { v?: string } }>("/servers/:id/images", hide, async (request, reply) => {
    const accountId = accountOf(request);
    const id = pathId(request.params.id);
    await services.servers.get(accountId, id);
    const part = serverImages(id, await serverImageRows(accountId, id), request.web.csrf);
    return sendLivePart(reply, part, request.query.v);
  });

  app.get<{ Params: { id: string; actionId: string } }>(
    "/servers/:id/actions/:actionId",
    hide,
    async (request, reply) => {
      const id = pathId(request.params.id);
      const action = await actionOf(
        accountOf(request),
        id,
        pathId(request.params.actionId, () => new NotFound("Action")),
      );
      if (!action) throw new NotFound("Action");
      return sendPage(reply, actionProgress(id, action));
    },
  );

  /**
   * A form of the server's page: `run` calls the service and names the action to follow, if any. Done, the
   * browser is sent back to the page (post, redirect, get); refused, the page shows why.
   */
  function serverForm(
    path: string,
    run: (accountId: number, id: number, body: unknown) => Promise<number | undefined>,
  ) {
    app.post<IdParams>(`/servers/:id/${path}`, hide, async (request, reply) => {
      const id = pathId(request.params.id);
      try {
        const actionId = await run(accountOf(request), id, request.body);
        return reply.redirect(`/servers/${id}${actionId === undefined ? "" : `?action=${actionId}`}`, 303);
      } catch (err) {
        // A server that is not the account's is a 404 page, never its page with an error.
        if (!(err instanceof AppError) || err instanceof ServerNotFound) throw err;
        return showServer(request, reply, id, { error: err });
      }
    });
  }

  serverForm("power", async (accountId, id, body) => {
    const action = formField(body, "action");
    if (!POWER_ACTIONS.includes(action)) throw InvalidInput.field("action", "Start, stop or reboot.");
    return (await services.servers.power(accountId, id, action as PowerAction)).actionId;
  });

  serverForm("rename", async (accountId, id, body) => {
    await services.servers.update(accountId, id, { name: formField(body, "name").trim() });
    return undefined;
  });

  serverForm("backups", async (accountId, id, body) => {
    const turn = formField(body, "backups");
    if (turn !== "on" && turn !== "off") throw InvalidInput.field("backups", "On or off.");
    await services.servers.update(accountId, id, { backups_enabled: turn === "on" });
    return undefined;
  });

  serverForm("snapshots", async (accountId, id, body) => {
    const name = formField(body, "name").trim();
    return (await services.images.createImage(accountId, id, name === "" ? null : name)).actionId;
  });

  app.post<{ Params: { id: string; imageId: string } }>(
    "/servers/:id/images/:imageId/delete",
    hide,
    async (request, reply) => {
      const accountId = accountOf(request);
      const id = pathId(request.params.id);
      const imageId = pathId(request.params.imageId, () => new NotFound("Image"));
      await services.servers.get(accountId, id);
      // Only an image of this server, from this server's page.
      const image = await services.images.get(accountId, imageId);
      if (image.server_id !== id) throw new NotFound("Image");
      try {
        await services.images.delete(accountId, imageId);
        return reply.redirect(`/servers/${id}`, 303);
      } catch (err) {
        if (!(err instanceof AppError) || err instanceof NotFound) throw err;
        return showServer(request, reply, id, { error: err });
      }
    },
  );

  serverForm("rebuild", async (accountId, id, body) => {
    const source = parseDiskSource(formField(body, "source"));
    if (!source) throw InvalidInput.field("source", "Choose an operating system or one of your images.");
    if (formField(body, "confirm") !== "yes") {
      throw InvalidInput.field("confirm", "Tick the box to confirm that the server's disk is erased.");
    }
    return (await services.images.rebuild(accountId, id, source)).actionId;
  });

  serverForm("resize", async (accountId, id, body) => {
    return (await services.resizes.resize(accountId, id, formId(body, "plan_id"))).actionId;
  });

  app.post<IdParams>("/servers/:id/destroy", hide, async (request, reply) => {
    const id = pathId(request.params.id);
    try {
      await services.servers.delete(accountOf(request), id, formField(request.body, "confirm_name"));
      return reply.redirect("/servers", 303);
    } catch (err) {
      if (!(err instanceof AppError) || err instanceof ServerNotFound) throw err;
      return showServer(request, reply, id, { error: err });
    }
  });
};

import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import {
  AddAddressesBody,
  CreateLocationBody,
  CreateOsBody,
  CreatePlanBody,
} from "../../api/schemas/admin.ts";
import type { Services } from "../../services/services.ts";
import { formField } from "../form-body-parser.ts";
import { formError } from "../form-error.ts";
import { checkedForm, integer } from "../form-input.ts";
import type { Html } from "../html.ts";
import { operatorFrame } from "../operator-request.ts";
import {
  type CatalogueView,
  operatorCataloguePage,
  type RefusedForm,
} from "../pages/operator-catalogue-page.ts";
import { type LocationsView, operatorLocationsPage } from "../pages/operator-locations-page.ts";
import { sendPage } from "../web-request.ts";

/** The form's fields as typed (the CSRF token left out), to show a refused form again. */
function typed(body: unknown): Record<string, string> {
  const { _csrf, ...values } = (body ?? {}) as Record<string, string>;
  return values;
}

/**
 * /admin/catalogue (plans, operating systems and their images) and /admin/locations (locations and their address
 * pools with their usage): listed, and added as the admin API adds them, checked against its own body schemas.
 */
export const operatorCatalogueRoutes: FastifyPluginAsync<{ services: Services }> = async (
  app,
  { services },
) => {
  const hide = { schema: { hide: true } };
  const { catalogue } = services;

  async function cataloguePage(request: FastifyRequest, refused: Partial<CatalogueView> = {}) {
    const [frame, plans, os, locations] = await Promise.all([
      operatorFrame(request, services),
      catalogue.listPlans(),
      catalogue.listOs(),
      catalogue.listLocations(),
    ]);
    return operatorCataloguePage(frame, { plans, os, locations, ...refused });
  }

  async function locationsPage(request: FastifyRequest, shown: Partial<LocationsView> = {}) {
    const [frame, locations, pools] = await Promise.all([
      operatorFrame(request, services),
      catalogue.listLocations(),
      catalogue.poolUsage(),
    ]);
    return operatorLocationsPage(frame, { locations, pools, ...shown });
  }

  /** Runs a form's change; a refused one shows its page again with the error and what was typed. */
  function submit(
    path: string,
    run: (request: FastifyRequest) => Promise<void>,
    refusedPage: (request: FastifyRequest, refused: RefusedForm) => Promise<Html>,
    done: string,
  ) {
    app.post(path, hide, async (request, reply) => {
      try {
        await run(request);
        return reply.redirect(done, 303);
      } catch (err) {
        const error = formError(err);
        const page = await refusedPage(request, { error, values: typed(request.body) });
        return sendPage(reply, page, error.status);
      }
    });
  }

  app.get("/admin/catalogue", hide, async (request, reply) => sendPage(reply, await cataloguePage(request)));

  submit(
    "/admin/catalogue/plans",
    async (request) => {
      const values = typed(request.body);
      const plan = checkedForm(CreatePlanBody, {
        name: values.name ?? "",
        vcpus: integer(values.vcpus ?? ""),
        memory: integer(values.memory ?? ""),
        storage: integer(values.storage ?? ""),
        bandwidth: integer(values.bandwidth ?? ""),
        price_hourly: values.price_hourly ?? "",
        price_monthly: values.price_monthly ?? "",
        locations: Object.keys(values)
          .filter((name) => name.startsWith("location:"))
          .map((name) => name.slice("location:".length)),
      });
      await catalogue.createPlan(plan);
    },
    (request, plan) => cataloguePage(request, { plan }),
    "/admin/catalogue",
  );

  submit(
    "/admin/catalogue/os",
    async (request) => {
      const field = (name: string) => formField(request.body, name).trim();
      const os = checkedForm(CreateOsBody, {
        name: field("name"),
        distribution: field("distribution"),
        version: field("version"),
        image: field("image"),
      });
      await catalogue.createOs(os);
    },
    (request, osForm) => cataloguePage(request, { osForm }),
    "/admin/catalogue",
  );

  app.get("/admin/locations", hide, async (request, reply) => sendPage(reply, await locationsPage(request)));

  submit(
    "/admin/locations",
    async (request) => {
      const field = (name: string) => formField(request.body, name).trim();
      const location = checkedForm(CreateLocationBody, {
        code: field("code"),
        name: field("name"),
        country: field("country").toUpperCase(),
      });
      await catalogue.createLocation(location);
    },
    (request, location) => locationsPage(request, { location }),
    "/admin/locations",
  );

  // Answered with the page, which says how many addresses were added; the same block again is refused whole.
  app.post("/admin/locations/addresses", hide, async (request, reply) => {
    const code = formField(request.body, "location");
    try {
      const { cidr } = checkedForm(AddAddressesBody, { cidr: formField(request.body, "cidr").trim() });
      const { family, added } = await catalogue.addAddresses(code, cidr);
      return sendPage(reply, await locationsPage(request, { added: { code, family, added } }));
    } catch (err) {
      const error = formError(err);
      const page = await locationsPage(request, { addresses: { error, values: typed(request.body) } });
      return sendPage(reply, page, error.status);
    }
  });
};

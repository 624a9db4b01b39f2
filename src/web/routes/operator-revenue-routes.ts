import type { FastifyPluginAsync } from "fastify";
import { isoAt } from "../../domain/clock.ts";
import { monthOf, monthStart, nextMonth } from "../../domain/ledger.ts";
import type { Services } from "../../services/services.ts";
import { formError } from "../form-error.ts";
import { operatorFrame } from "../operator-request.ts";
import { operatorRevenuePage, REVENUE_SECTION, type RevenueView } from "../pages/operator-revenue-page.ts";
import { sendPage } from "../web-request.ts";

type Period = { Querystring: { start?: string; end?: string } };

/** /admin/revenue: the admin API's revenue report for a period, this calendar month (UTC) unless asked. */
export const operatorRevenueRoutes: FastifyPluginAsync<{ services: Services }> = async (
  app,
  { services },
) => {
  app.get<Period>(REVENUE_SECTION, { schema: { hide: true } }, async (request, reply) => {
    const month = monthOf(isoAt(services.clock));
    const start = text(request.query.start) || monthStart(month).slice(0, 10);
    const end = text(request.query.end) || monthStart(nextMonth(month)).slice(0, 10);
    const frame = await operatorFrame(request, services);
    let view: RevenueView;
    try {
      const rows = await services.ledger.revenue(start, end);
      view = {
        start,
        end,
        report: { start: new Date(start).toISOString(), end: new Date(end).toISOString(), rows },
      };
    } catch (err) {
      view = { start, end, error: formError(err) };
    }
    return sendPage(reply, operatorRevenuePage(frame, view), view.error?.status ?? 200);
  });
};

/** A query field as text: a repeated one (?start=a&start=b) is refused by the service as no time. */
function text(value: unknown): string {
  return typeof value === "string" ? value.trim() : String(value ?? "");
}

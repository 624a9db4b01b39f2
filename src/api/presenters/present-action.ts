// Shared with webhooks' `action.finished`, which the engine writes: the view lives in the domain.
export { presentAction } from "../../domain/action-view.ts";

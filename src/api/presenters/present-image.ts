// Shared with webhooks' `backup.finished`, which the engine writes: the view lives in the domain.
export { presentImage } from "../../domain/image-view.ts";

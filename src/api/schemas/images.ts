import { Type } from "@sinclair/typebox";
import { IMAGE_STATUSES, IMAGE_TYPES } from "../../db/schema.ts";
import { Nullable, Page, Paged, PageSize, PathId, Timestamp } from "./common.ts";
import { PowerResponse } from "./servers.ts";

const ImageTypeSchema = Type.Unsafe<(typeof IMAGE_TYPES)[number]>({
  type: "string",
  enum: [...IMAGE_TYPES],
  description: "`snapshot`: made on demand, kept until deleted; `backup`: made by the server's backups.",
});

export const ImageSchema = Type.Object(
  {
    id: Type.Integer(),
    type: ImageTypeSchema,
    status: Type.Unsafe<(typeof IMAGE_STATUSES)[number]>({
      type: "string",
      enum: [...IMAGE_STATUSES],
      description: "`creating` while its action runs; `available` once complete in the store; else `failed`.",
    }),
    name: Nullable(Type.String()),
    server_id: Nullable(
      Type.Integer({ description: "The server it was taken from (the image outlives it)." }),
    ),
    os_id: Type.Integer({ description: "The operating system its disk is layered on." }),
    disk_gb: Type.Integer({ description: "The smallest disk, in GB, a server made from it needs." }),
    size_bytes: Nullable(Type.Integer({ description: "Its size in the store; null until available." })),
    sha256: Nullable(Type.String({ description: "Checksum of its bytes, checked on every restore." })),
    consistency: Nullable(
      Type.Unsafe<"filesystem" | "crash">({
        type: "string",
        enum: ["filesystem", "crash"],
        description:
          "`filesystem`: the guest's filesystems were frozen (or the server stopped) while it was copied; " +
          "`crash`: copied as a power cut would leave it. Null until available.",
      }),
    ),
    created_at: Timestamp,
    completed_at: Nullable(Timestamp),
  },
  { title: "Image" },
);

export const ImageList = Paged(ImageSchema, "All images matching the filters.");

export const ListImagesQuery = Type.Object({
  type: Type.Optional(ImageTypeSchema),
  server_id: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
  page: Type.Optional(Page),
  page_size: Type.Optional(PageSize),
});

export const ImageIdParams = Type.Object({ image_id: PathId("The image's unique id.") });

export const CreateImageBody = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) },
  { additionalProperties: false },
);

export const CreatedImage = Type.Object(
  { ...PowerResponse.properties, image: ImageSchema },
  { title: "ImageAction" },
);

export const RebuildBody = Type.Object(
  {
    image_id: Type.Optional(
      Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: "An available image." }),
    ),
    os_id: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: Number.MAX_SAFE_INTEGER,
        description: "A fresh operating system.",
      }),
    ),
  },
  { additionalProperties: false, description: "Exactly one of `image_id` and `os_id`." },
);

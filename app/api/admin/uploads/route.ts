import { adminRoute, resultResponse, uploadBody } from "@/lib/admin/http";
import { saveImage } from "@/lib/admin/uploads";

// POST /api/admin/uploads (multipart, field "file"): stores a product image and answers its URL.
// Uploads come here rather than through a server action, whose body is capped at 1 MB.
export const POST = adminRoute(async (req) => {
  const form = await uploadBody(req);
  const file = form?.get("file");
  if (!(file instanceof File))
    return resultResponse({ ok: false, code: "BAD_INPUT", fieldErrors: { file: "Choose an image file" } });
  return resultResponse(await saveImage(file));
});

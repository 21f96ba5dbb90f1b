import { readImage } from "@/lib/admin/uploads";

// Uploaded product images. Names are content hashes, so a response never goes stale: cached for a year.
export async function GET(req: Request, ctx: { params: Promise<{ name: string }> }) {
  const image = await readImage((await ctx.params).name);
  if (!image) return new Response("Not found", { status: 404 });
  const headers = {
    "cache-control": "public, max-age=31536000, immutable",
    etag: image.etag,
    "x-content-type-options": "nosniff",
  };
  if (req.headers.get("if-none-match") === image.etag) return new Response(null, { status: 304, headers });
  return new Response(new Uint8Array(image.body), {
    headers: { ...headers, "content-type": image.type, "content-length": String(image.body.length) },
  });
}

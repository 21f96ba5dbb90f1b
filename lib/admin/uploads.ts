import "server-only";
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { env } from "@/lib/env";
import { fail, type AdminResult } from "@/lib/admin/results";
import { MAX_IMAGE_BYTES } from "@/lib/admin/schemas";

export { MAX_IMAGE_BYTES };

const TYPES = { png: "image/png", jpg: "image/jpeg", gif: "image/gif", webp: "image/webp" } as const;
type Ext = keyof typeof TYPES;

/** Uploaded files are named by their content hash: a name never changes content, so it can be cached for good. */
const NAME = /^[a-f0-9]{32}\.(png|jpg|gif|webp)$/;

/** The image type from the file's first bytes; the browser's claimed type is not trusted. SVG is refused (it can carry script). */
export function sniffImage(b: Uint8Array): Ext | null {
  const ascii = (from: number, to: number) => String.fromCharCode(...b.subarray(from, to));
  if (b.length >= 8 && b[0] === 0x89 && ascii(1, 4) === "PNG" && b[4] === 0x0d && b[5] === 0x0a) return "png";
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "jpg";
  if (b.length >= 6 && (ascii(0, 6) === "GIF87a" || ascii(0, 6) === "GIF89a")) return "gif";
  if (b.length >= 12 && ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "webp";
  return null;
}

// Where uploads live is configuration, not code: kept out of the build's file tracing.
function uploadDir(): string {
  return path.resolve(/*turbopackIgnore: true*/ process.cwd(), env().UPLOAD_DIR);
}

const uploadPath = (name: string) => path.join(/*turbopackIgnore: true*/ uploadDir(), name);

export async function saveImage(file: File): Promise<AdminResult<{ url: string }>> {
  if (file.size === 0) return fail("BAD_INPUT", "chooseImage", { file: "chooseImage" });
  if (file.size > MAX_IMAGE_BYTES) return fail("BAD_INPUT", "imageTooLarge", { file: "imageTooLarge" });
  const bytes = new Uint8Array(await file.arrayBuffer());
  const ext = sniffImage(bytes);
  if (!ext) return fail("BAD_INPUT", "imageType", { file: "imageType" });
  const name = `${createHash("sha256").update(bytes).digest("hex").slice(0, 32)}.${ext}`;
  await mkdir(uploadDir(), { recursive: true });
  // Same content, same name: writing it again is harmless.
  await writeFile(uploadPath(name), bytes);
  return { ok: true, url: `/uploads/${name}` };
}

export async function readImage(name: string): Promise<{ body: Buffer; type: string; etag: string } | null> {
  const m = NAME.exec(name);
  if (!m) return null;
  try {
    const body = await readFile(uploadPath(name));
    return { body, type: TYPES[m[1] as Ext], etag: `"${name.slice(0, 32)}"` };
  } catch {
    return null;
  }
}

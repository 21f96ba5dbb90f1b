import { timeReply } from "@/lib/flash/http";
import { toResponse } from "@/lib/flash/route";

export const dynamic = "force-dynamic";

export function GET() {
  return toResponse(timeReply());
}

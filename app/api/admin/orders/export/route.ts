import { adminRoute } from "@/lib/admin/http";
import { exportOrdersCsv } from "@/lib/admin/orders";
import { orderFilterSchema } from "@/lib/admin/schemas";

// GET /api/admin/orders/export?activityId=&status=&email= : the filtered orders as a streamed CSV file.
export const GET = adminRoute(async (req) => {
  const filter = orderFilterSchema.omit({ page: true }).parse(Object.fromEntries(new URL(req.url).searchParams));
  const lines = exportOrdersCsv(filter);
  const encoder = new TextEncoder();
  // A UTF-8 byte order mark first: without it Excel reads the file as the system code page and garbles Chinese.
  let bom = true;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await lines.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode((bom ? "\uFEFF" : "") + next.value));
        bom = false;
      } catch (e) {
        controller.error(e);
      }
    },
    async cancel() {
      await lines.return(undefined);
    },
  });
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
  return new Response(body, {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="orders-${stamp}.csv"`,
      "cache-control": "private, no-store",
    },
  });
});

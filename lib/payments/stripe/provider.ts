import "server-only";
import type { PaymentProvider } from "@/lib/payments/types";

export function stripeProvider(_baseUrl: string): PaymentProvider {
  throw new Error("stripe provider: not built yet");
}

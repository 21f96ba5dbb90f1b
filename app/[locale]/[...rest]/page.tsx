import { notFound } from "next/navigation";

// Any path no page answers: the localized not-found page (the proxy rewrote it under /<locale>).
export default function CatchAll() {
  notFound();
}

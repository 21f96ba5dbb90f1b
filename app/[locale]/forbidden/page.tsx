import { forbidden } from "next/navigation";

// The proxy redirects non-admins here; answering 403 keeps the status honest for API-like clients.
export default function ForbiddenPage() {
  forbidden();
}

import Link from "next/link";

export default function Forbidden() {
  return (
    <div className="card">
      <h1>403 — not allowed</h1>
      <p className="muted">This page is for administrators.</p>
      <Link href="/">Back to the shop</Link>
    </div>
  );
}

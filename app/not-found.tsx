import Link from "next/link";

export default function NotFound() {
  return (
    <div className="card">
      <h1>Not found</h1>
      <Link href="/">Back to the shop</Link>
    </div>
  );
}

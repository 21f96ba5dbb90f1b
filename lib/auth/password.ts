import "server-only";
import bcrypt from "bcrypt";

const COST = 10;

// Native bcrypt hashes on libuv's thread pool: a burst of sign-ins costs CPU on other threads,
// never the event loop that answers the sale (bcryptjs computed on it, between requests).
export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, COST);
}

export function verifyPassword(password: string, hash: string): Promise<boolean> {
  return bcrypt.compare(password, hash);
}

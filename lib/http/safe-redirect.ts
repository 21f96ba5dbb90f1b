// One rule for every redirect target a client can influence (sign-in's callbackUrl, next-auth's
// redirect callback): only a path on this site. Browsers read "/\host", "/\t/host" and "//host" as
// another site, so the value is resolved the way a browser would and its origin compared.
const PROBE_ORIGIN = "http://same-site.invalid";

/** The same-site path (with query and hash) `value` points to, or `fallback` if it leaves the site. */
export function safeRedirectPath(value: string | null | undefined, fallback = "/"): string {
  if (!value || value.length > 2048 || !value.startsWith("/")) return fallback;
  // Control characters and backslashes are stripped or rewritten by URL parsers; none belong in our paths.
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return fallback;
  let url: URL;
  try {
    url = new URL(value, PROBE_ORIGIN);
  } catch {
    return fallback; // unparsable: the caller's fallback is the answer, nothing to log
  }
  if (url.origin !== PROBE_ORIGIN) return fallback;
  return `${url.pathname}${url.search}${url.hash}`;
}

/** For callbacks that may name an absolute URL: accepted only on `baseUrl`'s exact origin. */
export function safeRedirectUrl(value: string | null | undefined, baseUrl: string): string {
  if (!value) return baseUrl;
  if (value.startsWith("/")) {
    const path = safeRedirectPath(value, "");
    return path ? new URL(path, baseUrl).toString() : baseUrl;
  }
  if (/[\u0000-\u001f\u007f\\]/.test(value) || !URL.canParse(value) || !URL.canParse(baseUrl)) return baseUrl;
  const url = new URL(value);
  return url.origin === new URL(baseUrl).origin ? url.toString() : baseUrl;
}

/**
 * Would next-auth accept this as a callback URL? It rejects an unparsable one (e.g. a port of
 * "3000.evil.example") with a 500; the auth route answers 400 for it first.
 */
export function isParsableHttpUrl(value: string, baseUrl: string): boolean {
  if (!URL.canParse(value, value.startsWith("/") ? baseUrl : undefined)) return false;
  return /^https?:$/.test(new URL(value, value.startsWith("/") ? baseUrl : undefined).protocol);
}

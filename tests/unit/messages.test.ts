import { describe, expect, it } from "vitest";
import en from "@/messages/en.json";
import zhCN from "@/messages/zh-CN.json";
import { locales } from "@/lib/i18n/locales";

// The two catalogues must answer the same keys, none empty, with the same placeholders: a key
// added in one language only would show its raw name to the other language's shoppers.

type Tree = { [key: string]: string | Tree };

function flatten(tree: Tree, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === "string") out.set(path, value);
    else for (const [k, v] of flatten(value, path)) out.set(k, v);
  }
  return out;
}

/** The top-level names of ICU arguments ({name}, {n, plural, …}); nested plural text is skipped. */
function placeholders(message: string): string[] {
  const names = new Set<string>();
  let depth = 0;
  for (let i = 0; i < message.length; i++) {
    const ch = message[i];
    if (ch === "{") {
      if (depth === 0) {
        const m = /^\{\s*([A-Za-z_][\w]*)\s*[,}]/.exec(message.slice(i));
        if (m) names.add(m[1]!);
      }
      depth++;
    } else if (ch === "}") depth--;
  }
  return [...names].sort();
}

const catalogues = { en: flatten(en), "zh-CN": flatten(zhCN) } as Record<string, Map<string, string>>;

describe("message catalogues", () => {
  it("exist for every locale the shop speaks", () => {
    expect(Object.keys(catalogues).sort()).toEqual([...locales].sort());
  });

  it("have the same keys", () => {
    const a = [...catalogues.en!.keys()].sort();
    const b = [...catalogues["zh-CN"]!.keys()].sort();
    expect(b.filter((k) => !a.includes(k)), "only in zh-CN").toEqual([]);
    expect(a.filter((k) => !b.includes(k)), "only in en").toEqual([]);
  });

  it("have no empty message", () => {
    for (const [name, messages] of Object.entries(catalogues)) {
      const empty = [...messages].filter(([, v]) => v.trim() === "").map(([k]) => k);
      expect(empty, name).toEqual([]);
    }
  });

  it("use the same placeholders in both languages", () => {
    const differ = [...catalogues.en!]
      .filter(([key, text]) => placeholders(text).join() !== placeholders(catalogues["zh-CN"]!.get(key) ?? "").join())
      .map(([key]) => key);
    expect(differ).toEqual([]);
  });

  it("keep the Chinese catalogue Chinese", () => {
    // A pasted English sentence in zh-CN is the usual slip; brand names and codes are short.
    const english = [...catalogues["zh-CN"]!]
      .filter(([key, v]) => !key.startsWith("layout.languageName") && /^[\x20-\x7e]{12,}$/.test(v) && /[a-z]{4,}/.test(v))
      .map(([k]) => k);
    expect(english).toEqual([]);
  });
});

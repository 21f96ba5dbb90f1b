import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

const config = [
  ...nextVitals,
  ...nextTs,
  {
    ignores: [".next/**", ".next-*/**", "bench/results/**", "node_modules/**", "lib/generated/**", ".data/**", "next-env.d.ts", "playwright-report/**", "test-results/**"],
  },
  {
    rules: {
      "@next/next/no-img-element": "off",
    },
  },
  {
    // Every word a page shows comes from messages/*.json (docs/i18n.md): no prose written into JSX.
    files: ["app/**/*.tsx", "components/**/*.tsx"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "JSXText[value=/[A-Za-z]{2,}|[\\u4e00-\\u9fff]/]",
          message: "Words in JSX come from the message catalogue: use t(\"…\") (docs/i18n.md).",
        },
        {
          selector:
            "JSXAttribute[name.name=/^(aria-label|title|placeholder|alt|label|hint)$/] > Literal[value=/[A-Za-z]{2,}|[\\u4e00-\\u9fff]/]",
          message: "Labels come from the message catalogue: use t(\"…\") (docs/i18n.md).",
        },
        {
          selector: "JSXExpressionContainer > Literal[value=/[A-Za-z]{2,}|[\\u4e00-\\u9fff]/]",
          message: "Words in JSX come from the message catalogue: use t(\"…\") (docs/i18n.md).",
        },
      ],
    },
  },
];

export default config;

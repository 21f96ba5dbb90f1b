"use client";

import HCaptcha from "@hcaptcha/react-hcaptcha";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useEffect, useRef, useState } from "react";
import type {} from "altcha/types/react";

// The sale's human check (the gate): solved once during the countdown, it earns a pass cookie the
// token route checks. ALTCHA is self-hosted proof of work; hCaptcha is the hosted alternative.

export type GateStatus =
  | { provider: "altcha"; challengeUrl: string; required: boolean; passed: boolean }
  | { provider: "hcaptcha"; sitekey: string; required: boolean; passed: boolean };

async function fetchGate(activityId: string): Promise<GateStatus | null> {
  const res = await fetch(`/api/activities/${activityId}/gate`, { cache: "no-store" });
  if (!res.ok) return null;
  return (await res.json()) as GateStatus;
}

async function postAnswer(activityId: string, answer: string): Promise<boolean> {
  const res = await fetch(`/api/activities/${activityId}/gate`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ answer }),
  });
  return res.ok;
}

export function useGate(activityId: string, enabled: boolean) {
  return useQuery({ queryKey: ["gate", activityId], queryFn: () => fetchGate(activityId), enabled, staleTime: 60_000 });
}

export function HumanCheck({ activityId, gate }: { activityId: string; gate: GateStatus }) {
  const client = useQueryClient();
  const t = useTranslations("gate");
  const [failed, setFailed] = useState(false);
  const submit = async (answer: string) => {
    const ok = await postAnswer(activityId, answer);
    setFailed(!ok);
    if (ok) await client.invalidateQueries({ queryKey: ["gate", activityId] });
  };

  if (gate.passed) {
    return (
      <p className="alert ok" data-testid="gate-passed">
        {t("passed")}
      </p>
    );
  }
  return (
    <div className="stack" data-testid="human-check">
      <p className="muted">{t("asks")}</p>
      {gate.provider === "altcha" ? (
        <Altcha challengeUrl={gate.challengeUrl} onSolved={submit} />
      ) : (
        <HCaptcha sitekey={gate.sitekey} onVerify={(token) => void submit(token)} />
      )}
      {failed && (
        <p className="alert" role="alert">
          {t("failed")}
        </p>
      )}
    </div>
  );
}

function Altcha({ challengeUrl, onSolved }: { challengeUrl: string; onSolved: (payload: string) => Promise<void> }) {
  const ref = useRef<HTMLElement>(null);
  const solved = useRef(onSolved);
  const [ready, setReady] = useState(false);
  useEffect(() => {
    solved.current = onSolved;
  });
  useEffect(() => {
    // The widget defines a custom element that needs the browser: loaded after hydration.
    void import("altcha").then(() => setReady(true));
  }, []);
  useEffect(() => {
    const el = ref.current;
    if (!el || !ready) return;
    const onVerified = (e: Event) => {
      const payload = (e as CustomEvent<{ payload?: string }>).detail?.payload;
      if (payload) void solved.current(payload);
    };
    el.addEventListener("verified", onVerified);
    return () => el.removeEventListener("verified", onVerified);
  }, [ready]);
  return <altcha-widget ref={ref} challenge={challengeUrl} auto="onload" data-testid="altcha" />;
}

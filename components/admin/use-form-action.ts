"use client";

import { startTransition, useActionState, type FormEvent } from "react";

/**
 * useActionState for the console's forms, submitted through onSubmit instead of the form's
 * `action`: React resets a form after an action, which would wipe what the admin typed whenever
 * a field is refused.
 */
export function useFormAction<S>(action: (prev: S, form: FormData) => Promise<S>, initial: S) {
  const [state, dispatch, pending] = useActionState<S, FormData>(
    action as (prev: Awaited<S>, form: FormData) => Promise<S>,
    initial as Awaited<S>,
  );
  const onSubmit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const submitter = (e.nativeEvent as SubmitEvent).submitter;
    const form = new FormData(e.currentTarget, submitter);
    startTransition(() => dispatch(form));
  };
  return [state, onSubmit, pending] as const;
}

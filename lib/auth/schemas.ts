import { z } from "zod";

// Messages are keys of the "validation" namespace in messages/*.json; the form translates them.

export const emailSchema = z.email("enterEmail").max(200, "tooLong").transform((s) => s.toLowerCase());

export const signUpSchema = z.object({
  name: z.string().trim().min(1, "enterYourName").max(80, "tooLong"),
  email: emailSchema,
  password: z.string().min(8, "passwordShort").max(200, "tooLong"),
});

export const signInSchema = z.object({
  email: emailSchema,
  password: z.string().min(1).max(200),
});

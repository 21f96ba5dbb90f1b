import { z } from "zod";

export const emailSchema = z.email("Enter a valid email address").max(200).transform((s) => s.toLowerCase());

export const signUpSchema = z.object({
  name: z.string().trim().min(1, "Enter your name").max(80),
  email: emailSchema,
  password: z.string().min(8, "Use at least 8 characters").max(200),
});

export const signInSchema = z.object({
  email: emailSchema,
  password: z.string().min(1).max(200),
});

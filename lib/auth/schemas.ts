import { z } from 'zod';

export const USER_ROLES = ['admin', 'agent', 'subscriber'] as const;
export const MIN_PASSWORD_LENGTH = 10;
/** scrypt takes any length, but there is no reason to hash a megabyte. */
export const MAX_PASSWORD_LENGTH = 256;

export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email('Enter an email address such as ada@example.com.').max(254));

export const createUserSchema = z
  .object({
    email: emailSchema,
    password: z
      .string()
      .min(MIN_PASSWORD_LENGTH, `The password needs at least ${MIN_PASSWORD_LENGTH} characters.`)
      .max(MAX_PASSWORD_LENGTH, `The password may have at most ${MAX_PASSWORD_LENGTH} characters.`),
    role: z.enum(USER_ROLES, 'The role must be admin, agent or subscriber.'),
    subscriberId: z.string().trim().min(1).optional(),
  })
  .superRefine((u, ctx) => {
    if (u.role === 'subscriber' && !u.subscriberId) {
      ctx.addIssue({
        code: 'custom',
        path: ['subscriberId'],
        message: 'A subscriber user needs the subscriber it belongs to.',
      });
    }
    if (u.role !== 'subscriber' && u.subscriberId) {
      ctx.addIssue({
        code: 'custom',
        path: ['subscriberId'],
        message: 'Only subscriber users belong to a subscriber.',
      });
    }
  });

export type CreateUserInput = z.input<typeof createUserSchema>;

/** The sign-in form: only shape is checked here; whether the password is right is authenticate's business. */
export const signInSchema = z.object({
  email: emailSchema,
  password: z.string().min(1, 'Enter your password.').max(MAX_PASSWORD_LENGTH, 'The email or password is not right.'),
});

import pino from 'pino';

/** One logger for the process. Credentials and message bodies are never passed to it. */
export const log = pino({
  level: process.env.LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'silent' : 'info'),
  redact: ['password', '*.password', 'secret', '*.secret', 'token', '*.token', 'authorization', '*.authorization'],
  base: undefined,
});

export type Logger = typeof log;

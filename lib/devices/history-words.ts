/**
 * Every reason in a handset's history, in plain words, in one place: the device page, the
 * subscriber page, the portal and the API all read them from here. Codes come from the
 * session engine (SessionEndReason), device_attempts reasons and job statuses; an unknown
 * code is shown as it is rather than hidden.
 */

/** The kinds of entry in a handset's history, and how each can end. */
export const HISTORY_KINDS = ['dm', 'ds', 'wake', 'attempt'] as const;
export const HISTORY_OUTCOMES = ['ok', 'failed', 'no-answer', 'refused', 'in-progress'] as const;
export type HistoryKind = (typeof HISTORY_KINDS)[number];
export type HistoryOutcome = (typeof HISTORY_OUTCOMES)[number];

export const KIND_LABEL: Record<HistoryKind, string> = {
  dm: 'DM session',
  ds: 'DS session',
  wake: 'Package #0',
  attempt: 'Failed attempt',
};
export const OUTCOME_LABEL: Record<HistoryOutcome, string> = {
  ok: 'completed',
  failed: 'failed',
  'no-answer': 'no answer',
  refused: 'refused',
  'in-progress': 'in progress',
};

/** A failed or refused message that opened no session (device_attempts.reason). */
export const ATTEMPT_REASONS = {
  'wrong-credentials': 'wrong credentials: the user name or password the handset sent does not match its account',
  'no-credentials': 'the handset sent no credentials when they were asked for',
  'rate-limited': 'refused by a rate limit: too many failed authentications for this handset from its address',
} as const;

export type AttemptReason = keyof typeof ATTEMPT_REASONS;

/** The same reasons for the handset's contacts-and-calendar sync client (the DS account's sign-in). */
export const DS_ATTEMPT_REASONS: Record<AttemptReason, string> = {
  'wrong-credentials':
    "wrong credentials: the user name or password the handset's contacts and calendar sync sent does not match its DS account",
  'no-credentials': "the handset's contacts and calendar sync sent no credentials when they were asked for",
  'rate-limited':
    'refused by a rate limit: too many failed contacts and calendar sync sign-ins for this handset from its address',
};

export function attemptWords(reason: string, count: number, channel: 'dm' | 'ds' = 'dm'): string {
  const table: Record<string, string> = channel === 'ds' ? DS_ATTEMPT_REASONS : ATTEMPT_REASONS;
  const words = table[reason] ?? reason;
  return count > 1 ? `${words} (${count} times)` : words;
}

/** The session engine's end reasons other than 'complete'. */
const END_REASONS: Record<string, (messages: number) => string> = {
  'client-abort': () => 'the handset ended the session before it was done (the client dropped)',
  'server-abort': () => 'the server ended the session',
  'server-auth-refused': () =>
    'the handset asked for another authentication scheme than this server will use, so the session was ended',
  'auth-failed': () => 'wrong credentials: the handset failed to authenticate three times',
  limit: (n) => `cut off at message ${n}: more messages than a session may take`,
};

/** What a session's end reads as, for a failed or unusual end; undefined for a plain complete one. */
export function sessionEndWords(s: {
  status: string;
  endReason: string | null;
  error: string | null;
  messages: number;
}): string | undefined {
  // A refusal's own text says which scheme it was (server-auth.ts words it).
  if (s.endReason === 'server-auth-refused' && s.error)
    return `the handset asked for another authentication scheme: ${s.error}`;
  if (s.error === STOPPED_ANSWERING) return timedOutWords(s.messages);
  if (s.error) return s.error;
  if (s.endReason && s.endReason !== 'complete') return END_REASONS[s.endReason]?.(s.messages) ?? s.endReason;
  return undefined;
}

/** The error a session gets when the handset opens another without finishing it (dm-work.ts). */
export const STOPPED_ANSWERING = 'the handset stopped answering';

export function timedOutWords(messages: number): string {
  return `timed out at message ${messages + 1}: the handset stopped answering after message ${messages}`;
}

/** What opened a session. */
export function initiatorWords(initiator: string | null): string {
  if (initiator === 'server') return 'Package #0 (the server asked it to connect)';
  if (initiator === 'client') return 'the handset by itself';
  return 'not recorded';
}

/** A Package #0 as it went. */
export function wakeWords(w: { delivered: boolean; error?: string; answered: boolean; waiting: boolean }): string {
  if (!w.delivered) return `not delivered: ${w.error ?? 'the push gateway did not take it'}`;
  if (w.answered) return 'the handset answered with a session';
  if (w.waiting) return 'sent; waiting for the handset to connect';
  return 'no answer to the wake: the handset did not connect (off, out of coverage, or the message was lost)';
}

/** A job's end, in words, from its status and error. */
export function jobOutcomeWords(j: { status: string; error: string | null }): string | undefined {
  if (j.status === 'rejected') return j.error ?? 'the user rejected it on the handset';
  if (j.status === 'cancelled') return j.error ? `cancelled: ${j.error}` : 'cancelled';
  if (j.error) return j.error;
  return undefined;
}

/** A consent prompt's answer. */
export const CONSENT_ANSWERS: Record<string, string> = {
  accepted: 'accepted',
  deferred: 'chose later, on Wi-Fi',
  rejected: 'rejected',
  timeout: 'no answer in time',
  unanswered: 'not answered',
  unsupported: 'the handset could not show a choice; asked again as a yes or no',
};

export function consentWords(answer: string, roaming: boolean): string {
  const words = CONSENT_ANSWERS[answer] ?? answer;
  return answer === 'rejected' && roaming ? 'rejected while roaming (roaming declined)' : words;
}

/**
 * An entry as the subscriber reads it in the portal: about their phone, without protocol names.
 * `code` is a failed attempt's reason (device_attempts.reason).
 */
export function subscriberWords(e: {
  kind: HistoryKind;
  outcome: HistoryOutcome;
  code: string | null;
  serverAsked: boolean;
  /** A failed attempt's door: the handset's DM client or its contacts and calendar sync. */
  channel?: 'dm' | 'ds';
}): string {
  if (e.kind === 'attempt' && e.channel === 'ds') {
    if (e.outcome === 'refused')
      return "We paused your phone's contacts and calendar sync for a while after too many tries with the wrong password.";
    return "Your phone's contacts and calendar sync could not sign in: the password stored on it does not match your account. Call us and we will set it again.";
  }
  if (e.kind === 'attempt') {
    if (e.outcome === 'refused')
      return "We paused your phone's sign-ins for a while after too many tries with the wrong password.";
    if (e.code === 'no-credentials') return 'Your phone tried to connect without its password.';
    return 'Your phone could not sign in: the password stored on it does not match your account. Call us and we will set it again.';
  }
  if (e.kind === 'wake') {
    if (e.outcome === 'ok') return 'We asked your phone to connect, and it did.';
    if (e.outcome === 'in-progress') return 'We have asked your phone to connect.';
    if (e.outcome === 'failed') return 'We could not send your phone the request to connect.';
    return 'We asked your phone to connect, but it did not answer (it may have been off or without signal).';
  }
  if (e.kind === 'ds') {
    if (e.outcome === 'ok') return 'Your contacts and calendar were synced.';
    if (e.outcome === 'in-progress') return 'Your contacts and calendar are syncing.';
    return 'A sync of your contacts and calendar did not finish.';
  }
  if (e.outcome === 'in-progress') return 'Your phone is connected right now.';
  if (e.outcome === 'ok') return e.serverAsked ? 'Your phone connected when we asked it to.' : 'Your phone checked in.';
  return 'A connection with your phone did not finish (it may have lost signal).';
}

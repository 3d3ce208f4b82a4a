/**
 * The person holding a virtual handset, as far as DM sees them: someone who answers UI
 * alerts (OMA-TS-DM_Protocol §10: 1100 display, 1101 confirm, 1102 text input, 1103
 * single choice, 1104 multiple choice). Behaviours:
 *
 *   accept   yes to everything: 200, the default choice (DR) or the first one, `text` for input
 *   reject   no: 304 to a confirm, 214 (cancelled) to input and choices
 *   later    defer: picks the choice that reads like "later" in a 1103, else 304
 *   timeout  never answers: 215 once MAXDT has passed (simulated; no real waiting)
 *   function anything else, decided per prompt
 *
 * A display (1100) needs no decision, so every behaviour but a function acknowledges it
 * with 200 — except timeout, which is how a user who never looks at the phone shows up.
 * Every prompt is recorded with its answer so tests can assert what the user was asked.
 */
import type { UiAlertRequest, UiAlertResponse } from '../lib/omadm/session/client-handler';

export type UserBehaviour =
  'accept' | 'reject' | 'later' | 'timeout' | ((req: UiAlertRequest) => UiAlertResponse | Promise<UiAlertResponse>);

export interface PromptRecord {
  code: UiAlertRequest['code'];
  text: string;
  options: Record<string, string>;
  choices: string[];
  answer: UiAlertResponse;
  /** Simulated time the user took, ms (MAXDT for a timeout). */
  waitedMs: number;
}

/** Status codes of UI alert answers. */
export const UI_STATUS = { ok: 200, no: 304, cancelled: 214, notExecuted: 215 } as const;

/** MAXDT default when the server gives none: the spec leaves it to the client; 60 s is common. */
export const DEFAULT_MAXDT_SECONDS = 60;

const LATER = /\b(later|defer|postpone|remind|not now|tomorrow|tonight)\b/i;

export class VirtualUser {
  behaviour: UserBehaviour;
  /** What the user types into a 1102 text input. */
  text: string;
  readonly prompts: PromptRecord[] = [];

  constructor(behaviour: UserBehaviour = 'accept', opts: { text?: string } = {}) {
    this.behaviour = behaviour;
    this.text = opts.text ?? 'ok';
  }

  setBehaviour(b: UserBehaviour): void {
    this.behaviour = b;
  }

  async answer(req: UiAlertRequest): Promise<UiAlertResponse> {
    const b = this.behaviour;
    let answer: UiAlertResponse;
    let waitedMs = 0;
    if (typeof b === 'function') {
      answer = await b(req);
    } else if (b === 'timeout') {
      answer = { status: UI_STATUS.notExecuted };
      waitedMs = maxDtMs(req);
    } else {
      answer = decide(b, req, this.text);
    }
    this.prompts.push({
      code: req.code,
      text: req.text,
      options: { ...req.options },
      choices: [...req.choices],
      answer: { ...answer, ...(answer.values ? { values: [...answer.values] } : {}) },
      waitedMs,
    });
    return answer;
  }

  /** The last prompt seen, for tests. */
  get last(): PromptRecord | undefined {
    return this.prompts[this.prompts.length - 1];
  }
}

function maxDtMs(req: UiAlertRequest): number {
  const v = Number.parseInt(req.options.MAXDT ?? '', 10);
  return (Number.isFinite(v) && v > 0 ? v : DEFAULT_MAXDT_SECONDS) * 1000;
}

/** The default choice: DR (1-based, comma list for 1104) when valid, else the first. */
function defaultChoices(req: UiAlertRequest): string[] {
  const n = req.choices.length;
  const dr = (req.options.DR ?? '')
    .split(/[,-]/)
    .map((s) => Number.parseInt(s.trim(), 10))
    .filter((x) => Number.isInteger(x) && x >= 1 && x <= n);
  if (dr.length > 0) return req.code === '1103' ? [String(dr[0])] : [...new Set(dr)].map(String);
  return n > 0 ? ['1'] : [];
}

function decide(b: 'accept' | 'reject' | 'later', req: UiAlertRequest, text: string): UiAlertResponse {
  if (req.code === '1100') return { status: UI_STATUS.ok };
  switch (b) {
    case 'accept':
      if (req.code === '1101') return { status: UI_STATUS.ok };
      if (req.code === '1102') return { status: UI_STATUS.ok, values: [text] };
      return { status: UI_STATUS.ok, values: defaultChoices(req) };
    case 'reject':
      return { status: req.code === '1101' ? UI_STATUS.no : UI_STATUS.cancelled };
    case 'later': {
      if (req.code === '1103' || req.code === '1104') {
        const i = req.choices.findIndex((c) => LATER.test(c));
        if (i >= 0) return { status: UI_STATUS.ok, values: [String(i + 1)] };
      }
      return { status: UI_STATUS.no };
    }
  }
}

/**
 * What the handset itself shows its user before a server-initiated session, by the Package
 * #0's UI mode (OMA-TS-DM_Notification): 0 and 1 nothing, 2 a notice, 3 a question the user
 * may refuse. The user answers as for any UI alert (sim/user.ts).
 */
import type { Notification } from './dm-session';
import type { VirtualUser } from './user';

/** Whether the session may go ahead. */
export async function userAllowsSession(user: VirtualUser, uiMode: Notification['uiMode']): Promise<boolean> {
  if (uiMode === 2) {
    await user.answer({
      code: '1100',
      options: {},
      text: 'Your operator is updating your phone settings.',
      choices: [],
    });
  } else if (uiMode === 3) {
    const a = await user.answer({
      code: '1101',
      options: {},
      text: 'Your operator requests a management session. Allow?',
      choices: [],
    });
    if (a.status !== 200) return false;
  }
  return true;
}

/**
 * What happens to a handset between sessions: a week of ordinary use, and the damage the
 * B&R use cases are about. Both change the tree (and the phonebook) as a user or a fault
 * would, deterministically, so a demo's history and a test's expectations stay the same
 * from run to run.
 */
import { DEVDETAIL } from '../lib/omadm/mo/devdetail';
import { RINGTONE_NAMES } from './catalog';
import { userPut, type HandsetDs } from './ds-store';
import { PATHS } from './generate';
import type { DmTree } from './tree';

export type DamageKind =
  'settings' | 'certificates' | 'appdata' | 'applications' | 'antivirus' | 'firmware' | 'factory-reset';

/**
 * Week `week` of the handset with seed `seed`: the user turns the brightness, picks another
 * ringtone, flips the theme, and the phonebook moves on.
 */
export function everydayUse(tree: DmTree, ds: HandsetDs, seed: number, week: number): void {
  const t = tree;
  const n = (seed + week * 7919) >>> 0;
  t.set(`${PATHS.settings}/Display/Brightness`, String(20 + (n % 81)));
  t.set(`${PATHS.settings}/Sound/Ringtone`, RINGTONE_NAMES[n % 3]!);
  if (week % 2 === 1) t.set(`${PATHS.settings}/Display/Theme`, ['light', 'dark', 'auto'][n % 3]!);
  // And the phonebook moves on: a contact gets a new number, a new one is met.
  const contacts = ds.stores.contacts.items;
  const first = Object.keys(contacts).sort()[week % Math.max(1, Object.keys(contacts).length)];
  if (first)
    userPut(
      ds,
      'contacts',
      contacts[first]!.text.replace(
        /^TEL([;:][^\r\n]*?):[^\r\n]*$/m,
        `TEL$1:+4477009${String(n % 100_000).padStart(5, '0')}`,
      ),
      first,
    );
  userPut(
    ds,
    'contacts',
    `BEGIN:VCARD\r\nVERSION:${ds.formats.contacts.version}\r\nN:Week ${week};Contact;;;\r\nFN:Contact of week ${week}\r\nTEL:+4477009${String((n >>> 3) % 100_000).padStart(5, '0')}\r\nEND:VCARD\r\n`,
  );
}

/**
 * Lost settings, a lost certificate, deleted media, a corrupted or missing application (the
 * antivirus among them), a corrupted firmware, or a factory reset (all user data gone).
 */
export function damage(tree: DmTree, kind: DamageKind): void {
  const t = tree;
  const clear = (path: string) => {
    for (const c of t.children(path)) t.remove(`${path}/${c}`);
  };
  switch (kind) {
    case 'settings':
      for (const p of ['Network/APN', 'Email']) clear(`${PATHS.settings}/${p}`);
      t.set(`${PATHS.settings}/Display/Brightness`, '50');
      t.set(`${PATHS.settings}/Sound/Ringtone`, 'Default');
      break;
    case 'certificates':
      clear(PATHS.certificates);
      break;
    case 'appdata':
      for (const d of [PATHS.ringtones, PATHS.wallpapers, PATHS.screensavers]) clear(d);
      break;
    case 'applications':
      for (const x of t.children('./SCOMO/Inventory/Deployed')) {
        if (!/shieldav/i.test(x)) t.remove(`./SCOMO/Inventory/Deployed/${x}`);
      }
      break;
    case 'antivirus':
      for (const x of t.children('./SCOMO/Inventory/Deployed')) {
        if (/shieldav/i.test(x)) t.remove(`./SCOMO/Inventory/Deployed/${x}`);
      }
      break;
    case 'firmware':
      t.set(DEVDETAIL.FwV, `${t.text(DEVDETAIL.FwV) ?? ''}-corrupt`);
      break;
    case 'factory-reset':
      for (const k of ['settings', 'certificates', 'appdata', 'applications'] as const) damage(t, k);
      damage(t, 'antivirus');
      break;
  }
}

/**
 * The handsets Rewind's virtual fleet is made of: two brands, three models, several
 * firmware versions each. Model traits that change how a handset behaves on the wire
 * (message size, Large Object support, whether it answers ?list=, a smart card slot) live
 * here so fleets exercise the server against the variety real handsets show.
 */
import type { ChangeProperty } from '../lib/omadm/mo/tnd-props';

export interface ModelSpec {
  /** Stable id used in identities and firmware manifests, e.g. "nimbus-n1". */
  id: string;
  man: string;
  mod: string;
  oem: string;
  devTyp: string;
  hwV: string;
  /** Oldest first; a new handset gets one of these. */
  firmware: readonly string[];
  /** SwV per firmware: the platform build that ships with it. */
  swV: Readonly<Record<string, string>>;
  /** Type Allocation Code: the first 8 IMEI digits. */
  tac: string;
  lang: string;
  maxMsgSize: number;
  maxObjSize: number;
  /** Answers Get ?list=Struct / ?list=StructData (some real clients say 406). */
  listStruct: boolean;
  listStructData: boolean;
  /** Has a smart card a local backup can target. */
  smartcard: boolean;
  /** Implements the B&R MO's digests (BR/Operations/Digest): backups then move only what changed. */
  brDigest: boolean;
  /**
   * Node properties answered to `?prop=` (OMA DM TND): VerNo, TStamp, both or neither. A
   * model without digests but with one of them is still backed up by what changed.
   */
  nodeProps: readonly ChangeProperty[];
  /** Storage for the whole tree's values, bytes. */
  capacityBytes: number;
  /** Vendor prefix of preinstalled app ids. */
  appPrefix: string;
  /** The operator the handset ships for (network settings, APNs). */
  operator: string;
}

export const MODELS: readonly ModelSpec[] = [
  {
    id: 'nimbus-n1',
    man: 'Nimbus Mobile',
    mod: 'N1',
    oem: 'Nimbus Mobile Ltd.',
    devTyp: 'phone',
    hwV: 'N1-HW-B2',
    firmware: ['1.0.3', '1.1.0', '2.0.1'],
    swV: { '1.0.3': 'NimbusOS 4.2.11', '1.1.0': 'NimbusOS 4.3.2', '2.0.1': 'NimbusOS 5.0.7' },
    tac: '35467812',
    lang: 'en-GB',
    maxMsgSize: 64 * 1024,
    maxObjSize: 8 * 1024 * 1024,
    listStruct: true,
    listStructData: true,
    smartcard: true,
    brDigest: true,
    nodeProps: ['VerNo', 'TStamp'],
    capacityBytes: 512 * 1024 * 1024,
    appPrefix: 'com.nimbus',
    operator: 'Aurora Telecom',
  },
  {
    id: 'nimbus-n2',
    man: 'Nimbus Mobile',
    mod: 'N2',
    oem: 'Nimbus Mobile Ltd.',
    devTyp: 'smartphone',
    hwV: 'N2-HW-A1',
    firmware: ['1.1.0', '2.0.1', '2.1.4'],
    swV: { '1.1.0': 'NimbusOS 4.3.2', '2.0.1': 'NimbusOS 5.0.7', '2.1.4': 'NimbusOS 5.1.3' },
    tac: '35467899',
    lang: 'en-US',
    maxMsgSize: 128 * 1024,
    maxObjSize: 16 * 1024 * 1024,
    listStruct: true,
    listStructData: true,
    smartcard: false,
    brDigest: true,
    nodeProps: ['VerNo'],
    capacityBytes: 1024 * 1024 * 1024,
    appPrefix: 'com.nimbus',
    operator: 'Aurora Telecom',
  },
  {
    // The awkward one: small messages, refuses ?list= (backups must walk the tree).
    id: 'korra-k7',
    man: 'Korra Devices',
    mod: 'K7',
    oem: 'Korra Devices GmbH',
    devTyp: 'feature-phone',
    hwV: 'K7.r3',
    firmware: ['1.0.3', '1.2.0', '2.0.1'],
    swV: { '1.0.3': 'KorraRT 7.0.0', '1.2.0': 'KorraRT 7.1.5', '2.0.1': 'KorraRT 8.0.2' },
    tac: '35982104',
    lang: 'de-DE',
    maxMsgSize: 16 * 1024,
    maxObjSize: 4 * 1024 * 1024,
    listStruct: false,
    listStructData: false,
    smartcard: true,
    // An older firmware line: no digests, so every backup fetches the whole selection.
    brDigest: false,
    // Nor node properties: like a real third-party client, only a full fetch backs it up.
    nodeProps: [],
    capacityBytes: 256 * 1024 * 1024,
    appPrefix: 'de.korra',
    operator: 'Nordnetz',
  },
];

/**
 * Models without the B&R MO's digests that keep node properties instead, one of each kind.
 * Not in the default fleet (whose mix the demo and the tests rely on): asked for by id.
 */
export const PROPERTY_MODELS: readonly ModelSpec[] = [
  {
    // VerNo only: a per-node version number.
    ...MODELS[2]!,
    id: 'korra-k9',
    mod: 'K9',
    hwV: 'K9.r1',
    tac: '35982177',
    listStruct: true,
    listStructData: true,
    maxMsgSize: 32 * 1024,
    nodeProps: ['VerNo'],
  },
  {
    // TStamp only, and no ?list=: the last modification time per node, the tree walked node by node.
    ...MODELS[2]!,
    id: 'korra-k5',
    mod: 'K5',
    hwV: 'K5.r2',
    tac: '35982150',
    nodeProps: ['TStamp'],
  },
  {
    // Both: the server prefers VerNo (a clock on a handset can go back).
    ...MODELS[2]!,
    id: 'korra-k8',
    mod: 'K8',
    hwV: 'K8.r1',
    tac: '35982188',
    listStruct: true,
    listStructData: true,
    nodeProps: ['VerNo', 'TStamp'],
  },
];

/** Every model a handset can be made of (the default fleet's and the property models). */
export const ALL_MODELS: readonly ModelSpec[] = [...MODELS, ...PROPERTY_MODELS];

/** The default fleet's models. */
export const MODEL_IDS: readonly string[] = MODELS.map((m) => m.id);

export function findModel(id: string): ModelSpec | undefined {
  const want = id.trim().toLowerCase();
  return ALL_MODELS.find(
    (m) => m.id === want || `${m.man} ${m.mod}`.toLowerCase() === want || m.mod.toLowerCase() === want,
  );
}

export function getModel(id: string): ModelSpec {
  const m = findModel(id);
  if (!m) throw new RangeError(`unknown model ${JSON.stringify(id)}; known: ${ALL_MODELS.map((x) => x.id).join(', ')}`);
  return m;
}

/** Applications a handset may have installed; the antivirus is always one of them. */
export interface AppSpec {
  /** Suffix after the vendor prefix, or a full id when `thirdParty`. */
  id: string;
  name: string;
  versions: readonly string[];
  thirdParty?: boolean;
}

export const ANTIVIRUS: AppSpec = {
  id: 'com.shieldsec.shieldav',
  name: 'ShieldAV',
  versions: ['3.2.1', '3.4.0', '4.0.2'],
  thirdParty: true,
};

export const APPS: readonly AppSpec[] = [
  { id: 'mail', name: 'Mail', versions: ['2.1.0', '2.3.4'] },
  { id: 'calendar', name: 'Calendar', versions: ['1.8.2', '2.0.0'] },
  { id: 'contacts', name: 'Contacts', versions: ['3.0.1', '3.1.0'] },
  { id: 'camera', name: 'Camera', versions: ['5.2.0', '5.4.1'] },
  { id: 'gallery', name: 'Gallery', versions: ['2.2.2'] },
  { id: 'music', name: 'Music Player', versions: ['1.4.0', '1.5.3'] },
  { id: 'browser', name: 'Browser', versions: ['11.0.4', '12.1.0'] },
  { id: 'notes', name: 'Notes', versions: ['1.0.9'] },
  { id: 'clock', name: 'Clock', versions: ['2.0.3'] },
  { id: 'radio', name: 'FM Radio', versions: ['1.1.1'] },
  { id: 'com.bricksoft.tetrix', name: 'Tetrix', versions: ['1.0.0', '1.2.5'], thirdParty: true },
  { id: 'com.snakeworks.snake3d', name: 'Snake 3D', versions: ['2.0.0'], thirdParty: true },
  { id: 'org.openmaps.navigator', name: 'OpenMaps Navigator', versions: ['7.3.0', '8.0.1'], thirdParty: true },
  { id: 'com.chatterbox.messenger', name: 'Chatterbox', versions: ['4.4.4', '4.6.0'], thirdParty: true },
  { id: 'net.weatherly.app', name: 'Weatherly', versions: ['3.3.0'], thirdParty: true },
  { id: 'com.pocketbank.mobile', name: 'PocketBank', versions: ['6.1.2', '6.2.0'], thirdParty: true },
];

export const RINGTONE_NAMES = ['Aurora', 'Breeze', 'Cascade', 'Daybreak', 'Echo', 'Firefly', 'Glacier', 'Horizon'];
export const WALLPAPER_NAMES = ['Alpine', 'Beach', 'City', 'Desert', 'Forest', 'Galaxy'];
export const SCREENSAVER_NAMES = ['Bubbles', 'Clock', 'Starfield', 'Waves'];

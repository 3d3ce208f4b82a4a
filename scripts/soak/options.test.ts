import { expect, it } from 'vitest';
import { parseCommandLine, soakSettings } from './options';

it('fills in the defaults and refuses a fleet or a run that cannot be', () => {
  expect(soakSettings({ devices: 3, minutes: 0.5 })).toEqual({
    devices: 3,
    minutes: 0.5,
    faultRate: 0.1,
    seed: 1,
    thinkS: 5,
    restoreShare: 0.15,
    buttonShare: 0.35,
    drainS: 120,
    stallS: 60,
    progressS: 10,
    mediaScale: 0.01,
  });
  expect(() => soakSettings({ devices: 0, minutes: 1 })).toThrow(RangeError);
  expect(() => soakSettings({ devices: 1.5, minutes: 1 })).toThrow(RangeError);
  expect(() => soakSettings({ devices: 1, minutes: 0 })).toThrow(RangeError);
  expect(() => soakSettings({ devices: 1, minutes: 1, faultRate: 1.5 })).toThrow(RangeError);
});

it('reads the command line: a run, help, or the reason it is neither', () => {
  expect(parseCommandLine([])).toEqual({
    help: false,
    opts: { devices: 100, minutes: 1, faultRate: 0.1 },
    json: undefined,
  });
  expect(
    parseCommandLine([
      '--devices',
      '20',
      '--minutes',
      '0.3',
      '--seed',
      '7',
      '--think',
      '2',
      '--drain',
      '0',
      '--keep',
      '--json',
      'out.json',
    ]),
  ).toEqual({
    help: false,
    opts: { devices: 20, minutes: 0.3, faultRate: 0.1, thinkS: 2, drainS: 0, seed: 7, keep: true },
    json: 'out.json',
  });
  expect(parseCommandLine(['--help', '--devices', 'x'])).toEqual({ help: true });
  expect(() => parseCommandLine(['--devices', 'x'])).toThrow('--devices: "x" is not valid');
  expect(() => parseCommandLine(['--seed', '1.5'])).toThrow('--seed');
  expect(() => parseCommandLine(['--bogus'])).toThrow(/bogus/);
});

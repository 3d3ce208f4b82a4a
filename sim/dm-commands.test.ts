import { describe, expect, it } from 'vitest';
import { DecodeError } from '../lib/omadm/errors';
import { DmTree, ACCESS_EXEC } from './tree';
import { TreeCommands, type ManagedObject } from './dm-commands';
import { WorkQueue } from './work-queue';

function setUp(mo: ManagedObject) {
  const tree = new DmTree();
  tree.mkdir('./Settings');
  tree.set('./Ops/Plain', new Uint8Array(0), { format: 'null', access: ACCESS_EXEC });
  tree.set('./Ops/Mine', new Uint8Array(0), { format: 'null', access: ACCESS_EXEC });
  const work = new WorkQueue();
  return { tree, work, commands: new TreeCommands(tree, work, [mo]) };
}

describe('tree commands with a managed object', () => {
  it('tell the object of the Adds and Deletes the tree accepted, by canonical path', async () => {
    const seen: string[] = [];
    const { commands } = setUp({ added: (p) => seen.push(`add ${p}`), deleted: (p) => seen.push(`delete ${p}`) });
    expect(await commands.add({ target: { locURI: 'Settings/Theme' }, data: 'dark' })).toEqual({ status: 200 });
    // Already there: refused, and the object hears nothing of it.
    expect(await commands.add({ target: { locURI: './Settings/Theme' }, data: 'light' })).not.toEqual({ status: 200 });
    expect(await commands.delete({ target: { locURI: './Settings/Theme/' } })).toEqual({ status: 200 });
    expect(await commands.delete({ target: { locURI: './Settings/Theme' } })).toEqual({ status: 404 });
    expect(seen).toEqual(['add ./Settings/Theme', 'delete ./Settings/Theme']);
  });

  it("run an Exec on the object's node, 200 on a node with no behaviour, 400 for parameters that do not parse", async () => {
    const { commands } = setUp({
      exec: (path, item) => {
        if (path !== './Ops/Mine') return undefined;
        if (item.data === 'bad') throw new DecodeError('invalid', 'bad parameters');
        return { status: 202 };
      },
    });
    expect(await commands.exec({ target: { locURI: './Ops/Mine' } }, undefined)).toEqual({ status: 202 });
    expect(await commands.exec({ target: { locURI: './Ops/Mine' }, data: 'bad' }, undefined)).toEqual({ status: 400 });
    expect(await commands.exec({ target: { locURI: './Ops/Plain' } }, undefined)).toEqual({ status: 200 });
    expect((await commands.exec({ target: { locURI: './Settings' } }, undefined)).status).not.toBe(200);
  });

  it('a rolled-back Atomic undoes its writes and forgets the operations its Execs deferred', async () => {
    const ran: string[] = [];
    const { tree, work, commands } = setUp({
      exec: (path) => {
        work.defer(async () => {
          ran.push(path);
        });
        return { status: 202 };
      },
    });
    work.inSession = true;
    await commands.exec({ target: { locURI: './Ops/Mine' } }, undefined);
    commands.beginAtomic();
    await commands.replace({ target: { locURI: './Ops/Mine' }, data: '' });
    await commands.add({ target: { locURI: './Settings/Theme' }, data: 'neon' });
    await commands.exec({ target: { locURI: './Ops/Plain' } }, undefined);
    commands.rollbackAtomic();
    expect(tree.has('./Settings/Theme')).toBe(false);
    work.inSession = false;
    work.startDeferred();
    await work.idle();
    expect(ran).toEqual(['./Ops/Mine']);
  });

  it('writes a fault says to ignore are answered 200 and not stored', async () => {
    const { tree, commands } = setUp({});
    commands.ignoreWrites = (p) => p.startsWith('./Settings/');
    expect(await commands.add({ target: { locURI: './Settings/Theme' }, data: 'dark' })).toEqual({ status: 200 });
    expect(tree.has('./Settings/Theme')).toBe(false);
  });
});

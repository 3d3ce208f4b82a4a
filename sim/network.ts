/**
 * The handset's network as its tree records it (bearer, roaming, operator), beside whether
 * it has any network at all; a B&R policy reads it to decide whether a backup may run now.
 */
import { PATHS } from './generate';
import type { DmTree } from './tree';

export interface NetworkState {
  bearer: string;
  roaming: boolean;
  operator: string;
  online: boolean;
}

export type NetworkChange = { bearer?: 'wifi' | 'cellular'; roaming?: boolean; operator?: string; online?: boolean };

/** Writes the change's leaves; `online` is not in the tree, and is the caller's to keep. */
export function writeNetwork(tree: DmTree, n: NetworkChange): void {
  if (n.bearer !== undefined) tree.set(PATHS.bearer, n.bearer);
  if (n.roaming !== undefined) tree.set(PATHS.roaming, String(n.roaming), { format: 'bool' });
  if (n.operator !== undefined) tree.set(PATHS.operator, n.operator);
}

export function readNetwork(tree: DmTree, online: boolean): NetworkState {
  return {
    bearer: tree.text(PATHS.bearer) ?? 'wifi',
    roaming: tree.text(PATHS.roaming) === 'true',
    operator: tree.text(PATHS.operator) ?? '',
    online,
  };
}

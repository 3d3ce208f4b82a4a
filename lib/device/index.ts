/**
 * Virtual handsets: the client side of Rewind's DM engine, for tests, the demo, the bench
 * and the `rewind fleet` CLI.
 */
export * from './tree';
export * from './catalog';
export * from './generate';
export * from './store';
export * from './user';
export * from './transport';
export * from './faults';
export * from './packages';
export * from './local-backup';
export * from './handset';
export * from './fleet';
export { StubDmServer, type StubRound } from './stub-server';

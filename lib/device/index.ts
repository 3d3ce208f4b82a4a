/**
 * Virtual handsets: the client side of Rewind's DM engine, for tests, the demo, the bench
 * and the `rewind fleet` CLI.
 */
export * from './tree.js';
export * from './catalog.js';
export * from './generate.js';
export * from './store.js';
export * from './user.js';
export * from './transport.js';
export * from './faults.js';
export * from './packages.js';
export * from './local-backup.js';
export * from './handset.js';
export * from './fleet.js';
export { StubDmServer, type StubRound } from './stub-server.js';

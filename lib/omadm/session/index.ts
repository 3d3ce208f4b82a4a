/**
 * The DM session engine: the server side (pure functions over JSON state), the outbox
 * that packs commands into size-bounded messages, and Large Object reassembly.
 */
export * from './work';
export {
  abortSession,
  enqueueWork,
  isDone,
  newServerSession,
  receive,
  rejectUnknownDevice,
  respond,
  signResponse,
  type AuthUpdate,
  type DeviceAuth,
  type ReceiveInput,
  type ReceiveResult,
  type RespondResult,
  type ServerConfig,
  type ServerSessionState,
} from './server';
export * from './outbox';
export * from './large-object';
export * from './client';
export type * from './client-handler';

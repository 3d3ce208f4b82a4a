/**
 * The DM session engine: the server side (pure functions over JSON state), the outbox
 * that packs commands into size-bounded messages, and Large Object reassembly.
 */
export * from './work.js';
export {
  abortSession, enqueueWork, isDone, newServerSession, receive, rejectUnknownDevice, respond, signResponse,
  type AuthUpdate, type DeviceAuth, type ReceiveInput, type ReceiveResult, type RespondResult,
  type ServerConfig, type ServerSessionState,
} from './server.js';
export * from './outbox.js';
export * from './large-object.js';
export * from './client.js';
export type * from './client-handler.js';

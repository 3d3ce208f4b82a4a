import { groupAdd, groupDelete, groupImport, groupList, policyDelete, policyListCommand } from './groups';
import { getContext } from '../lib/core/context';
import { provisionDevicesAs } from '../lib/devices/devices';
import { AppError } from '../lib/core/errors';
import { dsAccountAdd, dsBackupCommand, dsDiffCommand, dsRestoreCommand, dsSnapshotsCommand } from './ds';
import { createApiTokenAs, parseLifetime } from '../lib/auth/tokens';
import { AUTH_OPTIONS, AUTH_USAGE, authSchemes } from './auth-options';
import { deviceShow } from './devices';
import { firmwareSearch } from './firmware-search';
import { simCommand } from './sim';
import { deviceImport } from './device-import';
import { profileSet, profileShow } from './profiles';
import { backupCommand, jobsCommand, localBackupCommand, localBackupsCommand, localRestoreCommand } from './backups';
import { diffCommand, snapshotCommand, snapshotsCommand } from './snapshots';
import { jobCommand, restoreCommand, retryFailedCommand, undoCommand } from './restore';
import { appAdd, catalogCommand, firmwareAdd } from './catalog';
import { gcCommand, holdCommand, retentionCommand, verifyCommand } from './maintenance';
import { userAdd } from './users';
import { subscriberErase } from './erase';
import { migrateBlobs, migrateDatabase, migratePacks } from './migrate';
import { configCheck } from './config';
import { searchReindexCommand, seedCommand } from './seed';
import {
  alertsCommand,
  webhookAddCommand,
  webhookListCommand,
  webhookRemoveCommand,
  webhookTestCommand,
} from './alerts';
import {
  bulkAssignGroupCommand,
  bulkAssignPolicyCommand,
  bulkBackupCommand,
  bulkCancelCommand,
  bulkDsBackupCommand,
  bulkStatusCommand,
} from './bulk';
import { required, UsageError, type Command } from './usage';

const deviceAdd: Command = {
  summary: 'provision a device and its DM account',
  usage: `--dev-id ID --manufacturer M --model M --server-id SID ${AUTH_USAGE} --client-user U --client-pass P --server-pass P [--msisdn N] [--subscriber NAME] [--email E] [--fw V] [--push ADDRESS]`,
  options: {
    'dev-id': { type: 'string' },
    manufacturer: { type: 'string' },
    model: { type: 'string' },
    msisdn: { type: 'string' },
    subscriber: { type: 'string' },
    'server-id': { type: 'string' },
    ...AUTH_OPTIONS,
    'client-user': { type: 'string' },
    'client-pass': { type: 'string' },
    'server-pass': { type: 'string' },
    fw: { type: 'string' },
    push: { type: 'string' },
    email: { type: 'string' },
  },
  async run(v) {
    const auth = authSchemes(v);
    try {
      const [d] = await provisionDevicesAs(
        getContext().db,
        [
          {
            devId: required(v, 'dev-id'),
            manufacturer: required(v, 'manufacturer'),
            model: required(v, 'model'),
            msisdn: v.msisdn as string | undefined,
            subscriber: v.subscriber as string | undefined,
            email: v.email as string | undefined,
            serverId: required(v, 'server-id'),
            clientAuth: auth.client,
            serverAuth: auth.server,
            clientUser: required(v, 'client-user'),
            clientPass: required(v, 'client-pass'),
            serverPass: required(v, 'server-pass'),
            firmware: v.fw as string | undefined,
            pushAddress: v.push as string | undefined,
          },
        ],
        'cli',
      );
      console.log(`device ${d!.devId} provisioned (id ${d!.id})`);
    } catch (err) {
      if (err instanceof AppError) throw new UsageError(err.message);
      throw err;
    }
  },
};

const tokenCreate: Command = {
  summary: 'create an API bearer token (shown once)',
  usage: '--role admin|agent [--scope read|full] [--expires 30d|12h] [--name NAME]',
  options: {
    role: { type: 'string' },
    name: { type: 'string' },
    scope: { type: 'string' },
    expires: { type: 'string' },
  },
  async run(v) {
    const role = required(v, 'role');
    if (role !== 'admin' && role !== 'agent') throw new UsageError('--role must be admin or agent');
    const scope = (v.scope as string | undefined) ?? 'full';
    if (scope !== 'read' && scope !== 'full') throw new UsageError('--scope must be read or full');
    const expires = v.expires as string | undefined;
    const expiresInMs = expires === undefined ? undefined : parseLifetime(expires);
    if (expires !== undefined && expiresInMs === undefined)
      throw new UsageError('--expires must be days or hours, such as 30d or 12h (at most 3650d)');
    const name = (v.name as string | undefined) ?? `${role} token`;
    const { token } = await createApiTokenAs(getContext().db, role, name, 'cli', { scope, expiresInMs });
    console.log(token);
  },
};

export const commands: Record<string, Command> = {
  'device add': deviceAdd,
  'device import': deviceImport,
  'device show': deviceShow,
  'token create': tokenCreate,
  alerts: alertsCommand,
  'webhook add': webhookAddCommand,
  'webhook list': webhookListCommand,
  'webhook remove': webhookRemoveCommand,
  'webhook test': webhookTestCommand,
  'user add': userAdd,
  'subscriber erase': subscriberErase,
  'migrate blobs': migrateBlobs,
  'migrate packs': migratePacks,
  'migrate database': migrateDatabase,
  'config check': configCheck,
  'profile set': profileSet,
  'profile show': profileShow,
  backup: backupCommand,
  'local-backup': localBackupCommand,
  'local-restore': localRestoreCommand,
  'local-backups': localBackupsCommand,
  jobs: jobsCommand,
  job: jobCommand,
  snapshots: snapshotsCommand,
  snapshot: snapshotCommand,
  diff: diffCommand,
  restore: restoreCommand,
  undo: undoCommand,
  'retry-failed': retryFailedCommand,
  'firmware add': firmwareAdd,
  'firmware search': firmwareSearch,
  'bulk backup': bulkBackupCommand,
  'bulk ds-backup': bulkDsBackupCommand,
  'bulk assign-policy': bulkAssignPolicyCommand,
  'bulk assign-group': bulkAssignGroupCommand,
  'bulk status': bulkStatusCommand,
  'group add': groupAdd,
  'group import': groupImport,
  'group list': groupList,
  'group delete': groupDelete,
  'policy list': policyListCommand,
  'policy delete': policyDelete,
  'bulk cancel': bulkCancelCommand,
  'app add': appAdd,
  catalog: catalogCommand,
  retention: retentionCommand,
  gc: gcCommand,
  verify: verifyCommand,
  hold: holdCommand,
  sim: simCommand,
  seed: seedCommand,
  'search reindex': searchReindexCommand,
  'ds-account add': dsAccountAdd,
  'ds-backup': dsBackupCommand,
  'ds-snapshots': dsSnapshotsCommand,
  'ds-diff': dsDiffCommand,
  'ds-restore': dsRestoreCommand,
};

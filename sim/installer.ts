/**
 * The handset's installer: firmware over FUMO and applications over SCOMO. An Exec on an
 * operation node is accepted at once (202) and carried out after the session: the package
 * is downloaded and checked, installed into the tree, and the result reported by the
 * Generic Alert each MO defines, with the Exec's Correlator.
 */
import type { Item } from '../lib/omadm/message';
import { DEVDETAIL } from '../lib/omadm/mo/devdetail';
import { FUMO_ALERT, FumoState, fumoPaths, type FumoOperation } from '../lib/omadm/mo/fumo';
import type { GenericAlert } from '../lib/omadm/mo/generic-alert';
import { deployedPaths, downloadPaths, SCOMO_ALERT_OPERATION_COMPLETE, ScomoState } from '../lib/omadm/mo/scomo';
import type { CommandOutcome } from '../lib/omadm/session/client-handler';
import { getModel } from './catalog';
import type { ManagedObject } from './dm-commands';
import { PATHS, putDeployed } from './generate';
import { alertOf, HandsetObject } from './handset-core';
import { checkAppPackage, checkFirmwarePackage } from './packages';
import { TransportError } from './transport';
import { ACCESS_EXEC } from './tree';

type DownloadOp = 'Download' | 'DownloadInstall' | 'DownloadInstallInactive';
type DeployedOp = 'Activate' | 'Deactivate' | 'Remove';

export class Installer extends HandsetObject implements ManagedObject {
  exec(path: string, _item: Item, correlator: string | undefined): CommandOutcome | undefined {
    const fumo = fumoPaths(PATHS.fumoRoot);
    const fumoOp: Record<string, FumoOperation> = {
      [fumo.Download]: 'download',
      [fumo.Update]: 'update',
      [fumo.DownloadAndUpdate]: 'downloadandupdate',
    };
    const op = fumoOp[path];
    if (op) {
      this.core.work.defer(() => this.runFumo(op, path, correlator));
      return { status: 202 };
    }
    let m = /^\.\/SCOMO\/Download\/([^/]+)\/Operations\/(Download|DownloadInstall|DownloadInstallInactive)$/.exec(path);
    if (m) {
      const [, x, o] = m as unknown as [string, string, DownloadOp];
      this.core.work.defer(() => this.runScomoDownload(x, o, path, correlator));
      return { status: 202 };
    }
    m = /^\.\/SCOMO\/Inventory\/Deployed\/([^/]+)\/Operations\/(Activate|Deactivate|Remove)$/.exec(path);
    if (m) {
      const [, x, o] = m as unknown as [string, string, DeployedOp];
      this.core.work.defer(() => this.runScomoDeployed(x, o, path, correlator));
      return { status: 202 };
    }
    return undefined;
  }

  /** SCOMO: a Download/<x> the server creates gets its operation nodes, as the device would. */
  added(path: string | undefined): void {
    const m = path && /^\.\/SCOMO\/Download\/([^/]+)/.exec(path);
    if (!m) return;
    const x = m[1]!;
    const p = downloadPaths(x);
    if (this.tree.node(p.base)?.kind !== 'interior') return;
    if (!this.tree.has(`${p.base}/Operations`)) {
      this.tree.mkdir(`${p.base}/Operations`, { access: ['Get'] });
      for (const op of ['Download', 'DownloadInstall', 'DownloadInstallInactive'] as const) {
        this.tree.set(p.op(op), new Uint8Array(0), { format: 'null', access: ACCESS_EXEC });
      }
    }
    if (!this.tree.has(p.Status)) this.tree.set(p.Status, '10', { format: 'int', access: ['Get'] });
  }

  /** GETs a package: bytes, or a failure kind the caller maps to its MO's result codes. */
  private async download(
    url: string,
  ): Promise<
    { ok: true; body: Uint8Array } | { ok: false; why: 'bad-url' | 'network' | 'too-large' | 'client' | 'server' }
  > {
    if (!url || !/^https?:\/\//i.test(url)) return { ok: false, why: 'bad-url' };
    if (!this.core.online) return { ok: false, why: 'network' };
    try {
      const r = await this.core.transport({
        method: 'GET',
        url,
        headers: {},
        timeoutMs: this.core.limits.downloadTimeoutMs,
        maxReplyBytes: this.core.limits.maxDownloadBytes,
      });
      if (r.status >= 500) return { ok: false, why: 'server' };
      if (r.status !== 200) return { ok: false, why: 'client' };
      return { ok: true, body: r.body };
    } catch (e) {
      if (e instanceof TransportError)
        return { ok: false, why: e.code === 'too-large' ? 'too-large' : e.code === 'bad-url' ? 'bad-url' : 'network' };
      return { ok: false, why: 'network' };
    }
  }

  private async runFumo(op: FumoOperation, source: string, correlator: string | undefined): Promise<void> {
    const p = fumoPaths(PATHS.fumoRoot);
    const setState = (s: number) => this.tree.set(p.State, String(s), { format: 'int' });
    const finish = (code: number) => {
      this.core.persist();
      this.queueAlert(
        alertOf(correlator, {
          source,
          type: FUMO_ALERT[op],
          format: 'int',
          data: String(code),
          ...(code === 200 ? {} : { mark: 'critical' as const }),
        }),
      );
    };
    const model = this.core.identity.model;
    let pkg: { version: string; name?: string } | undefined;
    if (op === 'download' || op === 'downloadandupdate') {
      const url = this.tree.text(op === 'download' ? p.DownloadPkgURL : p.DownloadAndUpdatePkgURL)?.trim() ?? '';
      setState(FumoState.DownloadProgressing);
      const got = await this.download(url);
      if (!got.ok) {
        setState(FumoState.DownloadFailed);
        finish({ 'bad-url': 411, network: 503, 'too-large': 501, client: 411, server: 412 }[got.why]);
        return;
      }
      const check = checkFirmwarePackage(got.body, url, model);
      if (!check.ok) {
        setState(FumoState.DownloadFailed);
        finish(check.code);
        return;
      }
      setState(FumoState.DownloadComplete);
      pkg = { version: check.version, ...(check.name ? { name: check.name } : {}) };
      if (op === 'download') {
        this.core.state.downloadedFirmware = { ...pkg, model };
        finish(200);
        return;
      }
    } else {
      pkg = this.core.state.downloadedFirmware;
      const data = this.tree.read(p.UpdatePkgData);
      if (!pkg && data && data.length > 0) {
        const check = checkFirmwarePackage(data, '', model);
        if (!check.ok) {
          setState(FumoState.UpdateFailedNoData);
          finish(check.code);
          return;
        }
        pkg = { version: check.version };
      }
      if (!pkg) {
        // Update with nothing downloaded: FUMO's "Firmware Update Failed".
        setState(FumoState.UpdateFailedNoData);
        finish(410);
        return;
      }
    }
    setState(FumoState.UpdateProgressing);
    this.tree.set(DEVDETAIL.FwV, pkg.version);
    const swV = getModel(model).swV[pkg.version];
    if (swV) this.tree.set(DEVDETAIL.SwV, swV);
    this.tree.set(p.PkgVersion, pkg.version);
    if (pkg.name) this.tree.set(p.PkgName, pkg.name);
    delete this.core.state.downloadedFirmware;
    setState(FumoState.UpdateSuccessfulNoData);
    finish(200);
  }

  private scomoAlert(source: string, correlator: string | undefined, code: number, id?: string): GenericAlert {
    const data = `<ResultCode>${code}</ResultCode>${id ? `<Identifier>${id.replace(/[<&>]/g, '_')}</Identifier>` : ''}`;
    return alertOf(correlator, {
      source,
      type: SCOMO_ALERT_OPERATION_COMPLETE,
      format: 'chr',
      data,
      ...(code === 1200 ? {} : { mark: 'critical' as const }),
    });
  }

  private async runScomoDownload(
    x: string,
    op: DownloadOp,
    source: string,
    correlator: string | undefined,
  ): Promise<void> {
    const p = downloadPaths(x);
    const url = this.tree.text(p.PkgURL)?.trim() ?? '';
    const setStatus = (s: number) => {
      if (this.tree.has(p.base)) this.tree.set(p.Status, String(s), { format: 'int' });
    };
    setStatus(30);
    const got = await this.download(url);
    if (!got.ok) {
      setStatus(20);
      this.queueAlert(
        this.scomoAlert(source, correlator, got.why === 'server' ? 1500 : got.why === 'too-large' ? 1404 : 1402),
      );
      return;
    }
    const fallback = {
      ...(this.tree.text(p.PkgID) ? { id: this.tree.text(p.PkgID)! } : {}),
      ...(this.tree.text(p.Name) ? { name: this.tree.text(p.Name)! } : {}),
    };
    const check = checkAppPackage(got.body, url, fallback);
    if (!check.ok) {
      setStatus(20);
      this.queueAlert(this.scomoAlert(source, correlator, check.code));
      return;
    }
    if (op === 'Download') {
      setStatus(40);
      this.core.persist();
      this.queueAlert(this.scomoAlert(source, correlator, 1200, check.id));
      return;
    }
    putDeployed(this.tree, {
      id: check.id,
      name: check.name,
      version: check.version,
      active: op === 'DownloadInstall',
    });
    setStatus(70);
    this.core.persist();
    this.queueAlert(this.scomoAlert(source, correlator, 1200, check.id));
  }

  private async runScomoDeployed(
    x: string,
    op: DeployedOp,
    source: string,
    correlator: string | undefined,
  ): Promise<void> {
    const p = deployedPaths(x);
    const id = this.tree.text(p.ID);
    if (!this.tree.has(p.base)) {
      this.queueAlert(
        this.scomoAlert(source, correlator, op === 'Remove' ? 1408 : op === 'Activate' ? 1409 : 1410, id),
      );
      return;
    }
    if (op === 'Remove') this.tree.remove(p.base);
    else this.tree.set(p.State, String(op === 'Activate' ? ScomoState.Active : ScomoState.Inactive), { format: 'int' });
    this.core.persist();
    this.queueAlert(this.scomoAlert(source, correlator, 1200, id));
  }
}

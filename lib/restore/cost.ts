/**
 * What a transfer costs the subscriber on the network the handset is on, so the prompt
 * and the agent's plan can say it before a byte moves. Rates are the operator's, from the
 * environment; the defaults are typical European retail figures per MB.
 */
import type { NetworkState } from '../backup/policy';

export interface CostQuote {
  network: 'wifi' | 'home' | 'roaming' | 'unknown';
  megabytes: number;
  perMb: number;
  amount: number;
  currency: string;
  /** For people: "free on Wi-Fi", "about EUR 0.04 on your home network", "about EUR 12.40 while roaming". */
  text: string;
}

export interface Rates {
  homePerMb: number;
  roamingPerMb: number;
  currency: string;
}

export const DEFAULT_RATES: Rates = { homePerMb: 0.01, roamingPerMb: 2.0, currency: 'EUR' };

export function quote(bytes: number, network: NetworkState | undefined, rates: Rates = DEFAULT_RATES): CostQuote {
  const megabytes = Math.round((bytes / (1024 * 1024)) * 100) / 100;
  const kind: CostQuote['network'] = !network
    ? 'unknown'
    : network.roaming
      ? 'roaming'
      : network.bearer === 'wifi'
        ? 'wifi'
        : 'home';
  const perMb = kind === 'wifi' ? 0 : kind === 'roaming' ? rates.roamingPerMb : rates.homePerMb;
  const amount = Math.round(megabytes * perMb * 100) / 100;
  const money = `${rates.currency} ${amount.toFixed(2)}`;
  const text =
    kind === 'wifi'
      ? 'free on Wi-Fi'
      : kind === 'roaming'
        ? `about ${money} while roaming`
        : kind === 'home'
          ? `about ${money} on your home network`
          : `up to ${rates.currency} ${(Math.round(megabytes * rates.roamingPerMb * 100) / 100).toFixed(2)} if you are roaming`;
  return { network: kind, megabytes, perMb, amount, currency: rates.currency, text };
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

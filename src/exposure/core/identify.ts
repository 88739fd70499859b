/**
 * From a grab's fingerprint inputs to what a service is: vendor, product, version, device type
 * and CPE, by asking the engine each input's databases (most specific first) and merging the
 * params, earlier answers winning. Pure.
 */
import type { MatchParams, RecogEngine } from './recog.js';

export interface Identity {
  vendor: string | null;
  product: string | null;
  version: string | null;
  deviceType: string | null;
  cpe: string | null;
  /** Every param any database gave, for export and the dashboard. */
  params: MatchParams;
  /** Which descriptions matched. */
  matched: string[];
}

/**
 * @example identify(engine, [{ dbs: ['rtsp_header.server'], text: 'Dahua Rtsp Server' }]).vendor === 'Dahua'
 */
export function identify(
  engine: RecogEngine,
  inputs: readonly { dbs: readonly string[]; text: string }[],
): Identity {
  const params: MatchParams = {};
  const matched: string[] = [];
  for (const input of inputs) {
    for (const db of input.dbs) {
      if (!engine.has(db)) continue;
      const m = engine.match(db, input.text);
      if (!m) continue;
      matched.push(`${m.db}: ${m.description}`);
      for (const [k, v] of Object.entries(m.params)) if (!(k in params)) params[k] = v;
      break;
    }
  }
  const pick = (...keys: string[]) => {
    for (const k of keys) if (params[k]) return params[k]!;
    return null;
  };
  return {
    vendor: pick('hw.vendor', 'service.vendor', 'os.vendor'),
    product: pick('hw.product', 'service.product', 'hw.family', 'service.family', 'os.product'),
    version: pick('service.version', 'hw.version', 'os.version'),
    deviceType: pick('hw.device', 'os.device'),
    cpe: pick('service.cpe23', 'hw.cpe23', 'os.cpe23'),
    params,
    matched,
  };
}

/**
 * IPA-style registration statistics: counts by year, quarter or CWE of the registration time
 * in JST (not the year in the JVNDB identifier), CWE names in Japanese and English, and a bar
 * chart as SVG. Pure: rows come in, rows and text go out.
 */

export type StatsBy = 'year' | 'quarter' | 'cwe';

export interface StatsRow {
  key: string;
  count: number;
  name?: string;
}

const JST_MS = 9 * 3600 * 1000;

/** Calendar fields of a UTC instant as seen in Japan. @example jstDate('2017-12-31T15:30:00Z').year === 2018 */
export function jstDate(isoUtc: string): {
  year: number;
  month: number;
  day: number;
  quarter: number;
} {
  const d = new Date(Date.parse(isoUtc) + JST_MS);
  const month = d.getUTCMonth() + 1;
  return {
    year: d.getUTCFullYear(),
    month,
    day: d.getUTCDate(),
    quarter: Math.floor((month - 1) / 3) + 1,
  };
}

/**
 * The UTC instant where a JST calendar day starts, for inclusive --from/--to bounds.
 * @example jstDayStartUtc('2018-01-01') === '2017-12-31T15:00:00Z'
 */
export function jstDayStartUtc(date: string, plusDays = 0): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new RangeError(`not a YYYY-MM-DD date: ${date}`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + plusDays) - JST_MS;
  if (Number.isNaN(ms)) throw new RangeError(`not a date: ${date}`);
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Names IPA uses for the CWE types it reports (Japanese / English). */
export const CWE_NAMES: Record<string, { ja: string; en: string }> = {
  'CWE-16': { ja: '環境設定', en: 'Configuration' },
  'CWE-20': { ja: '不適切な入力確認', en: 'Improper Input Validation' },
  'CWE-22': { ja: 'パス・トラバーサル', en: 'Path Traversal' },
  'CWE-77': { ja: 'コマンド・インジェクション', en: 'Command Injection' },
  'CWE-78': { ja: 'OSコマンド・インジェクション', en: 'OS Command Injection' },
  'CWE-79': { ja: 'クロスサイト・スクリプティング', en: 'Cross-site Scripting' },
  'CWE-89': { ja: 'SQLインジェクション', en: 'SQL Injection' },
  'CWE-94': { ja: 'コード・インジェクション', en: 'Code Injection' },
  'CWE-119': { ja: 'バッファエラー', en: 'Buffer Errors' },
  'CWE-125': { ja: '境界外読み込み', en: 'Out-of-bounds Read' },
  'CWE-189': { ja: '数値処理の問題', en: 'Numeric Errors' },
  'CWE-190': {
    ja: '整数オーバーフローまたはラップアラウンド',
    en: 'Integer Overflow or Wraparound',
  },
  'CWE-200': { ja: '情報漏えい', en: 'Information Exposure' },
  'CWE-254': { ja: 'セキュリティ機能', en: 'Security Features' },
  'CWE-264': { ja: '認可・権限・アクセス制御', en: 'Permissions, Privileges, and Access Controls' },
  'CWE-269': { ja: '不適切な権限管理', en: 'Improper Privilege Management' },
  'CWE-284': { ja: '不適切なアクセス制御', en: 'Improper Access Control' },
  'CWE-287': { ja: '不適切な認証', en: 'Improper Authentication' },
  'CWE-310': { ja: '暗号の問題', en: 'Cryptographic Issues' },
  'CWE-327': {
    ja: '不完全、または危険な暗号アルゴリズムの使用',
    en: 'Use of a Broken or Risky Cryptographic Algorithm',
  },
  'CWE-352': { ja: 'クロスサイト・リクエスト・フォージェリ', en: 'Cross-Site Request Forgery' },
  'CWE-362': { ja: '競合状態', en: 'Race Condition' },
  'CWE-399': { ja: 'リソース管理の問題', en: 'Resource Management Errors' },
  'CWE-400': { ja: '制御されないリソースの消費', en: 'Uncontrolled Resource Consumption' },
  'CWE-416': { ja: '解放済みメモリの使用', en: 'Use After Free' },
  'CWE-434': {
    ja: '危険なタイプのファイルの無制限アップロード',
    en: 'Unrestricted Upload of File with Dangerous Type',
  },
  'CWE-476': { ja: 'NULL ポインタデリファレンス', en: 'NULL Pointer Dereference' },
  'CWE-502': {
    ja: '信頼できないデータのデシリアライゼーション',
    en: 'Deserialization of Untrusted Data',
  },
  'CWE-601': { ja: 'オープンリダイレクト', en: 'Open Redirect' },
  'CWE-611': {
    ja: 'XML 外部エンティティ参照の不適切な制限',
    en: 'Improper Restriction of XML External Entity Reference',
  },
  'CWE-674': { ja: '不適切な再帰制御', en: 'Uncontrolled Recursion' },
  'CWE-787': { ja: '境界外書き込み', en: 'Out-of-bounds Write' },
  'CWE-798': { ja: 'ハードコードされた認証情報の使用', en: 'Use of Hard-coded Credentials' },
  'CWE-862': { ja: '認可の欠如', en: 'Missing Authorization' },
  'CWE-Other': { ja: 'その他', en: 'Other' },
  'NVD-CWE-Other': { ja: 'その他', en: 'Other' },
  'NVD-CWE-noinfo': { ja: '情報不足', en: 'Insufficient Information' },
  'CWE-noinfo': { ja: '情報不足', en: 'Insufficient Information' },
};

export function cweName(id: string): string | undefined {
  const n = CWE_NAMES[id];
  return n ? `${n.ja} / ${n.en}` : undefined;
}

/**
 * Count registrations. Each record counts once per period, and once per CWE it names
 * (records without a CWE count as "CWE-noinfo", as JVN labels them).
 * @example countRegistrations([{ registered: '2017-12-31T14:30:00Z', cwes: [] }], 'quarter') // [{ key: '2017-Q4', count: 1 }]
 */
export function countRegistrations(
  rows: readonly { registered: string; cwes: readonly string[] }[],
  by: StatsBy,
  top?: number,
): StatsRow[] {
  const counts = new Map<string, number>();
  for (const r of rows) {
    const d = jstDate(r.registered);
    const keys =
      by === 'year'
        ? [String(d.year)]
        : by === 'quarter'
          ? [`${d.year}-Q${d.quarter}`]
          : r.cwes.length
            ? [...new Set(r.cwes)]
            : ['CWE-noinfo'];
    for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  let out: StatsRow[] = [...counts].map(([key, count]) => {
    const name = by === 'cwe' ? cweName(key) : undefined;
    return name ? { key, count, name } : { key, count };
  });
  const byCount = (a: StatsRow, b: StatsRow) => b.count - a.count || (a.key < b.key ? -1 : 1);
  if (by === 'cwe') out.sort(byCount);
  else out.sort((a, b) => (a.key < b.key ? -1 : 1));
  if (top !== undefined) {
    if (by === 'cwe') out = out.slice(0, top);
    else {
      const keep = new Set(
        [...out]
          .sort(byCount)
          .slice(0, top)
          .map((r) => r.key),
      );
      out = out.filter((r) => keep.has(r.key));
    }
  }
  return out;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A horizontal bar chart of the rows as a standalone SVG document. */
export function statsSvg(rows: readonly StatsRow[], title: string): string {
  const barH = 22;
  const labelW = 360;
  const chartW = 400;
  const top = 40;
  const max = Math.max(1, ...rows.map((r) => r.count));
  const h = top + rows.length * barH + 20;
  const bars = rows
    .map((r, i) => {
      const y = top + i * barH;
      const w = Math.max(1, Math.round((r.count / max) * chartW));
      const label = r.name ? `${r.key} ${r.name}` : r.key;
      return `<text x="${labelW - 6}" y="${y + 15}" text-anchor="end">${esc(label.length > 58 ? `${label.slice(0, 57)}…` : label)}</text><rect x="${labelW}" y="${y + 3}" width="${w}" height="${barH - 6}" fill="#3b6ea5"/><text x="${labelW + w + 4}" y="${y + 15}">${r.count}</text>`;
    })
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${labelW + chartW + 80}" height="${h}" font-family="sans-serif" font-size="12">
<title>${esc(title)}</title>
<text x="10" y="22" font-size="15" font-weight="bold">${esc(title)}</text>
${bars}
</svg>
`;
}

/**
 * The console's words in English and Japanese, chosen by a `lang` cookie (the switch) or else
 * Accept-Language. Only the console's own text: stored data (titles, summaries) is shown as is.
 */

export type Lang = 'en' | 'ja';

const JA: Record<string, string> = {
  Overview: '概要',
  Vulnerabilities: '脆弱性',
  Custody: 'カストディ',
  Tracing: '追跡',
  Exposure: '露出',
  Honeypot: 'ハニーポット',
  Bulletin: 'ニュース',
  Workers: 'ワーカー',
  'Sign in': 'サインイン',
  'Sign out': 'サインアウト',
  'User name': 'ユーザー名',
  Password: 'パスワード',
  'Signed in as': 'サインイン中',
  Alerts: 'アラート',
  Acknowledge: '確認済みにする',
  Assign: '担当を割り当て',
  Acknowledged: '確認済み',
  'Assigned to': '担当',
  'No alerts.': 'アラートはありません。',
  'Last sync per source': 'ソースごとの最終同期',
  'What needs you now': '今対応が必要なこと',
  Search: '検索',
  Findings: '検出結果',
  'Upload an SBOM or inventory': 'SBOM・インベントリをアップロード',
  Upload: 'アップロード',
  'Change password': 'パスワード変更',
  'Current password': '現在のパスワード',
  'New password': '新しいパスワード',
  Save: '保存',
  Language: '言語',
  'Skip to content': '本文へ移動',
  'Events per hour': '時間あたりのイベント数',
  'Live events': 'ライブイベント',
  'Registrations per quarter': '四半期ごとの登録数',
  'Registrations per CWE': 'CWEごとの登録数',
  'Approvals queue': '承認待ち',
  Severity: '深刻度',
  Package: 'パッケージ',
  Version: 'バージョン',
  'Fixed in': '修正版',
  Vulnerability: '脆弱性',
  Facets: 'ファセット',
  Host: 'ホスト',
  Services: 'サービス',
  'Screening log': 'スクリーニング履歴',
  Publish: '公開',
  Commentary: 'コメント',
  Status: '状態',
  'Watcher heartbeat': 'ウォッチャーの稼働状況',
  Freeze: '凍結',
  // passkeys and custody approvals
  Passkeys: 'パスキー',
  'A passkey signs custody approvals on your device. Its custody identity id goes into the signed genesis, and the offline cosigner verifies every approval it signs.':
    'パスキーはお使いの端末でカストディの承認に署名します。その識別子を署名済みジェネシスに登録すると、オフラインのコサイナーが承認ごとに署名を検証します。',
  'Your passkeys': 'あなたのパスキー',
  Name: '名前',
  'Custody identity': 'カストディ識別子',
  Registered: '登録日時',
  'Identity document': '識別子ドキュメント',
  'An admin lists it as an approver:': '管理者が承認者として登録します:',
  'No passkey yet.': 'パスキーはまだありません。',
  'Register a passkey': 'パスキーを登録',
  you: 'あなた',
  Since: '開始',
  'Freeze id': '凍結ID',
  'Unfreeze votes': '凍結解除の投票',
  'Vote to unfreeze with a passkey': 'パスキーで凍結解除に投票',
  'An approval is a passkey signature over the withdrawal statement; the offline cosigner verifies it again before it signs.':
    '承認は出金ステートメントへのパスキー署名です。オフラインのコサイナーが署名前に再検証します。',
  Wallet: 'ウォレット',
  Outputs: '出力',
  Requested: '申請',
  Approvals: '承認',
  'Waiting for': '承認待ちの承認者',
  Action: '操作',
  expires: '期限',
  'Approve with passkey': 'パスキーで承認',
  'CLI only (no trust root)': 'CLIのみ(トラストルートなし)',
  'Nothing waits for approval.': '承認待ちはありません。',
  'Withdrawal pipeline': '出金パイプライン',
  requested: '申請',
  approved: '承認済み',
  built: '作成済み',
  signed: '署名済み',
  broadcast: 'ブロードキャスト',
  confirmations: '承認数(ブロック)',
  height: '高さ',
  'No withdrawals yet.': '出金はまだありません。',
  'Balances over time': '残高の推移',
  'Balance per tier against the hot cap (BTC)': 'ティアごとの残高とホット上限(BTC)',
  'Last snapshot': '最新スナップショット',
  'Source health': 'ソースの状態',
  'Last fetch': '最終取得',
  Failures: '失敗回数',
  'Last error': '最後のエラー',
  'Articles per source': 'ソースごとの記事数',
  Issues: '号',
  'Taint flow': '汚染の流れ',
  Transactions: 'トランザクション',
  'Screen a deposit': '入金をスクリーニング',
  Screen: 'スクリーニング',
  'Screenings per verdict': '判定ごとのスクリーニング数',
  'Each area at a glance': '各領域の概況',
  'Findings by severity': '深刻度ごとの検出数',
  'Top ports': '上位ポート',
  'Hot float against its cap': 'ホットウォレット残高と上限',
  'Stories per day': '日ごとの記事数',
  'Guard matches': 'ガードの検知数',
  'Running now': '実行中',
  Guard: 'ガード',
  'Matches per hour (UTC)': '時間あたりの検知数 (UTC)',
  'Blocked vs logged requests': 'ブロックと記録のみのリクエスト',
  'Top rules': '検知の多いルール',
  'Top clients': '検知の多いクライアント',
  'Recent matches': '最近の検知',
  'Match detail': '検知の詳細',
  'Matches of this request': 'このリクエストの検知',
  'Matched variable': '一致した変数',
  'Matched data': '一致したデータ',
  Rule: 'ルール',
  Client: 'クライアント',
  Request: 'リクエスト',
  Time: '時刻',
  Message: 'メッセージ',
  Matches: '検知数',
  Blocked: 'ブロック',
  Logged: '記録のみ',
  matches: '件の検知',
  in: '／',
  requests: '件のリクエスト',
  blocked: 'ブロック',
  'logged only': '記録のみ',
  'anomaly score': '異常スコア',
  phase: 'フェーズ',
};

/** Pick the language: the cookie if set, else the first of Accept-Language we have. */
export function pickLang(cookie: string | undefined, acceptLanguage: string | undefined): Lang {
  if (cookie === 'ja' || cookie === 'en') return cookie;
  const prefs = (acceptLanguage ?? '')
    .split(',')
    .map((part) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.find((p) => p.trim().startsWith('q='));
      return { tag: (tag ?? '').toLowerCase(), q: q ? Number(q.trim().slice(2)) || 0 : 1 };
    })
    .filter((p) => p.tag)
    .sort((a, b) => b.q - a.q);
  for (const p of prefs) {
    if (p.tag === 'ja' || p.tag.startsWith('ja-')) return 'ja';
    if (p.tag === 'en' || p.tag.startsWith('en-')) return 'en';
  }
  return 'en';
}

/** Translate one of the console's phrases; unknown phrases stay in English. */
export function t(lang: Lang, text: string): string {
  return lang === 'ja' ? (JA[text] ?? text) : text;
}

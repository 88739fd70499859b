/** `mamori custody …` verbs. Owned by the custody area. */
import type { AreaSpec } from '../types.js';
import { notYet } from './_stub.js';

export const area: AreaSpec = {
  name: 'custody',
  summary: 'exchange custody: multisig tiers, PSBT signing, withdrawal policy, watcher',
  verbs: {
    key: notYet('key new|show', 'mamori custody key new [--out <file>]'),
    wallet: notYet(
      'wallet create|export',
      'mamori custody wallet create <name> --tier hot|warm|cold',
    ),
    address: notYet('address new|list', 'mamori custody address new <wallet>'),
    balance: notYet('balances per wallet', 'mamori custody balance [<wallet>]'),
    tiers: notYet('hot/warm/cold balances and the hot float', 'mamori custody tiers'),
    policy: notYet('policy set|show', 'mamori custody policy show'),
    withdraw: notYet(
      'withdraw request|approve|list|build',
      'mamori custody withdraw request <wallet>',
    ),
    psbt: notYet('psbt sign|combine|finalize|inspect', 'mamori custody psbt inspect <file>'),
    broadcast: notYet('broadcast a PSBT or transaction', 'mamori custody broadcast <psbt|tx>'),
    sweep: notYet(
      'sweep hot float above its cap',
      'mamori custody sweep <hot-wallet> --to-tier cold',
    ),
    watch: notYet('watch the chain and freeze on unapproved outflows', 'mamori custody watch'),
    unfreeze: notYet('lift a freeze with the approvers quorum', 'mamori custody unfreeze'),
    audit: notYet('audit verify', 'mamori custody audit verify'),
    node: notYet('node start|mine (bcoin regtest)', 'mamori custody node start --regtest'),
  },
};
